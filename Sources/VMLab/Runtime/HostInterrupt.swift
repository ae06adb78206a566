import LuaKit
import Machine

/// Ctrl-C on the command line. The first one stops every machine at its next slice
/// (`Machine.hostInterrupt`: `run` returns the stop "halted", message "interrupted") and, under
/// `vmlab run`, makes the lab's Lua code raise "interrupted!" with a traceback where it was, as
/// the standalone `lua` interpreter does. A second one before that error is raised ends the
/// process; a script that catches the error goes on, and its machines run again.
public enum HostInterrupt {
    /// For a lab: Lua code in `lua` is interrupted too.
    static func catchInterrupt(in lua: LuaState) {
        lua.catchInterrupt()
        Machine.hostInterrupt = LuaState.interruptFlag
    }

    /// For a host that runs no Lua (`vmlab boot`).
    public static func catchInterrupt() {
        LuaState.catchInterruptWithoutLua()
        Machine.hostInterrupt = LuaState.interruptFlag
    }
}
