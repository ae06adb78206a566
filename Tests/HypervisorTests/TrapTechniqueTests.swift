import Boot
import Machine
import Testing
@testable import Hypervisor

/// The `trap` technique on whole VMs: the same guest output as native, its events charged.
@Suite struct TrapTechniqueTests {
    @Test func runsTheTestKernelLikeNative() throws {
        let native = try Guest(TestKernels.configuration(TestKernels.hello(), mode: .native))
        defer { native.close() }
        let trap = try Guest(TestKernels.configuration(TestKernels.hello(), mode: .trap))
        defer { trap.close() }
        #expect(native.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(trap.run(maxInstructions: 1_000_000) == .poweredOff(code: 0))
        #expect(trap.consoleText == native.consoleText)
        let account = trap.technique.account(trap)
        // 1000 csrr sscratch, the stvec write, sret: emulated; the ebreak reflected; the putchars SBI calls.
        #expect(account.count(.privilegedEmulated) >= 1002)
        #expect(account.count(.exceptionReflected) == 1)
        #expect(account.count(.firmwareCall) == 7)
        #expect(account.count(.trap) == account.count(.privilegedEmulated) + account.count(.exceptionReflected)
                + account.count(.firmwareCall) + account.count(.shadowFault) + account.count(.tracedWrite))
        let counters = trap.technique.counters(trap)
        #expect(counters["shadow"]?["hidden_faults"] == account.count(.shadowFault))
    }

    /// Runs tinyos with `bootargs` under `mode`; returns its console text without `# ` lines.
    static func tinyos(_ bootargs: String, mode: ExecutionMode, budget: UInt64 = 400_000_000) throws -> (String, Guest)? {
        guard let kernel = Guests.path("tinyos", "tinyos.elf") else { return nil }
        var board = VirtBoardConfiguration()
        board.memory = 64 << 20
        board.kernel = .file(kernel)
        board.bootargs = bootargs
        let guest = try Guest(GuestConfiguration(mode: mode, board: board))
        let stop = guest.run(maxInstructions: budget)
        #expect(stop == .poweredOff(code: 0), "\(mode) \(bootargs): \(stop)\n\(guest.consoleText)")
        let text = guest.consoleText.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("# ") }.joined(separator: "\n")
        return (text, guest)
    }

    @Test(arguments: ["bench=syscall n=200", "bench=pagefault n=50", "bench=pte n=50", "bench=fork n=5"])
    func tinyosBenchmarkLikeNative(_ bootargs: String) throws {
        guard let (native, ng) = try Self.tinyos(bootargs, mode: .native) else { return }
        defer { ng.close() }
        guard let (trap, tg) = try Self.tinyos(bootargs, mode: .trap) else { return }
        defer { tg.close() }
        #expect(trap == native)
        if let t = tg.technique as? TrapTechnique, let m = t.monitor {
            #expect(m.shadow.checkCoherence() == [], "no stale shadow entry after \(bootargs)")
        }
    }
}
