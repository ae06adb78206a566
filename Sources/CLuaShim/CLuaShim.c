// See include/CLuaShim.h for why this file exists.
#include "CLuaShim.h"
#include <pthread.h>
#include <signal.h>
#include <string.h>

static luashim_dispatch_fn swift_dispatch = NULL;

void luashim_set_dispatch(luashim_dispatch_fn dispatch) { swift_dispatch = dispatch; }

// The trampoline: the only C function Lua sees for every Swift function. By the time it raises,
// the Swift dispatcher has returned, so no Swift frame is skipped by the longjmp.
static int trampoline(lua_State *L) {
    void *target = lua_touserdata(L, lua_upvalueindex(1));
    int status = swift_dispatch(L, target);
    if (status >= 0) return status;
    switch (status) {
    case LUASHIM_RAISE_MESSAGE:
        // As luaL_error (and so luaL_argerror) raises a message.
        luaL_where(L, 1);           // "chunk:line: " of the Lua code that called us
        lua_insert(L, -2);
        lua_concat(L, 2);
        return lua_error(L);
    default:
        return lua_error(L);
    }
}

void luashim_push_swift_function(lua_State *L, void *target) {
    lua_pushlightuserdata(L, target);
    lua_pushcclosure(L, trampoline, 1);
}

// Message handler for LuaKit's protected calls. It leaves the error value unchanged (so Swift can
// re-raise it exactly) and stores a traceback of the failing stack in the registry under
// LUASHIM_TRACEBACK_KEY, where LuaKit picks it up after lua_pcall returns.
static int traceback_handler(lua_State *L) {
    luaL_traceback(L, L, NULL, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, LUASHIM_TRACEBACK_KEY);
    lua_settop(L, 1);
    return 1;
}

void luashim_push_traceback_handler(lua_State *L) { lua_pushcfunction(L, traceback_handler); }

int luashim_registryindex(void) { return LUA_REGISTRYINDEX; }
int luashim_upvalueindex(int i) { return lua_upvalueindex(i); }
void luashim_pop(lua_State *L, int n) { lua_pop(L, n); }
void luashim_newtable(lua_State *L) { lua_newtable(L); }
void luashim_insert(lua_State *L, int idx) { lua_insert(L, idx); }
void luashim_remove(lua_State *L, int idx) { lua_remove(L, idx); }
void luashim_replace(lua_State *L, int idx) { lua_replace(L, idx); }
int luashim_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    return lua_pcall(L, nargs, nresults, msgh);
}
int luashim_loadbuffer(lua_State *L, const char *buffer, size_t size, const char *name) {
    return luaL_loadbufferx(L, buffer, size, name, NULL);
}
int luashim_loadfile(lua_State *L, const char *path) { return luaL_loadfilex(L, path, NULL); }
void *luashim_getextraspace(lua_State *L) { return lua_getextraspace(L); }
int luashim_getmetatable_named(lua_State *L, const char *name) { return luaL_getmetatable(L, name); }
const char *luashim_typename(lua_State *L, int idx) { return luaL_typename(L, idx); }
void luashim_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }

long long luashim_memory_in_use(lua_State *L) {
    return (long long)lua_gc(L, LUA_GCCOUNT) * 1024 + lua_gc(L, LUA_GCCOUNTB);
}
void luashim_collect_garbage(lua_State *L) { lua_gc(L, LUA_GCCOLLECT); }
void luashim_collect_step(lua_State *L, int kilobytes) { lua_gc(L, LUA_GCSTEP, kilobytes); }

// Where Lua looks when a call site gives a function no name (luaL_argerror and luaL_traceback do,
// Lua 5.4 lauxlib): among the loaded modules, package.loaded[m] itself or a field package.loaded[m][k]
// that is the function, named "m" or "m.k" ("k" alone for m = "_G"). Pushes the name and returns 1,
// or pushes nothing and returns 0. `function` is an absolute index.
static int push_loaded_name(lua_State *L, int function) {
    if (!lua_checkstack(L, 6)) return 0;
    int top = lua_gettop(L);
    if (lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE) != LUA_TTABLE) {
        lua_settop(L, top);
        return 0;
    }
    int loaded = top + 1;
    lua_pushnil(L);
    while (lua_next(L, loaded)) {                  // module name at top + 2, module at top + 3
        if (lua_type(L, top + 2) == LUA_TSTRING) {
            if (lua_rawequal(L, top + 3, function)) {
                lua_pushvalue(L, top + 2);
                break;
            }
            if (lua_type(L, top + 3) == LUA_TTABLE) {
                lua_pushnil(L);
                int found = 0;
                while (lua_next(L, top + 3)) {     // field name at top + 4, value at top + 5
                    if (lua_type(L, top + 4) == LUA_TSTRING && lua_rawequal(L, top + 5, function)) {
                        found = 1;
                        break;
                    }
                    lua_pop(L, 1);
                }
                if (found) {
                    const char *module = lua_tostring(L, top + 2);
                    if (strcmp(module, LUA_GNAME) == 0) lua_pushvalue(L, top + 4);
                    else lua_pushfstring(L, "%s.%s", module, lua_tostring(L, top + 4));
                    break;
                }
            }
        }
        lua_pop(L, 1);
    }
    if (lua_gettop(L) == top + 1) {                // nothing found: only the loaded table is left
        lua_settop(L, top);
        return 0;
    }
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return 1;
}

