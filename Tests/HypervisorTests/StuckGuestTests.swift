import Boot
import Machine
import Testing
@testable import Hypervisor

/// A guest kernel whose stvec sends a fetch fault back to the address that faulted takes that
/// trap at every step. Under every technique the run stops with `.stuck` and names the trap that
/// led there, as the machine does for a hart on its own (MachineTests' `stuckOn…TrapVector`);
/// with translation on it is not reported, since a page table could still change.
@Suite struct StuckGuestTests {
    static let modes: [ExecutionMode] = [.native, .interpret, .trap, .bt, .pv]

    /// The kernel's first instruction is illegal and its stvec is 0, where the board has nothing.
    @Test(arguments: modes)
    func aKernelWithoutATrapVectorStopsAtOnce(_ mode: ExecutionMode) throws {
        let guest = try Guest(TestKernels.configuration("_start:\n    .word 0\n", mode: mode))
        defer { guest.close() }
        let why = "hart 0 is stuck: its trap vector 0x0 (stvec) cannot be fetched (instruction access fault), so every trap returns to it"
        #expect(guest.run(maxInstructions: 1_000_000) == .stuck(hart: 0, pc: 0, why: why + "; the trap that led there: illegal_instruction at pc 0x80200000 (tval 0x0)"))
        #expect(guest.executedInstructions < 10, "\(mode): it stopped at the first fault on stvec")
        // Run again: still stuck; the trap before this one is now that same fault, so the message
        // names none.
        #expect(guest.run(maxInstructions: 1_000_000) == .stuck(hart: 0, pc: 0, why: why))
    }

    /// The same loop with Sv39 on (a gigapage maps va 0 to guest-physical 0, where nothing is):
    /// the fetch still faults, but the page table is memory that could change, so the guest runs
    /// on to its budget, as a hart would.
    @Test(arguments: [ExecutionMode.native, .interpret, .trap, .bt])
    func withTranslationOnTheLoopIsNotReported(_ mode: ExecutionMode) throws {
        let source = """
        _start:
            li t0, DATA
            li t1, 0xcf
            sd t1, 0(t0)             # va 0 → pa 0, a 1 GiB page (V R W X A D)
            li t1, 0x200000cf
            sd t1, 16(t0)            # va 0x80000000 → pa 0x80000000, the kernel
            csrw stvec, zero
            li t1, 0x8000000000080300
            csrw satp, t1            # Sv39, root at DATA
            sfence.vma
            .word 0
        """
        let guest = try Guest(TestKernels.configuration(source, mode: mode))
        defer { guest.close() }
        #expect(guest.run(maxInstructions: 20_000) == .budgetExhausted)
        #expect(guest.machine.pc(hart: 0) == 0)
    }
}
