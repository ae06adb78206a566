import Testing
@testable import LuaKit

/// Counts deinitialised probes of one test (each test has its own state and counter).
private final class Counter: @unchecked Sendable { var deinits = 0 }

/// A userdata type whose Swift side records what happened to it.
private final class Probe: LuaObject {
    let counter: Counter
    var closes = 0
    init(_ counter: Counter) { self.counter = counter }
    static let luaClass = LuaClass("test.Probe", summary: "A probe.", methods: [
        LuaFunction.method("closes", of: "test.Probe") { call in
            [.integer(Int64(try call.object(1, as: Probe.self).closes))]
        },
        LuaFunction.method("open", of: "test.Probe", parameters: [.required("path", .string)]) { call in
            LuaValue.failure("cannot open \(try call.string(2))")
        },
    ], close: { ($0 as! Probe).closes += 1 })
    deinit { counter.deinits += 1 }
}

/// A probe Swift holds across calls (the functions Lua calls are `@Sendable`).
private final class Held: @unchecked Sendable {
    let probe: Probe
    init(_ probe: Probe) { self.probe = probe }
}

private func stateWithProbes(_ counter: Counter = Counter()) -> LuaState {
    let lua = LuaState()
    lua.register(LuaFunction("probe", body: { _ in [.object(Probe(counter))] }))
    return lua
}

@Test func gcReleasesTheSwiftObject() throws {
    let counter = Counter()
    let lua = stateWithProbes(counter)
    try lua.run("for i = 1, 10 do local p = probe() end")
    lua.collectGarbage()
    #expect(counter.deinits == 10)
    try lua.run("kept = probe()")
    lua.collectGarbage()
    #expect(counter.deinits == 10)   // still referenced by a global
}

/// One Swift object is one Lua value: pushed again while Lua holds it, it is the same userdata
/// (`==`, a table key); once collected, the next push makes a new one.
@Test func anObjectPushedTwiceIsTheSameValue() throws {
    let counter = Counter()
    let lua = LuaState()
    let held = Held(Probe(counter))
    lua.register(LuaFunction("same", body: { _ in [.object(held.probe), .object(held.probe)] }))
    lua.register(LuaFunction("fresh", body: { _ in [.object(Probe(counter))] }))
    let results = try lua.run("""
        local a, b = same()
        local c = same()
        local t = { [a] = true }
        return a == b, rawequal(a, c), t[c] == true, rawequal(fresh(), fresh())
        """)
    #expect(results == [.boolean(true), .boolean(true), .boolean(true), .boolean(false)])
    lua.collectGarbage()
    #expect(counter.deinits == 2, "the two fresh probes; the shared one is still held by Swift")
    #expect(try lua.run("local a = same() a:close() return same():closes()") == [.integer(1)])
    lua.collectGarbage()
    #expect(try lua.run("return same():closes()") == [.integer(1)], "a new userdata, the same object")
}

@Test func closeRunsForToBeClosedVariables() throws {
    let lua = stateWithProbes()
    let results = try lua.run("""
        local kept
        do
          local p <close> = probe()
          kept = p
          assert(p:closes() == 0)
        end
        local after_scope = kept:closes()
        kept:close()
        return after_scope, kept:closes(), tostring(kept):match('^test.Probe')
        """)
    #expect(results == [.integer(1), .integer(2), .string("test.Probe")])
}

@Test func expectedFailuresReturnNilAndAMessage() throws {
    let lua = stateWithProbes()
    #expect(try lua.run("return probe():open('x.img')") == [.nil, .string("cannot open x.img")])
    #expect(try lua.run("local p = probe() return select(3, pcall(p.open, p, 1, 2))") == [.string("cannot open 1")])
    let message = try lua.run("local p = probe() return select(2, pcall(function() return p:open() end))", chunkName: "=m")
    #expect(message == [.string("m:1: bad argument #1 to 'open' (string expected, got no value)")])
    let badSelf = try lua.run("local p = probe() return select(2, pcall(function() return p.open({}, 'x') end))", chunkName: "=m")
    #expect(badSelf == [.string("m:1: bad argument #1 to 'open' (test.Probe expected, got table)")])
    let methodBadSelf = try lua.run("local p = probe() local t = { open = p.open } return select(2, pcall(function() return t:open('x') end))", chunkName: "=m")
    #expect(methodBadSelf == [.string("m:1: calling 'open' on bad self (test.Probe expected, got table)")])
}

@Test func methodsCheckSelf() throws {
    let lua = stateWithProbes()
    let results = try lua.run("""
        local p = probe()
        local ok, e = pcall(p.closes, 42)
        local ok2, e2 = pcall(function() return p.closes({}) end)
        return e, e2
        """, chunkName: "=t")
    #expect(results.first == .string("bad argument #1 to 'closes' (test.Probe expected, got number)"))
    #expect(results.last == .string("t:3: bad argument #1 to 'closes' (test.Probe expected, got table)"))
}

