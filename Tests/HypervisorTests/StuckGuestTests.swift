import Boot
import Machine
import Testing
@testable import Hypervisor

/// A guest kernel whose stvec sends a fetch fault back to the address that faulted takes that
/// trap at every step. Under every technique the run stops with `.stuck` and names the trap that
/// led there, as the machine does for a hart on its own (MachineTests' `stuckOn…TrapVector`);
/// with translation on, where a page table could still change, once the same fault has come back
/// `TrapVectorLoop.reportAfter` times with nothing retired.
@Suite struct StuckGuestTests {
    /// A mode, and under `hw` its paging: there the guest's trap vector is vstvec, and the loop
    /// comes back either through the VMM (a G-stage or shadow fault it reflects) or straight
    /// from the hart (a fault hedeleg delivers).
    struct Setup: Sendable, CustomTestStringConvertible {
        let mode: ExecutionMode
        var paging: HardwarePaging? = nil

        func configuration(_ source: String) throws -> GuestConfiguration {
            var c = try TestKernels.configuration(source, mode: mode)
            if let paging { c.hardwarePolicy = HardwareAssistedPolicy(paging: paging) }
            return c
        }
        var register: String { mode == .hw ? "vstvec" : "stvec" }
        /// Under shadow paging the hart runs on the VMM's tables even while the guest's
        /// translation is off, and hedeleg hands it the access fault without an exit: the hart
        /// sees page tables that could change, so it reports the loop once it has repeated.
        var hartTranslates: Bool { paging == .shadow }
        var testDescription: String { paging.map { "\(mode)-\($0)" } ?? "\(mode)" }
    }

    static let withoutTranslation: [Setup] = [.native, .interpret, .trap, .bt, .pv, .hw].map { Setup(mode: $0) }
        + [Setup(mode: .hw, paging: .shadow)]
    /// Not pv: its VMM refuses the unvalidated root.
    static let withTranslation = withoutTranslation.filter { $0.mode != .pv }

    /// The kernel's first instruction is illegal and its stvec is 0, where the board has nothing.
    @Test(arguments: withoutTranslation)
    func aKernelWithoutATrapVectorStopsAtOnce(_ setup: Setup) throws {
        let guest = try Guest(setup.configuration("_start:\n    .word 0\n"))
        defer { guest.close() }
        let repeated = setup.hartTranslates ? " (with translation on: it came back 100000 times in a row, no instruction retired)" : ""
        let why = "hart 0 is stuck: its trap vector 0x0 (\(setup.register)) cannot be fetched (instruction access fault), so every trap returns to it" + repeated
        let ledThere = "; the trap that led there: illegal_instruction at pc 0x80200000 (tval 0x0)"
        #expect(guest.run(maxInstructions: 1_000_000) == .stuck(hart: 0, pc: 0, why: why + ledThere))
        let steps = setup.hartTranslates ? TrapVectorLoop.reportAfter + 10 : 10
        #expect(guest.executedInstructions < steps, "\(setup): it stopped at the first fault on stvec, or at the report")
        // Run again: still stuck; the trap before this one is now that same fault, so the message
        // names none (a loop recognised by repetition goes on counting, and keeps the first).
        #expect(guest.run(maxInstructions: 1_000_000) == .stuck(hart: 0, pc: 0, why: why + (setup.hartTranslates ? ledThere : "")))
    }

    /// The same loop with Sv39 on (a gigapage maps va 0 to guest-physical 0, where nothing is):
    /// the fetch still faults, but the page table is memory that could change, so the loop is
    /// reported only once it has come back `TrapVectorLoop.reportAfter` times with nothing
    /// retired; a smaller budget runs out first, as on a hart.
    @Test(arguments: withTranslation)
    func withTranslationOnTheLoopIsReportedOnceItRepeats(_ setup: Setup) throws {
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
        let guest = try Guest(setup.configuration(source))
        defer { guest.close() }
        #expect(guest.run(maxInstructions: 20_000) == .budgetExhausted)
        #expect(guest.machine.pc(hart: 0) == 0)
        let stop = guest.run(maxInstructions: 2 * TrapVectorLoop.reportAfter)
        guard case .stuck(let hart, let pc, let why) = stop else {
            Issue.record("\(setup): \(stop), not stuck"); return
        }
        #expect(hart == 0 && pc == 0)
        #expect(why.hasPrefix("hart 0 is stuck: its trap vector 0x0 (\(setup.register)) cannot be fetched (instruction access fault), so every trap returns to it (with translation on: it came back 100000 times in a row, no instruction retired); the trap that led there: illegal_instruction at pc 0x802"), "\(setup): \(why)")
        #expect(guest.executedInstructions < TrapVectorLoop.reportAfter + 100, "\(setup): it stopped at the report")
    }

