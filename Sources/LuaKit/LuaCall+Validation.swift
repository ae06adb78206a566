import CLua
import CLuaShim

/// Checking arguments against their declared types, recursively: options tables (unknown names are
/// rejected, listing the valid ones), lists (each item), choices (the value must be one of the names).
/// Problems inside a table keep the standard argument-error form, with the path in front:
/// `bad argument #1 to 'vm' (option 'disks': item 2: table expected, got string)`.
extension LuaCall {
    func check(_ index: Int32, _ parameter: LuaParameter) throws {
        if parameter.isOptional && isNil(index) { return }
        try validate(parameter.type, at: index, argument: index, what: parameter.name, context: "")
    }

    /// Validates the value at stack index `index` (an argument, or a value pushed while walking a
    /// table) as `type`. `argument` is the argument number errors name; `what` names the value in
    /// "unknown <what> 'x'" messages; `context` is the path prefix inside the argument.
    func validate(_ type: LuaType, at index: Int32, argument: Int32, what: String, context: String) throws {
        if let problem = type.problem(L, index) { throw LuaRaise.argument(argument, context + problem) }
        switch type {
        case .options(_, let options):
            try validateOptions(options, at: index, argument: argument, context: context)
        case .choice(let names):
            let value = String(decoding: LuaState.bytes(L, index), as: UTF8.self)
            if !names.contains(value) { throw LuaRaise.message(LuaCall.unknownChoice(what, value, names)) }
        case .list(let item):
            let table = lua_absindex(L, index)
            let count = lua_rawlen(L, table)
            _ = lua_checkstack(L, 4)
            try validateSequence(at: table, count: count, argument: argument, context: context)
            guard count > 0 else { return }
            for i in 1...count {
                lua_rawgeti(L, table, lua_Integer(i))
                defer { luashim_pop(L, 1) }
                try validate(item, at: lua_gettop(L), argument: argument, what: what, context: context + "item \(i): ")
            }
        case .oneOf(let types):
            // An options table among the alternatives is checked as deeply as on its own (a
            // misspelt name in `{ "native", { mode = "bt", bt = { inlne = true } } }` raises).
            if let chosen = types.first(where: { $0.problem(L, index) == nil }), case .options = chosen {
                try validate(chosen, at: index, argument: argument, what: what, context: context)
            }
        default:
            break
        }
    }

    /// A list is read as items 1 to #list, so another key would be dropped without a word:
    /// `disks = { file = "a.img" }` (one disk's table where a list of them belongs) would build a
    /// machine with no disk. Any key outside the sequence raises, naming it.
    private func validateSequence(at table: Int32, count: lua_Unsigned, argument: Int32, context: String) throws {
        lua_pushnil(L)
        while lua_next(L, table) != 0 {
            let top = lua_gettop(L)
            var isInteger: Int32 = 0
            let key = lua_type(L, top - 1) == LUA_TNUMBER ? lua_tointegerx(L, top - 1, &isInteger) : 0
            if isInteger != 0 && key >= 1 && lua_Unsigned(key) <= count {
                lua_settop(L, top - 1)
                continue
            }
            let shown = switch lua_type(L, top - 1) {
            case LUA_TSTRING: "'\(String(decoding: LuaState.bytes(L, top - 1), as: UTF8.self))'"
            case LUA_TNUMBER: isInteger != 0 ? "\(key)" : "\(lua_tonumberx(L, top - 1, nil))"
            default: "of type \(LuaType.errorTypeName(L, top - 1))"
            }
            lua_settop(L, top - 2)
            throw LuaRaise.argument(argument, context + "a list expected, got a table with key \(shown)")
        }
    }

    private func validateOptions(_ options: [LuaOption], at index: Int32, argument: Int32, context: String) throws {
        let table = lua_absindex(L, index)
        _ = lua_checkstack(L, 6)
        lua_pushnil(L)
        while lua_next(L, table) != 0 {
            // Stack: key, value. The key is inspected without conversion (lua_next needs it intact).
            let top = lua_gettop(L)
            guard lua_type(L, top - 1) == LUA_TSTRING else {
                let keyType = LuaType.errorTypeName(L, top - 1)
                lua_settop(L, top - 2)
                throw LuaRaise.argument(argument, context + "option names must be strings, got \(keyType)")
            }
            let name = String(decoding: LuaState.bytes(L, top - 1), as: UTF8.self)
            guard let option = options.first(where: { $0.name == name }) else {
                lua_settop(L, top - 2)
                let valid = options.map(\.name).sorted().joined(separator: ", ")
                let place = context.isEmpty ? "" : " in \(context.dropLast(2))"
                throw LuaRaise.message("unknown option '\(name)'\(place) to '\(calleeName)' (expected one of: \(valid))")
            }
            do {
                try validate(option.type, at: top, argument: argument, what: option.name,
                             context: context + "option '\(name)': ")
            } catch {
                lua_settop(L, top - 2)
                throw error
            }
            lua_settop(L, top - 1)
        }
        for option in options where option.isRequired {
            lua_pushstring(L, option.name)
            let type = lua_rawget(L, table)
            luashim_pop(L, 1)
            if type == LUA_TNIL { throw LuaRaise.argument(argument, context + "option '\(option.name)' is required") }
        }
    }
}
