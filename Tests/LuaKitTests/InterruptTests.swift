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
}

// Once raised, the interrupt is spent: a script that catches it carries on (a host's machines,
// which poll the flag, run again), and the next Ctrl-C interrupts it again rather than ending the
// process.
@Test func aCaughtInterruptIsSpentAndCtrlCIsArmedAgain() throws {
    let lua = LuaState()
    final class Flags: @unchecked Sendable { var seen: [Int32] = [] }
    let flags = Flags()
    lua.register(LuaFunction("interrupt_me", body: { _ in
        raise(SIGINT)
        flags.seen.append(LuaState.interruptFlag.pointee)
        return []
    }))
    lua.register(LuaFunction("flag", body: { _ in [.integer(Int64(LuaState.interruptFlag.pointee))] }))
    lua.catchInterrupt()
    let results = try lua.run("""
    local first = select(2, pcall(interrupt_me))
    local between = flag()
    local second = select(2, pcall(interrupt_me))
    return first, between, second, flag()
    """)
    #expect(flags.seen == [1, 1], "the flag is up while the Swift function runs")
    #expect(results.count == 4)
    #expect(results[0].string?.contains("interrupted!") == true, "\(results)")
    #expect(results[1] == .integer(0), "spent once raised")
    #expect(results[2].string?.contains("interrupted!") == true, "interrupted again, not ended")
    #expect(results[3] == .integer(0))
}
