import Testing
@testable import LuaKit

private final class Machine: LuaObject {
    static let luaClass = LuaClass("demo.Machine", summary: "A machine.", methods: [
        LuaFunction("run", summary: "Runs.", parameters: [
            .required("self", .object("demo.Machine")),
            .optional("limits", .options(name: "demo.Limits", [LuaOption("steps", .integer, "Step budget.")])),
        ], returns: [LuaReturn(.string, "reason")]) { _ in ["done"] },
    ], close: { _ in })
}

private func makeDemo() -> LuaModule { LuaModule(
    name: "demo",
    summary: "A demo module.",
    fields: [LuaField("answer", .integer, "The answer.", value: 42)],
    functions: [
        LuaFunction("make", summary: "Makes a machine.",
                    parameters: [.required("options", .options(name: "demo.Options", [
                        LuaOption("mode", .choice(["a", "b"]), required: true, "The mode."),
                    ]))],
                    returns: [LuaReturn(.object("demo.Machine"))]) { _ in [.object(Machine())] },
        .described("helper", summary: "Defined in Lua.", parameters: [.required("x", .any)]),
    ],
    classes: [LuaDocClass(Machine.luaClass)]) }

@Test func moduleTableHoldsFieldsAndSwiftFunctions() throws {
    let demo = makeDemo()
    let lua = LuaState()
    lua.preload("demo", demo.table)
    let results = try lua.run("""
        local demo = require "demo"
        local m <close> = demo.make { mode = "a" }
        return demo.answer, demo.helper, m:run { steps = 3 }, type(m.close)
        """)
    #expect(results == [.integer(42), .nil, .string("done"), .string("function")])
    #expect(demo.exportedNames == ["answer", "helper", "make"])
}

@Test func annotationsDescribeFunctionsClassesAndOptions() {
    let text = makeDemo().annotations(header: "generated")
    #expect(text.hasPrefix("---@meta demo\n-- generated\n"))
    #expect(text.contains("---@field answer integer The answer.\nlocal demo = {}"))
    #expect(text.contains("---@param options demo.Options\n---@return demo.Machine\nfunction demo.make(options) end"))
    #expect(text.contains("function demo.helper(x) end"))
    #expect(text.contains("---@class demo.Machine\nlocal demo_Machine = {}"))
    #expect(text.contains("---@param limits? demo.Limits\n---@return string reason\nfunction demo_Machine:run(limits) end"))
    #expect(text.contains("function demo_Machine:close() end"))
    #expect(text.contains("---@class demo.Options\n---@field mode \"a\"|\"b\" The mode."))
    #expect(text.contains("---@class demo.Limits\n---@field steps? integer Step budget."))
    #expect(text.hasSuffix("return demo\n"))
}

@Test func referenceListsEverything() {
    let text = makeDemo().referenceMarkdown(title: "Demo")
    #expect(text.hasPrefix("# Demo\n"))
    #expect(text.contains("### `demo.make(options)`"))
    #expect(text.contains("### `demo.Machine:run([limits])`"))
    #expect(text.contains("- `mode` (`\"a\"|\"b\"`, required): The mode."))
}
