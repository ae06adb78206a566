@testable import Machine
import Testing
@testable import Hypervisor

/// `CycleAccount.interpreted` prices each machine counter with the interpreter's event, and the
/// machine price table `InterpretTechnique.costTable` charges the same prices.
@Suite struct InterpretedAccountTests {
    @Test(arguments: CostProfile.all)
    func countersMapToTheInterpretersEvents(_ profile: CostProfile) {
        var c = HartCounters()
        c.instructions = 1000
        c.exceptions[2] = 3          // illegal instruction, reflected to the guest kernel
        c.exceptions[9] = 5          // SBI calls...
        c.handledByHost[9] = 5       // ...served by the virtual SBI
        c.interrupts[5] = 2
        c.mmioAccesses = 7
        c.tlb.walkReferences = 30
        c.tlb.fetchMisses = 10
        c.tlb.fullFlushes = 4
        c.tlb.hostFlushes = 1
        let t = InterpretTechnique.costTable(profile)
        let machineCycles = 1000 * t.instruction + 8 * t.exception - 5 * t.exception + 5 * t.handledTrap
            + 2 * t.interrupt + 7 * t.mmioAccess + 30 * t.walkReference + 10 * t.tlbMiss + 4 * t.tlbFlush
        c.cycles = machineCycles + 123   // and some waiting
        let a = CycleAccount.interpreted(c, profile: profile)
        #expect(a.count(.interpretation) == 1000 && a.count(.instruction) == 0)
        #expect(a.count(.exceptionReflected) == 3 && a.count(.trap) == 0)
        #expect(a.count(.privilegedEmulated) == 5 && a.count(.firmwareCall) == 0)
        #expect(a.count(.interruptInjected) == 2 && a.count(.interrupt) == 0)
        #expect(a.count(.deviceEmulated) == 7 && a.count(.mmioAccess) == 0)
        #expect(a.count(.walkReference) == 30 && a.count(.tlbMiss) == 0)
        #expect(a.count(.tlbFlush) == 4)   // the guest's, not the host's
        #expect(a.chargedCycles == machineCycles && a.waitedCycles == 123 && a.total == c.cycles)
        #expect(a.cycles(in: .interpretation) == 1000 * profile.cycles(.interpretation))
        #expect(a.cycles(in: .guest) == 0)
    }
}
