// The para-virtual VMM's work is on the guest's clock: every unit the account charges beyond the
// machine's own events (validated updates, emulated instructions, reflections, flushes, upcalls)
// advanced the vCPU's cycles when it was done, so the account reproduces the clock exactly; and a
// vCPU that blocks (the `block` hypercall, an emulated `wfi`) sleeps instead of spinning.
import Boot
import Foundation
import Machine
import RISCV
import Testing
@testable import Hypervisor

@Suite struct ParavirtualClockTests {
    /// The technique test's kernel (hypercalls, emulated satp/sfence/wfi, a reflection) without
    /// the sleep: everything it does is charged, nothing waited.
    @Test(arguments: [CostProfile.standard, .classic2006])
    func theAccountIsTheClock(profile: CostProfile) throws {
        let lines = ParavirtualTechniqueTests.kernel.split(separator: "\n", omittingEmptySubsequences: false)
        let kernel = lines.filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("wfi") }.joined(separator: "\n")
        #expect(lines.count == kernel.split(separator: "\n", omittingEmptySubsequences: false).count + 1)
        let source = ParavirtualTechniqueTests.pvMacros + "\n" + kernel
        let guest = try Guest(TestKernels.configuration(source, mode: .pv, profile: profile))
        defer { guest.close() }
        #expect(guest.run(maxInstructions: 100_000) == .poweredOff(code: 0))
        #expect(guest.consoleText == "pv\nok\n")
        let a = guest.technique.account(guest)
        #expect(a.count(.pvUpdate) == 1)
        #expect(a.count(.privilegedEmulated) == 2)     // csrr satp, sfence.vma
        #expect(a.count(.exceptionReflected) == 1)
        #expect(a.count(.tlbFlush) >= 2)               // set_satp's flush, the emulated sfence.vma
        #expect(a.waitedCycles == 0)
        #expect(a.chargedCycles == guest.machine.cycles, "\(a.byEvent.map { "\($0.event)=\($0.count)" })")
        #expect(guest.statistics().cycles.total == a.total)
    }

    /// The same kernel with its `wfi`: the vCPU sleeps until the timer it armed 100 ticks ahead,
    /// so the clock moves past the charged work by the wait, and the wfi is emulated once.
    @Test func anEmulatedWfiSleeps() throws {
        let source = ParavirtualTechniqueTests.pvMacros + "\n" + ParavirtualTechniqueTests.kernel
        let guest = try Guest(TestKernels.configuration(source, mode: .pv))
        defer { guest.close() }
        #expect(guest.run(maxInstructions: 100_000) == .poweredOff(code: 0))
        let a = guest.technique.account(guest)
        let domain = (guest.technique as! ParavirtualTechnique).domain!
        #expect(domain.emulated["wfi"] == 1)
        #expect(a.count(.privilegedEmulated) == 3)
        #expect(a.waitedCycles > 0)
        #expect(a.total == guest.machine.cycles)
        #expect(guest.machine.mtime >= 100)
    }

    /// `block` with nothing pending parks the vCPU until its timer fires: a handful of
    /// instructions rather than a polling loop, the wait on the clock, and block answers 0.
    static let blocker = """
    _start:
        li t0, 0x20
        csrw sie, t0               # STIE; sstatus.SIE clear: the wake-up is not taken as a trap
        csrr a0, time
        li t0, 5000
        add a0, a0, t0
        mv s1, a0
    \(ParavirtualTechniqueTests.hypercall(.setTimer))
        bnez a0, fail
        li s2, 0
    1:  addi s2, s2, 1
    \(ParavirtualTechniqueTests.hypercall(.block))
        bnez a0, fail
        csrr t0, time
        bltu t0, s1, 1b            # woken early: block again
        li t0, 1
        bne s2, t0, fail           # one block sufficed
    \(TestKernels.shutdown(0))
    fail:
    \(TestKernels.shutdown(1))
    """

    @Test func blockParksTheVCPU() throws {
        let guest = try Guest(TestKernels.configuration(ParavirtualTechniqueTests.pvMacros + "\n" + Self.blocker, mode: .pv))
        defer { guest.close() }
        #expect(guest.run(maxInstructions: 100_000) == .poweredOff(code: 0))
        let domain = (guest.technique as! ParavirtualTechnique).domain!
        #expect(domain.calls["block"] == 1)
        #expect(guest.instructions < 200, "no polling: \(guest.instructions) instructions")
        let a = guest.technique.account(guest)
        #expect(a.waitedCycles > 0)
        #expect(a.total == guest.machine.cycles)
        #expect(guest.machine.mtime >= 5000)
    }

    /// tinyos-pv's benchmarks: the account equals the clock (whatever the VMM did was charged
    /// when done), per vCPU and in total.
    @Test(arguments: ["syscall", "pagefault", "ctxsw", "pte", "fork"])
    func tinyosPVAccountIsTheClock(name: String) throws {
        guard let pv = try ParavirtualTinyosTests.guest(name, kernel: "tinyos-pv.elf", mode: .pv) else {
            Issue.record("no tinyos-pv guest")
            return
        }
        defer { pv.close() }
        #expect(pv.run(maxInstructions: 2_000_000_000) == .poweredOff(code: 0))
        let a = pv.technique.account(pv)
        #expect(a.count(.pvUpdate) > 0)
        #expect(a.total == pv.machine.cycles)
        let domain = (pv.technique as! ParavirtualTechnique).domain!
        if domain.calls["block"] == nil {
            #expect(a.waitedCycles == 0)
            #expect(a.chargedCycles == pv.machine.cycles)
        }
        #expect(domain.work[0].updates == domain.updatesApplied)
    }
}
