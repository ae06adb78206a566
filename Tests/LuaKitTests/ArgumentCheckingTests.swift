import Testing
@testable import LuaKit

/// A state with one function `f(a: integer, b: integer)` and one taking options.
private func stateWithFunctions() -> LuaState {
    let lua = LuaState()
    lua.register(LuaFunction("f", parameters: [.required("a", .integer), .required("b", .integer)]) { call in
        [.integer(try call.integer(1) &+ call.integer(2))]
    })
    let vmOptions: LuaType = .options(name: "VMOptions", [
        LuaOption("memory", .string), LuaOption("kernel", .string), LuaOption("firmware", .string),
        LuaOption("harts", .integer), LuaOption("mode", .choice(["native", "trap"])),
    ])
    lua.register(LuaFunction("vm", parameters: [.required("options", vmOptions)]) { call in
        let options = try call.options(1)
        return [.string(options.string("memory") ?? "none"), .integer(options.integer("harts") ?? 1)]
    })
    return lua
}

/// Runs `code` and returns the message of the error it raises (caught by pcall inside Lua).
private func caughtMessage(_ lua: LuaState, _ code: String) throws -> String {
    let results = try lua.run("local ok, err = pcall(function() \(code) end) return ok, err", chunkName: "=test")
    #expect(results.first == .boolean(false))
    return results.count > 1 ? (results[1].string ?? "") : ""
}

@Test func argumentErrorsAreCatchableWithTheStandardMessage() throws {
    let lua = stateWithFunctions()
    #expect(try caughtMessage(lua, "f(1)") == "test:1: bad argument #2 to 'f' (integer expected, got no value)")
    #expect(try caughtMessage(lua, "f(1, nil)") == "test:1: bad argument #2 to 'f' (integer expected, got nil)")
    #expect(try caughtMessage(lua, "f('x', 1)") == "test:1: bad argument #1 to 'f' (integer expected, got string)")
    #expect(try caughtMessage(lua, "f(1.5, 1)") == "test:1: bad argument #1 to 'f' (number has no integer representation)")
    #expect(try caughtMessage(lua, "local g = f; g({}, 1)") == "test:1: bad argument #1 to 'g' (integer expected, got table)")
    #expect(try lua.run("return f(2, 3)") == [.integer(5)])
    #expect(try lua.run("return f(2.0, '3')") == [.integer(5)])
}

/// A table documented by an annotation class is checked as a table: a missing one is "table
/// expected, got no value", where an unchecked documented type only said "value expected".
@Test func aDocumentedTableIsCheckedAsATable() throws {
    let lua = LuaState()
    lua.register(LuaFunction("g", parameters: [.required("spec", .documentedTable("Spec"))]) { _ in [] })
    #expect(LuaType.documentedTable("Spec").annotation == "Spec")
    #expect(try caughtMessage(lua, "g()") == "test:1: bad argument #1 to 'g' (table expected, got no value)")
    #expect(try caughtMessage(lua, "g(1)") == "test:1: bad argument #1 to 'g' (table expected, got number)")
    #expect(try lua.run("return g {}") == [])
}

@Test func optionsTablesRejectUnknownNamesAndWrongTypes() throws {
    let lua = stateWithFunctions()
    #expect(try caughtMessage(lua, "vm('x')") == "test:1: bad argument #1 to 'vm' (table expected, got string)")
    #expect(try caughtMessage(lua, "vm { memroy = '1M' }")
        == "test:1: unknown option 'memroy' to 'vm' (expected one of: firmware, harts, kernel, memory, mode)")
    #expect(try caughtMessage(lua, "vm { harts = 'two' }")
        == "test:1: bad argument #1 to 'vm' (option 'harts': integer expected, got string)")
    #expect(try caughtMessage(lua, "vm { mode = 'trapp' }")
        == "test:1: unknown mode 'trapp' (expected one of: native, trap)")
    #expect(try caughtMessage(lua, "vm { [1] = 2 }")
        == "test:1: bad argument #1 to 'vm' (option names must be strings, got number)")
    #expect(try lua.run("return vm { memory = '128M', harts = 2 }") == [.string("128M"), .integer(2)])
    #expect(try lua.run("return vm { memory = 64, harts = '3' }") == [.string("64"), .integer(3)])
    #expect(try lua.run("return vm { harts = 4.0 }") == [.string("none"), .integer(4)])
}

@Test func unsignedIntegersKeepTheirBitPattern() throws {
    let lua = LuaState()
    lua.register(LuaFunction("echo", parameters: [.required("x", .integer)]) { call in
        let value = try call.uint64(1)
        return [.unsigned(value), .string(String(value, radix: 16))]
    })
    let results = try lua.run("return echo(-1)")
    #expect(results == [.integer(-1), .string("ffffffffffffffff")])
    #expect(results[0].uint64 == UInt64.max)
    #expect(try lua.run("return math.mininteger == echo(math.mininteger)") == [.boolean(true)])
}

