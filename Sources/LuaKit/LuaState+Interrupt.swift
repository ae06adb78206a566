import CLuaShim

// Ctrl-C, as the standalone `lua` interpreter handles it (CLuaShim.c): the first SIGINT makes the
// Lua code running in the state raise "interrupted!" (with the usual traceback) and sets a flag a
// host can poll from its own long-running Swift code; a second one before the error is raised ends
// the process. Raising the error clears the flag and arms Ctrl-C again (a script may catch it).

extension LuaState {
    /// Makes Ctrl-C interrupt Lua code running in this state. Only one state at a time is the
    /// target (the last one asked); closing it releases the signal's hold on it.
    public func catchInterrupt() { luashim_catch_interrupt(L) }

    /// Catches Ctrl-C for a host that runs no Lua: only the flag is set.
    public static func catchInterruptWithoutLua() { luashim_catch_interrupt(nil) }

    /// Nonzero once Ctrl-C arrived after `catchInterrupt` or `catchInterruptWithoutLua`, until the
    /// Lua state it interrupts raises "interrupted!". Written by the signal handler, so read it
    /// through the pointer each time.
    public static var interruptFlag: UnsafePointer<Int32> { UnsafePointer(luashim_interrupt_flag()) }
}
