// Errors in both directions across the Swift↔Lua boundary.
import CLua

/// An error raised by Lua code and caught by a protected call that Swift made.
/// Unchecked Sendable: the error value may hold handles into a Lua state, which, like the state, are
/// used on the state's own thread only.
public struct LuaError: Error, @unchecked Sendable, CustomStringConvertible {
    /// Why the protected call failed (Lua 5.4 manual §4.4.1, status codes).
    public enum Status: Sendable, Equatable {
        case runtime, syntax, memory, messageHandler, file, other(Int32)

        init(code: Int32) {
            switch code {
            case LUA_ERRRUN: self = .runtime
            case LUA_ERRSYNTAX: self = .syntax
            case LUA_ERRMEM: self = .memory
            case LUA_ERRERR: self = .messageHandler
            case LUA_ERRERR + 1: self = .file   // LUA_ERRFILE is (LUA_ERRERR+1), a macro Swift cannot import
            default: self = .other(code)
            }
        }
    }

    public var status: Status
    /// The error value as plain data, for Swift to read: a table is a copy, without its metatable
    /// (and nil if it contains itself).
    public var value: LuaValue
    /// The raised table itself, held in the registry, so that raising it again gives the caller
    /// the very same table (`rawequal`, metatable and all), not a copy; nil for other values.
    public var table: LuaRef?
    /// The value to raise again to propagate this error unchanged: the table itself, else `value`.
    public var raisable: LuaValue { table.map { .reference($0) } ?? value }
    /// The error value as text (`tostring` semantics); for `error("x")` this is "chunk:line: x".
    public var message: String
    /// "stack traceback:\n\t..." with file:line frames, when the call ran under LuaKit's handler.
    public var traceback: String?

    public init(status: Status, value: LuaValue, message: String, traceback: String? = nil, table: LuaRef? = nil) {
        self.status = status
        self.value = value
        self.table = table
        self.message = message
        self.traceback = traceback
    }

    public var description: String {
        guard let traceback, !traceback.isEmpty else { return message }
        return message + "\n" + traceback
    }
}

/// Thrown by a Swift function registered with Lua to make the calling script see an error.
///
/// The error is not raised while Swift is running: the function returns, and LuaKit's C trampoline
/// raises it once no Swift frame is left on the C stack (lua_error longjmps).
/// Unchecked Sendable for the same reason as `LuaError`.
public enum LuaRaise: Error, @unchecked Sendable, Equatable {
    /// `bad argument #index to 'name' (message)`, named as the call site names the function (as
    /// Lua's `luaL_argerror` does, `self` discounted for method calls), or by its declared name
    /// where Lua knows none (e.g. `pcall(obj.method, obj, x)`).
    case argument(Int32, String)
    /// A message prefixed with the caller's position, like `error(message)` in Lua.
    case message(String)
    /// Any Lua value, raised as it is (no position is added).
    case value(LuaValue)
}
