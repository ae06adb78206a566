import CLua
import CLuaShim

/// The arguments of one call from Lua into a Swift function, with typed accessors that raise Lua's
/// standard argument errors. Valid only during the call.
public struct LuaCall {
    public let L: OpaquePointer
    public let function: LuaFunction

    init(_ L: OpaquePointer, function: LuaFunction) {
        self.L = L
        self.function = function
    }

    /// The state that owns this call, for pushing objects or holding references.
    public var state: LuaState { LuaState.owner(of: L) }

    /// The number of arguments passed.
    public var count: Int32 { lua_gettop(L) }

    /// The function's name as Lua's argument errors give it: as the call site spells it, else as
    /// a loaded module holds it (`vmlab.hex`); where Lua knows no name (a method value passed to
    /// `pcall`, say) and would say '?', the name the function was declared with.
    public var calleeName: String {
        guard luashim_push_callee_name(L) != 0 else { return function.name }
        defer { luashim_pop(L, 1) }
        return String(decoding: LuaState.bytes(L, -1), as: UTF8.self)
    }

    /// The text of an argument error, by `luaL_argerror`'s rules but for the name (``calleeName``,
    /// never '?'): a method call (`obj:f(x)`) does not count `self`, so its argument `index` is
    /// `#index - 1`, and a problem with `self` itself reads "calling 'f' on bad self".
    func argumentErrorMessage(_ index: Int32, _ problem: String) -> String {
        var number = index
        if luashim_called_as_method(L) != 0 {
            number -= 1
            if number == 0 { return "calling '\(calleeName)' on bad self (\(problem))" }
        }
        return "bad argument #\(number) to '\(calleeName)' (\(problem))"
    }

    /// Whether argument `index` is absent or nil.
    public func isNil(_ index: Int32) -> Bool { index > count || lua_type(L, index) <= LUA_TNIL }

    func require(_ index: Int32, _ type: LuaType) throws {
        if let problem = type.problem(L, index) { throw LuaRaise.argument(index, problem) }
    }

    // MARK: Typed accessors (each checks, so a body never reads a value of the wrong type)

    public func integer(_ index: Int32) throws -> Int64 {
        try require(index, .integer)
        return lua_tointegerx(L, index, nil)
    }

    /// The integer's 64-bit pattern: -1 in Lua is 0xFFFF_FFFF_FFFF_FFFF here.
    public func uint64(_ index: Int32) throws -> UInt64 { UInt64(bitPattern: try integer(index)) }

    public func number(_ index: Int32) throws -> Double {
        try require(index, .number)
        return lua_tonumberx(L, index, nil)
    }

    public func string(_ index: Int32) throws -> String {
        String(decoding: try bytes(index), as: UTF8.self)
    }

    public func bytes(_ index: Int32) throws -> [UInt8] {
        try require(index, .string)
        return LuaState.bytes(L, index)
    }

    public func boolean(_ index: Int32) throws -> Bool {
        try require(index, .boolean)
        return lua_toboolean(L, index) != 0
    }

    /// The argument converted to plain data (tables copied recursively).
    public func value(_ index: Int32) throws -> LuaValue {
        if index > count { return .nil }
        return try state.value(at: index, on: L)
    }

    public func object<T: LuaObject>(_ index: Int32, as type: T.Type = T.self) throws -> T {
        try require(index, .object(T.luaClass.name))
        guard let object = LuaObjects.object(L, index) as? T else {
            throw LuaRaise.argument(index, "\(T.luaClass.name) has been collected")
        }
        return object
    }

    public func optionalInteger(_ index: Int32) throws -> Int64? { isNil(index) ? nil : try integer(index) }
    public func optionalString(_ index: Int32) throws -> String? { isNil(index) ? nil : try string(index) }
    public func optionalNumber(_ index: Int32) throws -> Double? { isNil(index) ? nil : try number(index) }
    public func optionalBoolean(_ index: Int32) throws -> Bool? { isNil(index) ? nil : try boolean(index) }

    /// A function (or any value) argument held past the call, e.g. a callback.
    public func reference(_ index: Int32) throws -> LuaRef {
        try require(index, .any)
        return state.reference(at: index, on: L)
    }

    /// Calls a Lua function (or callable value) from inside this call, protected, on the calling
    /// thread's stack (which may be a coroutine's). A Lua error comes back as a thrown `LuaError`;
    /// rethrowing it from the body re-raises the original error value in the caller.
    public func call(_ function: LuaValue, _ args: [LuaValue] = []) throws(LuaError) -> [LuaValue] {
        try state.call(function, args, on: L)
    }

    // MARK: Options tables and choices

    /// The options table at `index`, checked against the declared options of that parameter.
    /// Values arrive converted to their declared type, as Lua converts arguments: an `.integer`
    /// option given as 2.0 or "2" reads as `.integer(2)`, a `.string` option given as 3 as "3".
    public func options(_ index: Int32) throws -> LuaOptions {
        let declared = Int(index) - 1
        guard declared < function.parameters.count, case .options = function.parameters[declared].type
        else { preconditionFailure("parameter \(index) of '\(function.name)' is not declared as options") }
        return try options(index, as: function.parameters[declared].type)
    }

    /// The options table at `index`, checked against `type` (an `.options` type), for a parameter
    /// declared as options or something else (`.oneOf`) once the body has decided it holds options.
    public func options(_ index: Int32, as type: LuaType) throws -> LuaOptions {
        guard case .options(_, let options) = type else { preconditionFailure("options(_:as:) needs an .options type") }
        if isNil(index) { return LuaOptions(values: [:], declared: options) }
        let declared = Int(index) - 1
        try validate(type, at: index, argument: index,
                     what: declared < function.parameters.count ? function.parameters[declared].name : "options", context: "")
        let table = lua_absindex(L, index)
        _ = lua_checkstack(L, 4)
        var values: [String: LuaValue] = [:]
        for option in options {
            lua_pushstring(L, option.name)
            lua_rawget(L, table)
            defer { luashim_pop(L, 1) }
            let top = lua_gettop(L)
            guard lua_type(L, top) != LUA_TNIL else { continue }
            switch option.type {
            case .integer: values[option.name] = .integer(lua_tointegerx(L, top, nil))
            case .number: values[option.name] = .number(lua_tonumberx(L, top, nil))
            case .string, .choice:
                let bytes = LuaState.bytes(L, top)   // a number converts in place, on our own copy
                values[option.name] = String(validating: bytes, as: UTF8.self).map { .string($0) } ?? .bytes(bytes)
            default: values[option.name] = try state.value(at: top, on: L)
            }
        }
        return LuaOptions(values: values, declared: options)
    }

    static func unknownChoice(_ what: String, _ value: String, _ names: [String]) -> String {
        "unknown \(what) '\(value)' (expected one of: \(names.joined(separator: ", ")))"
    }
}

/// A checked options table, read by name with typed accessors.
public struct LuaOptions {
    public let values: [String: LuaValue]
    let declared: [LuaOption]

    public subscript(name: String) -> LuaValue {
        precondition(declared.contains { $0.name == name }, "option '\(name)' is not declared")
        return values[name] ?? .nil
    }

    public func integer(_ name: String) -> Int64? { self[name].int64 }
    public func uint64(_ name: String) -> UInt64? { self[name].uint64 }
    public func number(_ name: String) -> Double? { self[name].double }
    public func string(_ name: String) -> String? { self[name].string }
    public func boolean(_ name: String) -> Bool? { self[name].bool }
}
