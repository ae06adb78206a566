import Testing
@testable import LuaKit

/// A tagged table is an ordinary table to Lua, and the binding that tagged it knows it again; a
/// copy, or a look-alike with the same `__name`, is not it.
@Test func taggedTablesAreKnownByTheirMetatable() throws {
    let lua = LuaState()
    lua.register(LuaFunction("make") { call in [call.taggedTable([.string("start"): .integer(16)], tag: "demo.Names")] })
    lua.register(LuaFunction("tagged", parameters: [.optional("t", .any)]) { call in
        [.boolean(call.isTable(1, taggedAs: "demo.Names"))]
    })
    let results = try lua.run("""
        local t = make()
        local copy = {}
        for k, v in pairs(t) do copy[k] = v end
        local fake = setmetatable({}, { __name = "demo.Names" })
        return t.start, tagged(t), tagged(make()), tagged(copy), tagged(fake), tagged({}), tagged(42), tagged(),
               getmetatable(t).__name
        """)
    #expect(results == [.integer(16), .boolean(true), .boolean(true), .boolean(false), .boolean(false),
                        .boolean(false), .boolean(false), .boolean(false), .string("demo.Names")])
}
