import Foundation
import GuestTestSupport
import Testing
@testable import Boot
@testable import Machine

// tinyos (paging, preemption, a virtio disk, U-mode processes) under the native-code engine and
// the interpreter side by side, as LockstepTinyosTests compares the block engine: the JIT board's
// block ends (native and Swift) are recorded on a first run, then an interpreter board and a JIT
// board are run to each of them and their harts' whole state compared. Blocks are compiled on
// their second execution, so both the Swift path and compiled code run.

@Suite(.serialized) struct JitLockstepTinyosTests {
    static func board(_ name: String, _ engine: ExecutionEngine) throws -> VirtBoard? {
        guard let b = try LockstepTinyosTests.board(name, engine) else { return nil }
        b.machine.harts.first?.jit?.threshold = 2
        return b
    }

    @Test(arguments: ["syscall", "pagefault", "forktest"])
    func tinyosInLockstep(_ name: String) throws {
        guard let probe = try Self.board(name, .jit), probe.machine.effectiveEngine == .jit,
              let a = try Self.board(name, .interpreter), let b = try Self.board(name, .jit) else { return }
        for h in probe.machine.harts { h.recordBlockEnds = true }
        let probeStop = probe.run(maxInstructions: 2_000_000_000)
        #expect(probeStop == .poweredOff(code: 0))
        #expect((probe.machine.jitCounters?.nativeInstructions ?? 0) > 100_000)
        var ends = Array(Set(probe.machine.harts.flatMap(\.blockEnds))).sorted()
        let maxPoints = 5_000
        if ends.count > maxPoints {
            let stride = ends.count / maxPoints + 1
            ends = ends.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
        }
        var compared = 0
        var last = StopReason.budgetExhausted
        for end in ends {
            let done = b.machine.totalInstructions
            guard end > done else { continue }
            let stopA = a.run(maxInstructions: end - done)
            let stopB = b.run(maxInstructions: end - done)
            compared += 1
            let sa = LockstepTinyosTests.snapshot(a.machine), sb = LockstepTinyosTests.snapshot(b.machine)
            guard stopA == stopB && sa == sb else {
                Issue.record("\(name): diverged by instruction \(end) (\(stopA) vs \(stopB)):\ninterpreter: \(sa)\njit:         \(sb)")
                return
            }
            last = stopA
            if last != .budgetExhausted { break }
        }
        if last == .budgetExhausted {
            last = a.run(maxInstructions: 2_000_000_000)
            #expect(b.run(maxInstructions: 2_000_000_000) == last)
            #expect(LockstepTinyosTests.snapshot(a.machine) == LockstepTinyosTests.snapshot(b.machine))
        }
        #expect(last == probeStop)
        #expect(a.console.text == b.console.text)
        #expect(compared > 100)
    }
}
