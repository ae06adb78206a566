#ifndef CLUASHIM_H
#define CLUASHIM_H
// LuaKit's C shim. Two jobs:
//  1. Expose Lua's function-like macros (lua_pop, lua_pcall, lua_upvalueindex, ...) and variadic
//     functions (lua_gc) as real functions, because Swift imports neither.
//  2. Keep lua_error's longjmp out of Swift frames. Swift functions registered with Lua are reached
//     through one C trampoline: the trampoline calls the Swift dispatcher, the dispatcher returns a
//     status, and only after every Swift frame has returned does the trampoline raise (Lua 5.4
//     manual §4.4 "C functions": errors are raised by longjmp unless Lua is compiled as C++).
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>

// Negative results of the Swift dispatcher; non-negative results are the number of return values.
enum {
    // The top of the stack is a message; the caller's position ("chunk:line: ") is prefixed.
    LUASHIM_RAISE_MESSAGE = -1,
    // The top of the stack is an error value raised unchanged (e.g. an error propagated from a
    // Lua callback that Swift called with a protected call).
    LUASHIM_RAISE_VALUE = -3,
};

typedef int (*luashim_dispatch_fn)(lua_State *L, void *target);

/// Installs the one Swift dispatcher that every Swift function registered with Lua goes through.
void luashim_set_dispatch(luashim_dispatch_fn dispatch);
/// Pushes a Lua function that calls the dispatcher with `target` (held as a light userdata upvalue).
void luashim_push_swift_function(lua_State *L, void *target);
/// The message handler for protected calls: keeps the error value and stores a traceback (with
/// file:line frames) in the registry under LUASHIM_TRACEBACK_KEY.
#define LUASHIM_TRACEBACK_KEY "luakit.traceback"
void luashim_push_traceback_handler(lua_State *L);

// Macros as functions.
int luashim_registryindex(void);
int luashim_upvalueindex(int i);
void luashim_pop(lua_State *L, int n);
void luashim_newtable(lua_State *L);
void luashim_insert(lua_State *L, int idx);
void luashim_remove(lua_State *L, int idx);
void luashim_replace(lua_State *L, int idx);
int luashim_pcall(lua_State *L, int nargs, int nresults, int msgh);
int luashim_loadbuffer(lua_State *L, const char *buffer, size_t size, const char *name);
int luashim_loadfile(lua_State *L, const char *path);
void *luashim_getextraspace(lua_State *L);
int luashim_getmetatable_named(lua_State *L, const char *name);
const char *luashim_typename(lua_State *L, int idx);
void luashim_pushglobaltable(lua_State *L);

// lua_gc is variadic; these are the uses LuaKit needs.
/// Bytes of memory in use by the state (LUA_GCCOUNT * 1024 + LUA_GCCOUNTB).
long long luashim_memory_in_use(lua_State *L);
/// A full garbage-collection cycle.
void luashim_collect_garbage(lua_State *L);
/// An incremental collection step, as if `kilobytes` KiB had been allocated (LUA_GCSTEP).
void luashim_collect_step(lua_State *L, int kilobytes);

/// Catches SIGINT (Ctrl-C) as the standalone `lua` interpreter does: the first one sets the flag
/// below and makes Lua code running in `L` (which may be NULL: no Lua state) raise "interrupted!"
/// at its next call, return or instruction; the second ends the process.
void luashim_catch_interrupt(lua_State *L);
/// Forgets `L` as the state Ctrl-C interrupts (before it is closed); the flag stays.
void luashim_release_interrupt(lua_State *L);
/// Nonzero once SIGINT arrived after `luashim_catch_interrupt` (for hosts that poll, such as a
/// simulator's run loop).
const volatile sig_atomic_t *luashim_interrupt_flag(void);

/// Catches SIGINT, SIGTERM and SIGHUP for a host that must clean up before it ends (a test runner
/// with child processes and a scratch folder), and polls: the first one is noted (see below) and
/// its default action restored, so a second ends the process at once. A signal the process
/// inherited as ignored (`nohup`, a background job of a shell without job control) stays ignored.
void luashim_catch_termination(void);
/// The signal number of the first signal `luashim_catch_termination` caught, or 0.
int luashim_termination_signal(void);

/// Pushes the name the running C function was called by, as luaL_argerror finds it (the call site's
/// name, else a field of a loaded module holding the function) and returns 1; returns 0 and pushes
/// nothing when Lua knows no name (where luaL_argerror would say '?').
int luashim_push_callee_name(lua_State *L);
/// Whether the running C function was called with method syntax (`obj:f()`).
int luashim_called_as_method(lua_State *L);
/// Pushes the type name used in Lua's "X expected, got Y" messages (honours `__name`).
void luashim_push_error_typename(lua_State *L, int idx);
/// Pushes luaL_tolstring(idx) computed under a protected call; returns a status (LUA_OK or an error,
/// in which case the error message is pushed instead).
int luashim_protected_tostring(lua_State *L, int idx);

#endif
