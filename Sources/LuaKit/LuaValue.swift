import CLua
import CLuaShim

/// Plain data crossing between Swift and Lua, plus handles for what cannot be copied.
///
/// Lua integers are signed 64-bit; use `LuaValue.unsigned(_:)` and `uint64` for bit patterns such as
/// addresses. Lua strings are byte strings: text that is valid UTF-8 arrives as `.string`, anything
/// else as `.bytes`.
public enum LuaValue: Hashable {
    case `nil`
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case bytes([UInt8])
    case table([LuaValue: LuaValue])
    /// A Swift object exposed to Lua as userdata with its class's metatable.
    case object(LuaObjectBox)
    /// A Swift function callable from Lua.
    case function(LuaFunction)
    /// Any other Lua value (a Lua function, a foreign userdata, a coroutine) held in the registry.
    case reference(LuaRef)

    /// The integer whose 64-bit pattern is `value` (so 0xFFFF_FFFF_FFFF_FFFF becomes -1 in Lua).
    public static func unsigned(_ value: UInt64) -> LuaValue { .integer(Int64(bitPattern: value)) }

    /// The results of an expected failure, by the convention of Lua's own libraries (`io.open`):
    /// `nil, message`. Misuse raises instead (throw `LuaRaise`).
    public static func failure(_ message: String) -> [LuaValue] { [.nil, .string(message)] }

    /// A Lua sequence `{ v1, v2, ... }`.
    public static func array(_ items: [LuaValue]) -> LuaValue {
        var table: [LuaValue: LuaValue] = [:]
        for (i, item) in items.enumerated() where item != .nil { table[.integer(Int64(i + 1))] = item }
        return .table(table)
    }

    /// A Lua record `{ name = value, ... }`.
    public static func record(_ fields: [String: LuaValue]) -> LuaValue {
        var table: [LuaValue: LuaValue] = [:]
        for (key, value) in fields where value != .nil { table[.string(key)] = value }
        return .table(table)
    }

    /// The Lua type name (`type(v)` in Lua).
    public var typeName: String {
        switch self {
        case .nil: "nil"
        case .boolean: "boolean"
        case .integer, .number: "number"
        case .string, .bytes: "string"
        case .table: "table"
        case .object: "userdata"
        case .function: "function"
        case .reference(let ref): ref.typeName
        }
    }

    public var int64: Int64? {
        switch self {
        case .integer(let v): v
        case .number(let d): Int64(exactly: d)
        default: nil
        }
    }

    /// The integer's bit pattern as an unsigned value.
    public var uint64: UInt64? { int64.map { UInt64(bitPattern: $0) } }

    public var double: Double? {
        switch self {
        case .integer(let v): Double(v)
        case .number(let d): d
        default: nil
        }
    }

    public var string: String? {
        switch self {
        case .string(let s): s
        case .bytes(let b): String(decoding: b, as: UTF8.self)
        default: nil
        }
    }

    public var bytes: [UInt8]? {
        switch self {
        case .string(let s): Array(s.utf8)
        case .bytes(let b): b
        default: nil
        }
    }

    public var bool: Bool? {
        if case .boolean(let b) = self { return b }
        return nil
    }

    /// Lua truthiness: everything except nil and false.
    public var isTruthy: Bool {
        switch self {
        case .nil, .boolean(false): false
        default: true
        }
    }

    public subscript(key: String) -> LuaValue {
        if case .table(let t) = self { return t[.string(key)] ?? .nil }
        return .nil
    }

    public subscript(index: Int) -> LuaValue {
        if case .table(let t) = self { return t[.integer(Int64(index))] ?? .nil }
        return .nil
    }

    /// The sequence part `t[1..n]` up to the first nil.
    public var arrayItems: [LuaValue] {
        guard case .table(let t) = self else { return [] }
        var items: [LuaValue] = []
        while let v = t[.integer(Int64(items.count + 1))] { items.append(v) }
        return items
    }
}

extension LuaValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .nil }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: LuaValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, LuaValue)...) {
        self = .record(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// Identity wrapper that lets a Swift object be a `LuaValue`.
public struct LuaObjectBox: Hashable {
    public let object: any LuaObject
    public init(_ object: any LuaObject) { self.object = object }
    public static func == (a: Self, b: Self) -> Bool { a.object === b.object }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(object)) }
}

extension LuaValue {
    /// A Swift object as userdata (its class's metatable is created on first use).
    public static func object(_ object: any LuaObject) -> LuaValue { .object(LuaObjectBox(object)) }
}