    /// Two vCPUs: one stuck hart does not end the run while another can still go on, but once
    /// none can, it does. Alone, hart 1 waits (stopped, as SBI leaves it) for a hart_start that
    /// the stuck hart 0 will never make: reported at once. Started (SBI HSM hart_start) into the
    /// same crash, it is stuck too, and the run stops when the two are, naming both. Not trap and
    /// bt, which run one vCPU.
    @Test(arguments: withoutTranslation.filter { $0.mode != .trap && $0.mode != .bt })
    func twoVCPUsStopOnceNeitherCanRunOn(_ setup: Setup) throws {
        var alone = try setup.configuration("_start:\n    .word 0\n")
        alone.board.harts = 2
        let first = try Guest(alone)
        defer { first.close() }
        let repeated = setup.hartTranslates ? " (with translation on: it came back 100000 times in a row, no instruction retired)" : ""
        let ledThere = "; the trap that led there: illegal_instruction at pc 0x80200000 (tval 0x0)"
        func why(_ hart: Int, _ rest: String) -> String {
            "hart \(hart) is stuck: its trap vector 0x0 (\(setup.register)) cannot be fetched (instruction access fault), so every trap returns to it" + repeated + rest
        }
        #expect(first.run(maxInstructions: 1_000_000) == .stuck(hart: 0, pc: 0, why: why(0, ledThere + "; and no other hart can run on: hart 1 is stopped")))

        var both = try setup.configuration("""
        _start:
            li a0, 1                 # hart_start(1, crash, 0)
            la a1, crash
            li a2, 0
            li a7, 0x48534D
            li a6, 0
            ecall
        crash:
            .word 0
        """)
        both.board.harts = 2
        let second = try Guest(both)
        defer { second.close() }
        guard case .stuck(let hart, 0, let message) = second.run(maxInstructions: 10_000_000) else {
            Issue.record("\(setup): not reported as stuck"); return
        }
        let crash = "; the trap that led there: illegal_instruction at pc 0x80200020 (tval 0x0)"
        #expect(message == why(hart, crash + "; and no other hart can run on: hart \(1 - hart) is stuck on its own trap vector"), "\(setup)")
        #expect(second.machine.runState(hart: 1) == .started)
    }

    /// The classic bug: the kernel turns paging on with a page table that maps neither its code
    /// nor its stvec. The fetch after the satp write faults, and so does stvec's, for good; the
    /// message names the first fault.
    @Test(arguments: withTranslation)
    func aKernelThatUnmapsItselfIsReported(_ setup: Setup) throws {
        let source = """
        _start:
            li t0, DATA
            srli t0, t0, 12
            li t1, 8 << 60
            or t0, t0, t1
            csrw stvec, zero
            csrw satp, t0            # Sv39, an empty root at DATA
            sfence.vma
            nop
        """
        let guest = try Guest(setup.configuration(source))
        defer { guest.close() }
        guard case .stuck(let hart, let pc, let why) = guest.run() else {
            Issue.record("\(setup): not reported as stuck"); return
        }
        #expect(hart == 0 && pc == 0)
        #expect(why.hasPrefix("hart 0 is stuck: its trap vector 0x0 (\(setup.register)) cannot be fetched (instruction page fault)"), "\(setup): \(why)")
        #expect(why.hasSuffix("; the trap that led there: instruction_page_fault at pc 0x80200020 (tval 0x80200020)"), "\(setup): \(why)")
    }
}
