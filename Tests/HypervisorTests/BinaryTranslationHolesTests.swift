import Boot
import Foundation
import GuestTestSupport
import Machine
import RISCV
import Testing
@testable import Hypervisor

/// Why binary translation existed [RI00, AA06]: on a machine whose sensitive instructions do not
/// all trap (`Machine.holes`), trap-and-emulate runs the guest kernel wrong, while a translator,
/// which rewrites those instructions before they run, runs it right. And a hostile kernel (random
/// code) never crashes the host under `bt`.
@Suite struct BinaryTranslationHolesTests {
    static func tinyos(_ bootargs: String, mode: ExecutionMode, holes: Set<SensitiveHole>) throws -> (String, StopReason)? {
        guard let board = try TinyosBoards.configuration(bootargs, tag: "bt-holes") else { return nil }
        let g = try Guest(GuestConfiguration(mode: mode, board: board))
        defer { g.close() }
        g.machine.holes = holes
        let stop = g.run(maxInstructions: 30_000_000)
        return (TinyosGuest.comparable(g.consoleText), stop)
    }

    @Test func holesBreakTrapButNotBT() throws {
        let bootargs = "bench=syscall n=20"
        guard let (native, nativeStop) = try Self.tinyos(bootargs, mode: .native, holes: []) else { return }
        #expect(nativeStop == .poweredOff(code: 0) && native.contains("status=ok"))
        // The hole lab 03 shows: a deprivileged sret does nothing, so trap's guest goes wrong.
        let (trap, trapStop) = try #require(try Self.tinyos(bootargs, mode: .trap, holes: [.sret]))
        #expect(trap != native || trapStop != .poweredOff(code: 0), "the sret hole breaks trap-and-emulate")
        // Under bt the kernel's sret, and every other sensitive instruction, is rewritten before
        // it runs: the same guest is correct with every hole open.
        let all = SensitiveHole.supervisorCSRs.union(SensitiveHole.privilegedInstructions)
        for holes in [[SensitiveHole.sret], all] {
            let (bt, btStop) = try #require(try Self.tinyos(bootargs, mode: .bt, holes: holes))
            #expect(btStop == .poweredOff(code: 0))
            #expect(bt == native, "holes \(holes)")
        }
    }

    /// Random kernel code (half sensitive instructions with random operands, half random words),
    /// with a handler that skips whatever traps: the host survives, the account still equals the
    /// clock, and the shadows stay coherent.
    @Test(arguments: 0..<8)
    func hostileKernelCodeNeverCrashesTheHost(seed: Int) throws {
        var rng = HostileKernel.LCG(state: UInt64(seed) &* 0x9E37_79B9 &+ 7)
        var words: [UInt32] = []
        for _ in 0..<2048 {
            let r = rng.next()
            switch r % 4 {
            case 0:
                words.append(HostileKernel.csrAccess(r))
            case 1:
                // sret, mret, wfi, sfence.vma, ecall
                words.append([0x1020_0073, 0x3020_0073, 0x1050_0073, 0x1200_0073, 0x0000_0073][Int(r >> 8) % 5])
            case 2:
                // A load or store through a random register.
                let store = HostileKernel.store(r)
                let load = UInt32((r >> 8) & 0xFFF) << 20 | UInt32((r >> 21) & 31) << 15 | UInt32((r >> 33) & 7) << 12
                    | UInt32((r >> 26) & 31) << 7 | 0x03
                words.append(r & (1 << 40) != 0 ? store : load)
            default:
                words.append(UInt32(truncatingIfNeeded: r))
            }
        }
        let source = HostileKernel.source(words)
        let g = try Guest(TestKernels.configuration(source, mode: .bt))
        defer { g.close() }
        _ = g.run(maxInstructions: 300_000)
        let t = try #require(g.technique as? BinaryTranslationTechnique)
        #expect(t.checkCoherence() == [])
        #expect(t.account(g).total == g.cycles)
        #expect(t.translator?.counters.translatedInstructions ?? 0 > 0)
    }
}
