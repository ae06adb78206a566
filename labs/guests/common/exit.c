#include "baremetal.h"
/* Called by crt0.S with main's return value. */
__attribute__((noreturn)) void baremetal_exit(int code) { syscon_exit((uint32_t)code); }
