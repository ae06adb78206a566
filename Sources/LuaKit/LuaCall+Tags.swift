import CLua
import CLuaShim

/// Tagged tables: plain data that says what it is. A binding that returns a table another binding
/// takes in a place where an options table also fits (`vmlab.disasm(vmlab.asm(src))`: asm's symbols
/// where disasm's options go) marks it with a metatable named `tag` (in the registry, as
/// `luaL_newmetatable` names them; `__name` is the tag), and the taker asks for the tag instead of
/// guessing from the keys. The table stays an ordinary table to Lua: indexing, `pairs` and `#` are
/// untouched (the metatable has no `__index`); a copy made in Lua is untagged.
extension LuaCall {
    /// `fields` as a new table tagged `tag`, to return from this call.
    public func taggedTable(_ fields: [LuaValue: LuaValue], tag: String) -> LuaValue {
        let state = self.state
        state.push(.table(fields), on: L)
        _ = lua_checkstack(L, 2)
        _ = luaL_newmetatable(L, tag)   // the existing one after the first time: one identity
        lua_setmetatable(L, -2)
        defer { luashim_pop(L, 1) }
        return .reference(state.reference(at: -1, on: L))
    }

    /// Whether argument `index` is a table tagged `tag` by `taggedTable`: its metatable is the very
    /// one the registry holds under that name, so a table whose metatable merely has a `__name`
    /// of that spelling does not pass for one.
    public func isTable(_ index: Int32, taggedAs tag: String) -> Bool {
        guard index <= count, lua_type(L, index) == LUA_TTABLE else { return false }
        _ = lua_checkstack(L, 2)
        guard lua_getmetatable(L, index) != 0 else { return false }
        lua_getfield(L, luashim_registryindex(), tag)
        defer { luashim_pop(L, 2) }
        return lua_type(L, -1) == LUA_TTABLE && lua_rawequal(L, -1, -2) != 0
    }
}
