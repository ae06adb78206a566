import CLua
import CLuaShim

/// The type of a declared parameter, option or return value. It drives argument checking (with
/// Lua's standard messages) and the editor annotations generated from an API description.
public indirect enum LuaType: Sendable {
    /// Any value, nil included (a missing required argument is still "value expected").
    case any
    case boolean
    /// An integer; floats with an exact integer value and numeric strings convert, as in Lua.
    case integer
    case number
    /// A string; numbers convert, as in Lua.
    case string
    case table
    case function
    /// A userdata of the named LuaKit class (e.g. "vmlab.VM").
    case object(String)
    /// A table of named options; unknown names are rejected, each value is checked.
    /// `name` is the annotation class name (e.g. "vmlab.VMOptions").
    case options(name: String, [LuaOption])
    /// A string from a fixed set, e.g. a mode name.
    case choice([String])
    /// Any of several types.
    case oneOf([LuaType])
    /// A sequence whose items have one type (checked as a table; items are checked when read).
    case list(LuaType)
    /// Documentation only: an annotation type that is not checked (e.g. a class defined in Lua).
    case documented(String)
    /// A table whose fields an annotation class documents (e.g. "vmlab.FaultSpec"): checked only
    /// as a table, so that a missing argument reads "table expected, got no value".
    case documentedTable(String)

    /// The LuaLS annotation spelling.
    public var annotation: String {
        switch self {
        case .any: "any"
        case .boolean: "boolean"
        case .integer: "integer"
        case .number: "number"
        case .string: "string"
        case .table: "table"
        case .function: "function"
        case .object(let name): name
        case .options(let name, _): name
        case .choice(let names): names.map { "\"\($0)\"" }.joined(separator: "|")
        case .oneOf(let types): types.map(\.annotation).joined(separator: "|")
        // `string|T[]` would read as "a string, or a list of T": a union item needs parentheses.
        case .list(.oneOf(let types)) where types.count > 1: "(\(LuaType.oneOf(types).annotation))[]"
        case .list(.choice(let names)) where names.count > 1: "(\(LuaType.choice(names).annotation))[]"
        case .list(let item): "\(item.annotation)[]"
        case .documented(let name), .documentedTable(let name): name
        }
    }

    /// The word in "X expected, got Y".
    var expectedName: String {
        switch self {
        case .any: "value"
        case .options: "table"
        case .choice: "string"
        case .list: "table"
        case .oneOf(let types): types.map(\.expectedName).joined(separator: " or ")
        case .documented: "value"
        case .documentedTable: "table"
        default: annotation
        }
    }

    /// Checks the value at stack index `idx` (absolute). Returns the message part of a standard
    /// argument error, or nil when the value is acceptable. Never raises.
    func problem(_ L: OpaquePointer, _ idx: Int32) -> String? {
        let present = idx <= lua_gettop(L)
        let type = present ? lua_type(L, idx) : LUA_TNONE
        switch self {
        case .any, .documented:
            return type == LUA_TNONE ? "value expected" : nil
        case .boolean:
            return type == LUA_TBOOLEAN ? nil : mismatch(L, idx)
        case .integer:
            if type == LUA_TNUMBER || type == LUA_TSTRING {
                var isInteger: Int32 = 0
                _ = lua_tointegerx(L, idx, &isInteger)
                if isInteger != 0 { return nil }
                if lua_isnumber(L, idx) != 0 { return "number has no integer representation" }
            }
            return mismatch(L, idx)
        case .number:
            return (type == LUA_TNUMBER || (type == LUA_TSTRING && lua_isnumber(L, idx) != 0))
                ? nil : mismatch(L, idx)
        case .string:
            return (type == LUA_TSTRING || type == LUA_TNUMBER) ? nil : mismatch(L, idx)
        case .table, .list, .options, .documentedTable:
            return type == LUA_TTABLE ? nil : mismatch(L, idx)
        case .function:
            return type == LUA_TFUNCTION ? nil : mismatch(L, idx)
        case .object(let name):
            return present && luaL_testudata(L, idx, name) != nil ? nil : mismatch(L, idx)
        case .choice:
            return type == LUA_TSTRING ? nil : mismatch(L, idx)
        case .oneOf(let types):
            return types.contains { $0.problem(L, idx) == nil } ? nil : mismatch(L, idx)
        }
    }

    private func mismatch(_ L: OpaquePointer, _ idx: Int32) -> String {
        "\(expectedName) expected, got \(LuaType.errorTypeName(L, idx))"
    }

    /// The name Lua's "X expected, got Y" uses for a value: `__name` when the metatable has one.
    static func errorTypeName(_ L: OpaquePointer, _ idx: Int32) -> String {
        guard idx <= lua_gettop(L) else { return "no value" }
        luashim_push_error_typename(L, idx)
        defer { luashim_pop(L, 1) }
        return String(cString: lua_tolstring(L, -1, nil))
    }
}

/// A declared parameter of a function or method.
public struct LuaParameter: Sendable {
    public var name: String
    public var type: LuaType
    public var isOptional: Bool
    public var summary: String

    public init(_ name: String, _ type: LuaType, optional: Bool = false, _ summary: String = "") {
        self.name = name
        self.type = type
        self.isOptional = optional
        self.summary = summary
    }

    public static func required(_ name: String, _ type: LuaType, _ summary: String = "") -> Self {
        Self(name, type, optional: false, summary)
    }

    public static func optional(_ name: String, _ type: LuaType, _ summary: String = "") -> Self {
        Self(name, type, optional: true, summary)
    }
}

/// A declared option in an options table. Options are always optional unless `required`.
public struct LuaOption: Sendable {
    public var name: String
    public var type: LuaType
    public var isRequired: Bool
    public var summary: String

    public init(_ name: String, _ type: LuaType, required: Bool = false, _ summary: String = "") {
        self.name = name
        self.type = type
        self.isRequired = required
        self.summary = summary
    }
}

/// A declared return value (documentation; Swift bodies return `[LuaValue]`).
public struct LuaReturn: Sendable {
    public var type: LuaType
    public var name: String
    public var summary: String

    public init(_ type: LuaType, _ name: String = "", _ summary: String = "") {
        self.type = type
        self.name = name
        self.summary = summary
    }
}
