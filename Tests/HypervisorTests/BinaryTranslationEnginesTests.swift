import Boot
import Foundation
import GuestTestSupport
@testable import Machine
import Testing
@testable import Hypervisor

/// `bt` on the native-code engine and on the block engine: the same guest gives the same console,
/// counters and modelled cycles (only `block_cache.chained` may differ: compiled code takes a link
/// through the block table once before it patches the jump). The native-code engine compiles
/// every block at its first execution and flushes all it compiled after every 8 blocks here, so
/// that compiled code, callouts and guarded stores meet in every order.
@Suite struct BinaryTranslationEnginesTests {
    static func run(_ c: TinyosGuest.Case, engine: ExecutionEngine) throws -> (console: String, statistics: GuestStatistics)? {
        guard var board = try TinyosBoards.configuration(c.bootargs, disk: c.disk, tag: "bt-engines") else { return nil }
        board.machine.engine = engine
        let guest = try Guest(GuestConfiguration(mode: .bt, board: board))
        defer { guest.close() }
        // Where native code cannot run (not x86-64), there is nothing to compare.
        guard guest.machine.effectiveEngine == engine else { return nil }
        if let jit = guest.machine.harts.first?.jit {
            jit.threshold = 1
            jit.entryLimit = 8
        }
        #expect(guest.run(maxInstructions: 2_000_000_000) == .poweredOff(code: 0), "console:\n\(guest.consoleText)")
        var statistics = guest.statistics()
        statistics.cycles.microseconds = 0
        statistics.technique["block_cache"]?["chained"] = nil
        #expect((guest.technique as? BinaryTranslationTechnique)?.checkCoherence() == [])
        if let native = guest.machine.jitCounters {
            #expect(native.nativeInstructions > 100_000 && native.flushes > 10, "\(native)")
        }
        return (guest.consoleText, statistics)
    }

    @Test(arguments: ["fork", "pte", "mmio"])
    func bothEnginesGiveTheSameRun(_ name: String) throws {
        guard let c = TinyosGuest.cases.first(where: { $0.name == name }),
              let blocks = try Self.run(c, engine: .blocks), let jit = try Self.run(c, engine: .jit) else { return }
        #expect(jit.console == blocks.console)
        #expect(jit.statistics == blocks.statistics)
        #expect((jit.statistics.technique["block_cache"]?["entries"] ?? 0) > 0)
    }
}
