#include "CLuaShim.h"
int vmlab_clua_shim_version(void) { return 1; }
