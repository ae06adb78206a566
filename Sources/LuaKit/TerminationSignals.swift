import CLuaShim

/// SIGINT, SIGTERM and SIGHUP for a host that must clean up before it ends, such as a test runner
/// whose workers run in process groups of their own (so the terminal's Ctrl-C reaches only the
/// runner) and write to a scratch folder (CLuaShim.c: the handler only notes the signal; the host
/// polls). Beside Ctrl-C for Lua (`LuaState+Interrupt.swift`) because both live in the one C shim.
public enum TerminationSignals {
    /// From now on the first of these signals is noted rather than ending the process; a second
    /// ends it. Signals the process inherited as ignored stay ignored.
    public static func catchThem() { luashim_catch_termination() }

    /// The first signal caught since `catchThem`, or nil.
    public static var received: Int32? {
        let n = luashim_termination_signal()
        return n == 0 ? nil : n
    }
}
