import Foundation
import Testing
import LuaKit

// Ctrl-C as `lua` handles it: the signal only sets a flag and a hook; the hook raises
// "interrupted!" in the Lua code (here inside a protected call that catches it), never inside
// the Swift function that was running when the signal came.
@Test func anInterruptRaisesInLuaAfterTheSwiftFunctionReturns() throws {
    let lua = LuaState()
    final class Flag: @unchecked Sendable { var set = false }
    let swiftFinished = Flag()
    lua.register(LuaFunction("long_swift_work", body: { _ in
        raise(SIGINT)   // arrives while Swift runs, as Ctrl-C during vm:run would
        swiftFinished.set = true
        return [.integer(42)]
    }))
    lua.catchInterrupt()
    let results = try lua.run("""
    local ok, message = pcall(function()
      local answer = long_swift_work()
      while true do end          -- not reached: the hook fires on long_swift_work's return
    end)
    return ok, message
    """)
    #expect(swiftFinished.set)
    #expect(results.first == .boolean(false))
    #expect(results.last?.string?.contains("interrupted!") == true, "\(results)")
    #expect(LuaState.interruptFlag.pointee != 0)
}
