import CLua
import CLuaShim

/// A Swift object that Lua scripts hold as a userdata handle (a VM, a hook, a snapshot...).
///
/// The userdata keeps the object alive; `__gc` releases it. When the class has a `close` action,
/// `obj:close()` and to-be-closed variables (`local vm <close> = ...`, Lua 5.4 manual §3.3.8) run it.
public protocol LuaObject: AnyObject {
    static var luaClass: LuaClass { get }
}

/// The description of a userdata type: its metatable name (also `__name`, which Lua's messages
/// use: "vmlab.VM expected, got nil") and its methods.
public final class LuaClass: Sendable {
    public let name: String
    public let summary: String
    /// Methods, called as `obj:method(...)`; parameter 1 of each is `self` and is declared by LuaKit.
    public let methods: [LuaFunction]
    /// Run by `:close()` and `__close`. It may run more than once (explicit close, then scope
    /// exit), so it must be idempotent.
    public let close: (@Sendable (AnyObject) -> Void)?
    /// `tostring(obj)`; the default is "name: 0x...".
    public let describe: (@Sendable (AnyObject) -> String)?

    public init(_ name: String, summary: String = "", methods: [LuaFunction] = [],
                close: (@Sendable (AnyObject) -> Void)? = nil, describe: (@Sendable (AnyObject) -> String)? = nil) {
        self.name = name
        self.summary = summary
        self.methods = methods
        self.close = close
        self.describe = describe
    }

    /// The methods Lua sees, including the implicit `close` when the class can close.
    var allMethods: [LuaFunction] {
        guard let close, !methods.contains(where: { $0.name == "close" }) else { return methods }
        let closeMethod = LuaFunction("close", summary: "Releases the resources this handle holds.",
                                      parameters: [.required("self", .object(name))]) { call in
            if let object = LuaObjects.object(call.L, 1) { close(object) }
            return []
        }
        return methods + [closeMethod]
    }
}

/// Userdata payloads and metatables. A payload is one pointer: the retained Swift object, or null
/// once `__gc` has released it.
enum LuaObjects {
    /// Pushes the userdata of `object`: the one Lua already holds for it, if any, so that an
    /// object reached twice (`host:vms()`, a stop's `details.vm`, `vm`) is the same value in Lua
    /// (`==`, a table key), not two handles that compare unequal.
    static func push(_ object: any LuaObject, in state: LuaState, on L: OpaquePointer) {
        _ = lua_checkstack(L, 4)
        let key = Unmanaged.passUnretained(object as AnyObject).toOpaque()
        pushIdentities(on: L)
        if lua_rawgetp(L, -1, key) == LUA_TUSERDATA {
            luashim_remove(L, -2)
            return
        }
        luashim_pop(L, 1)
        let cls = type(of: object).luaClass
        let payload = lua_newuserdatauv(L, MemoryLayout<UnsafeMutableRawPointer?>.size, 0)!
        payload.storeBytes(of: Unmanaged.passRetained(object as AnyObject).toOpaque(),
                           as: UnsafeMutableRawPointer?.self)
        pushMetatable(cls, in: state, on: L)
        lua_setmetatable(L, -2)
        lua_pushvalue(L, -1)
        lua_rawsetp(L, -3, key)
        luashim_remove(L, -2)
    }

    /// The registry's table of the userdata Lua holds, keyed by their object's address. Its values
    /// are weak: Lua drops an entry before it finalizes the userdata (Lua 5.4 manual §2.5.4), and
    /// the object lives until that finalizer releases it, so no other object can have taken its
    /// address while the entry is there.
    private static func pushIdentities(on L: OpaquePointer) {
        if lua_getfield(L, luashim_registryindex(), identitiesKey) == LUA_TTABLE { return }
        luashim_pop(L, 1)
        luashim_newtable(L)
        luashim_newtable(L)
        lua_pushstring(L, "v")
        lua_setfield(L, -2, "__mode")
        lua_setmetatable(L, -2)
        lua_pushvalue(L, -1)
        lua_setfield(L, luashim_registryindex(), identitiesKey)
    }

    static let identitiesKey = "luakit.objects"

    /// The Swift object of a LuaKit userdata at `index`, or nil for other values or collected ones.
    static func object(_ L: OpaquePointer, _ index: Int32) -> (any LuaObject)? {
        guard lua_type(L, index) == LUA_TUSERDATA, lua_getmetatable(L, index) != 0 else { return nil }
        lua_pushstring(L, markerKey)
        let isOurs = lua_rawget(L, -2) == LUA_TBOOLEAN
        luashim_pop(L, 2)
        guard isOurs, let payload = lua_touserdata(L, index),
              let raw = payload.load(as: UnsafeMutableRawPointer?.self)
        else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(raw).takeUnretainedValue() as? any LuaObject
    }

    /// A metatable field that marks metatables made by LuaKit (so foreign userdata is never read
    /// as a Swift object).
    static let markerKey = "__luakit"

    private static func pushMetatable(_ cls: LuaClass, in state: LuaState, on L: OpaquePointer) {
        if luaL_newmetatable(L, cls.name) == 0 {
            precondition(state.classes[cls.name] === cls,
                         "two LuaKit classes share the metatable name '\(cls.name)'")
            return
        }
        state.classes[cls.name] = cls
        func set(_ key: String, _ value: LuaValue) {
            state.push(value, on: L)
            lua_setfield(L, -2, key)
        }
        set(markerKey, .boolean(true))
        var index: [LuaValue: LuaValue] = [:]
        for method in cls.allMethods { index[.string(method.name)] = .function(method) }
        set("__index", .table(index))
        set("__gc", .function(LuaFunction("__gc", body: { call in
            // Release the object and clear the payload so a resurrected userdata reads as collected.
            if let payload = lua_touserdata(call.L, 1),
               let raw = payload.load(as: UnsafeMutableRawPointer?.self) {
                payload.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
                Unmanaged<AnyObject>.fromOpaque(raw).release()
            }
            return []
        })))
        if let close = cls.close {
            set("__close", .function(LuaFunction("__close", body: { call in
                if let object = object(call.L, 1) { close(object) }
                return []
            })))
        }
        let describe = cls.describe
        set("__tostring", .function(LuaFunction("__tostring", body: { call in
            guard let object = object(call.L, 1) else { return [.string("\(cls.name) (collected)")] }
            if let describe { return [.string(describe(object))] }
            let address = UInt(bitPattern: ObjectIdentifier(object).hashValue)
            return [.string("\(cls.name): 0x\(String(address, radix: 16))")]
        })))
    }
}
