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
        let probe = try LockstepTinyosTests.compareWithInterpreter(name, .jit, board: Self.board,
                                                                   accept: { $0.machine.effectiveEngine == .jit })
        if let probe { #expect((probe.machine.jitCounters?.nativeInstructions ?? 0) > 100_000) }
    }
}