int luashim_push_callee_name(lua_State *L) {
    lua_Debug ar;
    if (!lua_getstack(L, 0, &ar) || !lua_checkstack(L, 2)) return 0;
    lua_getinfo(L, "nf", &ar);                     // pushes the running function
    int function = lua_gettop(L);
    if (ar.name != NULL) {
        lua_pushstring(L, ar.name);
    } else if (!push_loaded_name(L, function)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_remove(L, function);
    return 1;
}

int luashim_called_as_method(lua_State *L) {
    lua_Debug ar;
    if (!lua_getstack(L, 0, &ar)) return 0;
    lua_getinfo(L, "n", &ar);
    return ar.namewhat != NULL && strcmp(ar.namewhat, "method") == 0;
}

// Lua 5.4 manual §5.4.1 (luaL_typeerror): the type name is the `__name` metafield when it is a
// string, "light userdata" for light userdata, else the basic type name.
void luashim_push_error_typename(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    int type = luaL_getmetafield(L, idx, "__name");   // pushes nothing when it returns LUA_TNIL
    if (type == LUA_TSTRING) return;
    if (type != LUA_TNIL) lua_pop(L, 1);
    if (lua_type(L, idx) == LUA_TLIGHTUSERDATA) {
        lua_pushliteral(L, "light userdata");
    } else {
        lua_pushstring(L, luaL_typename(L, idx));
    }
}

static int tostring_body(lua_State *L) {
    luaL_tolstring(L, 1, NULL);
    return 1;
}

int luashim_protected_tostring(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, tostring_body);
    lua_pushvalue(L, idx);
    return lua_pcall(L, 1, 1, 0);
}

// Interrupts (Ctrl-C), as the standalone `lua` interpreter handles them (lua.c, laction): the
// signal handler only sets a flag and a hook, because nothing else may touch a Lua state from a
// signal handler; the hook raises the error at the next call, return or instruction of Lua code,
// where a longjmp crosses no Swift frame. The handler restores the default action first, so a
// second Ctrl-C before the first is raised ends the process at once. Once raised, the interrupt
// is spent: the flag is cleared and Ctrl-C armed again, so a script that catches the error goes on
// as after any other (its machines run again) and the next Ctrl-C interrupts it again.
static lua_State *volatile interrupt_target = NULL;
static volatile sig_atomic_t interrupt_flag = 0;

static void on_interrupt(int signal_number);

static void interrupt_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    interrupt_flag = 0;
    signal(SIGINT, on_interrupt);
    luaL_error(L, "interrupted!");
}

static void on_interrupt(int signal_number) {
    signal(signal_number, SIG_DFL);
    interrupt_flag = 1;
    lua_State *L = interrupt_target;
    if (L != NULL) lua_sethook(L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void luashim_catch_interrupt(lua_State *L) {
    interrupt_target = L;
    interrupt_flag = 0;
    signal(SIGINT, on_interrupt);
    // A process started from a thread that blocks signals (a thread pool's worker, as test
    // runners use) inherits the block, and Ctrl-C would never arrive.
    sigset_t interrupt_only;
    sigemptyset(&interrupt_only);
    sigaddset(&interrupt_only, SIGINT);
    pthread_sigmask(SIG_UNBLOCK, &interrupt_only, NULL);
}

void luashim_release_interrupt(lua_State *L) {
    if (interrupt_target == L) interrupt_target = NULL;
}

const volatile sig_atomic_t *luashim_interrupt_flag(void) { return &interrupt_flag; }

static volatile sig_atomic_t termination_signal = 0;

static void on_termination(int signal_number) {
    signal(signal_number, SIG_DFL);
    if (termination_signal == 0) termination_signal = signal_number;
}

void luashim_catch_termination(void) {
    const int signals[] = { SIGINT, SIGTERM, SIGHUP };
    sigset_t caught;
    sigemptyset(&caught);
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction current;
        if (sigaction(signals[i], NULL, &current) == 0 && current.sa_handler == SIG_IGN) continue;
        signal(signals[i], on_termination);
        sigaddset(&caught, signals[i]);
    }
    // As for Ctrl-C above: a blocked signal would never arrive.
    pthread_sigmask(SIG_UNBLOCK, &caught, NULL);
}

int luashim_termination_signal(void) { return termination_signal; }
