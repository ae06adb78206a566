import CLua
import CLuaShim

/// Converting between `LuaValue` and the Lua stack. Only raw table access is used, so no
/// metamethod (which could raise) runs while Swift frames are live.
extension LuaState {
    /// Pushes a value. Objects get their class's metatable; Swift functions stay alive as long as
    /// this state.
    public func push(_ value: LuaValue) { push(value, on: L) }

    /// Pushes onto the stack of `L`, this state's main thread or one of its coroutines (a Swift
    /// function called inside a coroutine works on the coroutine's stack).
    func push(_ value: LuaValue, on L: OpaquePointer) {
        _ = lua_checkstack(L, 3)
        switch value {
        case .nil: lua_pushnil(L)
        case .boolean(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let i): lua_pushinteger(L, i)
        case .number(let d): lua_pushnumber(L, d)
        case .string(let s): LuaState.pushString(L, s)
        case .bytes(let b):
            b.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
            }
        case .table(let table):
            lua_createtable(L, 0, Int32(clamping: table.count))
            for (key, item) in table where key != .nil && item != .nil {
                push(key, on: L)
                push(item, on: L)
                lua_rawset(L, -3)
            }
        case .object(let box):
            LuaObjects.push(box.object, in: self, on: L)
        case .function(let function):
            retain(function)
            luashim_push_swift_function(L, Unmanaged.passUnretained(function).toOpaque())
        case .reference(let ref):
            ref.push(into: self, on: L)
        }
    }

    /// Registers a Swift function as a global.
    public func register(_ function: LuaFunction) { setGlobal(function.name, .function(function)) }

    /// The value at a stack index as plain data. Tables are copied recursively; a table that
    /// contains itself cannot be copied and throws.
    public func value(at index: Int32) throws(LuaRaise) -> LuaValue { try value(at: index, on: L) }

    func value(at index: Int32, on L: OpaquePointer) throws(LuaRaise) -> LuaValue {
        var visiting: Set<UnsafeRawPointer> = []
        return try value(at: lua_absindex(L, index), on: L, visiting: &visiting)
    }

    private func value(at index: Int32, on L: OpaquePointer, visiting: inout Set<UnsafeRawPointer>) throws(LuaRaise) -> LuaValue {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .nil
        case LUA_TBOOLEAN: return .boolean(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 { return .integer(lua_tointegerx(L, index, nil)) }
            return .number(lua_tonumberx(L, index, nil))
        case LUA_TSTRING:
            let bytes = LuaState.bytes(L, index)
            if let text = String(validating: bytes, as: UTF8.self) { return .string(text) }
            return .bytes(bytes)
        case LUA_TTABLE:
            guard let identity = lua_topointer(L, index) else { return .nil }
            guard visiting.insert(identity).inserted else {
                throw LuaRaise.message("cannot convert a table that contains itself")
            }
            defer { visiting.remove(identity) }
            _ = lua_checkstack(L, 4)
            var table: [LuaValue: LuaValue] = [:]
            lua_pushnil(L)
            while lua_next(L, index) != 0 {
                let top = lua_gettop(L)
                do {
                    // Copy the key first: converting it in place would confuse lua_next.
                    lua_pushvalue(L, top - 1)
                    let key = try value(at: top + 1, on: L, visiting: &visiting)
                    let item = try value(at: top, on: L, visiting: &visiting)
                    table[key] = item
                    lua_settop(L, top - 1)
                } catch {
                    lua_settop(L, top - 2)
                    throw error
                }
            }
            return .table(table)
        case LUA_TUSERDATA:
            if let object = LuaObjects.object(L, index) { return .object(object) }
            return .reference(reference(at: index, on: L))
        default:
            return .reference(reference(at: index, on: L))
        }
    }

    /// A registry reference to the value at `index`, keeping it alive until the reference dies.
    public func reference(at index: Int32) -> LuaRef { reference(at: index, on: L) }

    func reference(at index: Int32, on L: OpaquePointer) -> LuaRef {
        lua_pushvalue(L, index)
        let typeName = String(cString: luashim_typename(L, -1))
        let ref = luaL_ref(L, luashim_registryindex())
        return LuaRef(state: self, ref: ref, typeName: typeName)
    }
}
