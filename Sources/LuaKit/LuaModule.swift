/// The description of a Lua module as data: its functions (with Swift bodies or implemented in Lua),
/// its constant fields, the classes of the objects it hands out and the globals it installs. The
/// same description builds the module table, the editor annotations (`annotations()`) and the
/// reference documentation (`referenceMarkdown()`).
public struct LuaModule {
    public var name: String
    public var summary: String
    public var fields: [LuaField]
    public var functions: [LuaFunction]
    /// Classes of userdata objects and of plain tables the module returns, for documentation.
    public var classes: [LuaDocClass]
    /// Globals the module installs as aliases of its functions (e.g. busted's `describe`).
    public var globalAliases: [String]

    public init(name: String, summary: String, fields: [LuaField] = [], functions: [LuaFunction] = [],
                classes: [LuaDocClass] = [], globalAliases: [String] = []) {
        self.name = name
        self.summary = summary
        self.fields = fields
        self.functions = functions
        self.classes = classes
        self.globalAliases = globalAliases
    }

    /// The module table: fields and the functions that have Swift bodies. Functions described
    /// without a body are expected to be added by the module's Lua code.
    public var table: LuaValue {
        var table: [LuaValue: LuaValue] = [:]
        for field in fields { table[.string(field.name)] = field.value }
        for function in functions where function.body != nil { table[.string(function.name)] = .function(function) }
        return .table(table)
    }

    /// Every exported name, functions and fields, sorted.
    public var exportedNames: [String] { (fields.map(\.name) + functions.map(\.name)).sorted() }
}

/// A constant field of a module.
public struct LuaField {
    public var name: String
    public var type: LuaType
    public var summary: String
    public var value: LuaValue

    public init(_ name: String, _ type: LuaType, _ summary: String, value: LuaValue) {
        self.name = name
        self.type = type
        self.summary = summary
        self.value = value
    }
}

/// A class for documentation: fields (including function-valued fields of plain tables) and
/// colon-called methods.
public struct LuaDocClass: Sendable {
    public var name: String
    public var summary: String
    public var fields: [LuaParameter]
    public var methods: [LuaFunction]

    public init(_ name: String, summary: String, fields: [LuaParameter] = [], methods: [LuaFunction] = []) {
        self.name = name
        self.summary = summary
        self.fields = fields
        self.methods = methods
    }

    /// The documentation of a userdata class.
    public init(_ cls: LuaClass) {
        self.init(cls.name, summary: cls.summary, methods: cls.allMethods)
    }
}
