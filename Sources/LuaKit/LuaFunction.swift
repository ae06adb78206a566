import CLua
import CLuaShim

/// A Swift function callable from Lua, described declaratively: its name, typed parameters and
/// returns are data, so argument errors are uniform and the same description generates editor
/// annotations and reference docs.
///
///     LuaFunction("hex", summary: "Unsigned hexadecimal text of a 64-bit integer.",
///                 parameters: [.required("x", .integer)], returns: [LuaReturn(.string)]) { call in
///         [.string(String(try call.uint64(1), radix: 16))]
///     }
///
/// Before the body runs, every declared parameter is checked; a failure raises
/// `bad argument #n to 'name' (T expected, got U)` in the calling script.
public final class LuaFunction: Hashable, Sendable {
    public typealias Body = @Sendable (LuaCall) throws -> [LuaValue]

    public let name: String
    public let summary: String
    public let parameters: [LuaParameter]
    public let returns: [LuaReturn]
    /// Nil for a function implemented in Lua and only described here (for annotations and docs).
    public let body: Body?

    public init(_ name: String, summary: String = "", parameters: [LuaParameter] = [],
                returns: [LuaReturn] = [], body: Body?) {
        self.name = name
        self.summary = summary
        self.parameters = parameters
        self.returns = returns
        self.body = body
    }

    /// A description without a Swift body: the function is defined by Lua code.
    public static func described(_ name: String, summary: String = "", parameters: [LuaParameter] = [],
                                 returns: [LuaReturn] = []) -> LuaFunction {
        LuaFunction(name, summary: summary, parameters: parameters, returns: returns, body: nil)
    }

    /// A method of the userdata class `className`: parameter 1 is `self`, checked to be such an
    /// object (a wrong `self` reads "calling 'run' on bad self"), followed by `parameters`.
    public static func method(_ name: String, of className: String, summary: String = "",
                              parameters: [LuaParameter] = [], returns: [LuaReturn] = [],
                              body: @escaping Body) -> LuaFunction {
        LuaFunction(name, summary: summary, parameters: [.required("self", .object(className))] + parameters,
                    returns: returns, body: body)
    }

    public static func == (a: LuaFunction, b: LuaFunction) -> Bool { a === b }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }

    /// Runs under the trampoline: checks the declared parameters, runs the body, pushes its results.
    /// Returns the number of results or a LUASHIM_RAISE_* status with the error on the stack.
    func invoke(_ L: OpaquePointer) -> Int32 {
        let call = LuaCall(L, function: self)
        do {
            for (i, parameter) in parameters.enumerated() {
                try call.check(Int32(i + 1), parameter)
            }
            guard let body else { throw LuaRaise.message("'\(name)' has no implementation") }
            let results = try body(call)
            guard lua_checkstack(L, Int32(results.count) + 4) != 0 else {
                throw LuaRaise.message("too many results from '\(name)'")
            }
            if !results.isEmpty {
                // Only looked up when needed: __gc bodies run during lua_close, inside the state's deinit.
                let state = LuaState.owner(of: L)
                for value in results { state.push(value, on: L) }
            }
            return Int32(results.count)
        } catch let raise as LuaRaise {
            return LuaFunction.stage(raise, call)
        } catch let error as LuaError {
            return LuaFunction.stage(.value(error.raisable), call)
        } catch {
            return LuaFunction.stage(.message(String(describing: error)), call)
        }
    }

    /// Leaves the error on the stack for the trampoline and says how to raise it.
    static func stage(_ raise: LuaRaise, _ call: LuaCall) -> Int32 {
        let L = call.L
        _ = lua_checkstack(L, 4)
        switch raise {
        case .argument(let index, let problem):
            // Worded here, where the function's declared name is at hand for a call Lua cannot
            // name, and raised as luaL_argerror raises: a message after the caller's position.
            LuaState.pushString(L, call.argumentErrorMessage(index, problem))
            return Int32(LUASHIM_RAISE_MESSAGE)
        case .message(let message):
            LuaState.pushString(L, message)
            return Int32(LUASHIM_RAISE_MESSAGE)
        case .value(let value):
            LuaState.owner(of: L).push(value, on: L)
            return Int32(LUASHIM_RAISE_VALUE)
        }
    }
}

/// The one dispatcher the C trampoline calls. It must never let a Swift error or a Lua error escape:
/// everything becomes a status for the trampoline.
let luaKitDispatch: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { L, target in
    guard let L, let target else { return 0 }
    let function = Unmanaged<LuaFunction>.fromOpaque(target).takeUnretainedValue()
    return function.invoke(L)
}