/// A method or function Lua cannot name (passed to pcall as a value, nothing at the call site) is
/// named as it was declared, never '?', with the arguments numbered as Lua numbers them: a plain
/// call counts `self` as #1, a method call does not.
@Test func argumentErrorsNameFunctionsLuaCannotName() throws {
    let lua = stateWithProbes()
    let messages = try lua.run("""
        local p = probe()
        local function message(...) return select(2, pcall(...)) end
        local t = { o = p.open }
        return message(p.open, p, {}),
               message(p.open, {}, 'x'),
               message(p.open),
               message(function() t:o('x') end),
               message(function() p:open() end),
               message(function() local f = p.open; f(p, 1 < 2) end),
               message(coroutine.wrap(function() return pcall(p.open, p, {}) end))
        """, chunkName: "=m")
    #expect(messages == [
        .string("bad argument #2 to 'open' (string expected, got table)"),
        .string("bad argument #1 to 'open' (test.Probe expected, got table)"),
        .string("bad argument #1 to 'open' (test.Probe expected, got no value)"),
        .string("m:7: calling 'o' on bad self (test.Probe expected, got table)"),
        .string("m:8: bad argument #1 to 'open' (string expected, got no value)"),
        .string("m:9: bad argument #2 to 'f' (string expected, got boolean)"),
        .boolean(false), .string("bad argument #2 to 'open' (string expected, got table)"),
    ])
    // A global function passed as a value keeps the name Lua finds for it among the loaded modules.
    lua.register(LuaFunction("twice", parameters: [.required("x", .integer)]) { call in [.integer(2 * (try call.integer(1)))] })
    #expect(try lua.run("return select(2, pcall(twice, 'x'))") == [.string("bad argument #1 to 'twice' (integer expected, got string)")])
    try lua.run("package.loaded.lib = { double = twice }; twice = nil")
    #expect(try lua.run("return select(2, pcall(package.loaded.lib.double, 'x'))")
        == [.string("bad argument #1 to 'lib.double' (integer expected, got string)")])
}

/// Counts live instances: if an error longjmped through the Swift body, the body's local
/// `Tracker` would never be released and the count would grow.
private final class Tracker: @unchecked Sendable {
    final class Live: @unchecked Sendable { var count = 0, made = 0 }
    let live: Live
    init(_ live: Live) { self.live = live; live.count += 1; live.made += 1 }
    deinit { live.count -= 1 }
}

@Test func hundredThousandFailingCallsKeepMemoryBounded() throws {
    let lua = LuaState()
    let live = Tracker.Live()
    lua.register(LuaFunction("f", parameters: [.required("x", .integer), .required("y", .string)]) { call in
        let tracker = Tracker(live)
        _ = try call.integer(1)
        withExtendedLifetime(tracker) {}
        throw LuaRaise.message("always fails with a long message " + String(repeating: "x", count: 200))
    })
    try lua.run("for i = 1, 1000 do pcall(f, i, 's'); pcall(f, nil) end")
    lua.collectGarbage()
    let baseline = lua.memoryInUse
    try lua.run("""
        local failures = 0
        for i = 1, 50000 do
          if not pcall(f, i, 's') then failures = failures + 1 end
          if not pcall(f, 'no') then failures = failures + 1 end
        end
        assert(failures == 100000)
        """)
    lua.collectGarbage()
    #expect(lua.memoryInUse < baseline + 64 * 1024)
    // f(i, 's') reaches the body (51,000 times) and throws from it; f('no') and f(nil) fail the
    // declared argument check before the body runs.
    #expect(live.made == 51_000)
    #expect(live.count == 0)
}

@Test func luaValuesRoundTrip() throws {
    let lua = LuaState()
    let value: LuaValue = ["name": "x", "list": [1, 2.5, "three", true], "nested": ["deep": [:]]]
    lua.setGlobal("v", value)
    #expect(lua.global("v") == value)
    #expect(try lua.run("return v.list[3], #v.list, v.nested.deep ~= nil") == [.string("three"), .integer(4), .boolean(true)])
    #expect(try lua.run("return '\\xff\\x00'") == [.bytes([0xFF, 0x00])])
    let cyclic = try? lua.run("local t = {} t.t = t return t")
    #expect(cyclic == nil || cyclic?.first == .nil)
}

@Test func closingTheStateReleasesEveryObject() throws {
    let counter = Counter()
    do {
        let lua = stateWithProbes(counter)
        try lua.run("kept = probe(); also = { probe(), probe() }")
        #expect(counter.deinits == 0)
    }
    #expect(counter.deinits == 3)   // lua_close ran __gc for all of them
}
