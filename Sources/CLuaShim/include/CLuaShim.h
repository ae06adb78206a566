#ifndef CLUASHIM_H
#define CLUASHIM_H
// Placeholder: LuaKit's C shim (function-like macros, error trampolines) lands here.
int vmlab_clua_shim_version(void);
#endif
