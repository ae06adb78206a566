import CLua
import CLuaShim

/// A Lua value held in the registry (e.g. a callback passed to Swift). The value stays alive until
/// the last Swift reference to this handle goes away.
public final class LuaRef: Hashable {
    private weak var state: LuaState?
    let ref: Int32
    /// The Lua type of the referenced value ("function", "userdata", ...).
    public let typeName: String

    init(state: LuaState, ref: Int32, typeName: String) {
        self.state = state
        self.ref = ref
        self.typeName = typeName
    }

    deinit {
        if let state { luaL_unref(state.L, luashim_registryindex(), ref) }
    }

    func push(into state: LuaState, on L: OpaquePointer) {
        precondition(state === self.state, "a LuaRef belongs to the state that created it")
        lua_rawgeti(L, luashim_registryindex(), lua_Integer(ref))
    }

    public static func == (a: LuaRef, b: LuaRef) -> Bool { a === b }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }
}