@Test func swiftErrorsBecomeLuaErrorsWithThePosition() throws {
    struct Broken: Error, CustomStringConvertible { var description: String { "it broke" } }
    let lua = LuaState()
    lua.register(LuaFunction("boom", body: { _ in throw Broken() }))
    lua.register(LuaFunction("fail", body: { _ in throw LuaRaise.message("nope") }))
    lua.register(LuaFunction("raise", body: { _ in throw LuaRaise.value(["code": 7]) }))
    #expect(try caughtMessage(lua, "boom()") == "test:1: it broke")
    #expect(try caughtMessage(lua, "fail()") == "test:1: nope")
    #expect(try lua.run("local ok, e = pcall(raise) return e.code") == [.integer(7)])
}

@Test func luaErrorsInCallbacksPropagateUnchanged() throws {
    let lua = LuaState()
    lua.register(LuaFunction("call_it", parameters: [.required("fn", .function)]) { call in
        let fn = try call.value(1)
        return try call.call(fn, [.integer(41)])
    })
    #expect(try lua.run("return call_it(function(x) return x + 1 end)") == [.integer(42)])
    let message = try caughtMessage(lua, "call_it(function() error({ tag = 'inner' }) end)")
    #expect(message.isEmpty)   // a table error value arrives unchanged, so it has no string form
    #expect(try lua.run("local ok, e = pcall(call_it, function() error({ tag = 'inner' }) end) return e.tag") == [.string("inner")])
    // The very table, not a copy: its identity and metatable (an error class's methods) survive.
    #expect(try lua.run("""
        local raised = setmetatable({}, { __index = { kind = function() return "mine" end } })
        local ok, e = pcall(call_it, function() error(raised) end)
        return rawequal(e, raised), e.kind and e:kind()
        """) == [.boolean(true), .string("mine")])
}

@Test func swiftFunctionsWorkInsideCoroutines() throws {
    let lua = LuaState()
    lua.register(LuaFunction("pair", parameters: [.required("n", .integer)]) { call in
        let n = try call.integer(1)
        return [.integer(n), ["double": .integer(n * 2)]]
    })
    lua.register(LuaFunction("call_it", parameters: [.required("fn", .function)]) { call in
        try call.call(try call.value(1), [.integer(1)])
    })
    let results = try lua.run("""
        local co = coroutine.wrap(function()
          local a, t = pair(3)
          coroutine.yield(a + t.double)
          local r = call_it(function(x) return x + 100 end)
          local ok, e = pcall(pair, 'x')
          return r, e
        end)
        return co(), co()
        """, chunkName: "=co")
    #expect(results == [.integer(9), .integer(101), .string("bad argument #1 to 'pair' (integer expected, got string)")])
}

@Test func nestedOptionsAndListsAreCheckedItemByItem() throws {
    let lua = LuaState()
    let disk: LuaType = .options(name: "Disk", [LuaOption("file", .string, required: true), LuaOption("writable", .boolean)])
    let tlb: LuaType = .options(name: "TLB", [LuaOption("entries", .integer), LuaOption("tagged", .boolean)])
    lua.register(LuaFunction("vm", parameters: [.optional("options", .options(name: "VM", [
        LuaOption("disks", .list(disk)), LuaOption("tlb", tlb),
    ]))]) { call in
        let options = try call.options(1)
        return [.integer(Int64(options["disks"].arrayItems.count))]
    })
    #expect(try caughtMessage(lua, "vm { disks = { { file = 'a' }, 'b' } }")
        == "test:1: bad argument #1 to 'vm' (option 'disks': item 2: table expected, got string)")
    #expect(try caughtMessage(lua, "vm { disks = { { file = 'a', writable = 1 } } }")
        == "test:1: bad argument #1 to 'vm' (option 'disks': item 1: option 'writable': boolean expected, got number)")
    #expect(try caughtMessage(lua, "vm { disks = { { writable = true } } }")
        == "test:1: bad argument #1 to 'vm' (option 'disks': item 1: option 'file' is required)")
    // One disk's table where the list of them belongs, or a key beside the items, would be
    // dropped: the list is read as items 1 to #list.
    #expect(try caughtMessage(lua, "vm { disks = { file = 'a' } }")
        == "test:1: bad argument #1 to 'vm' (option 'disks': a list expected, got a table with key 'file')")
    #expect(try caughtMessage(lua, "vm { disks = { { file = 'a' }, [3] = { file = 'c' } } }")
        == "test:1: bad argument #1 to 'vm' (option 'disks': a list expected, got a table with key 3)")
    #expect(try caughtMessage(lua, "vm { tlb = { entires = 4 } }")
        == "test:1: unknown option 'entires' in option 'tlb' to 'vm' (expected one of: entries, tagged)")
    #expect(try lua.run("return vm { disks = { { file = 'a' }, { file = 'b', writable = true } }, tlb = { entries = 64 } }")
        == [.integer(2)])
    #expect(try lua.run("return vm()") == [.integer(0)])
}
