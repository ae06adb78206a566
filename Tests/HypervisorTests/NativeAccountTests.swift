import Testing
import Machine
import RISCV
@testable import Hypervisor

/// A device register the guest reads and writes; a write at offset 8 ends the run.
private final class ProbeDevice: MMIODevice {
    let mmioSize: UInt64 = 0x100
    weak var machine: Machine?
    var value: UInt64 = 0

    func mmioRead(offset: UInt64, size: Int) -> UInt64? { offset == 0 ? value : 0 }

    func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool {
        if offset == 8 { machine?.requestStop(.hostStop("guest finished")) } else { self.value = value }
        return true
    }
}

/// A timer with no registers: raises MTIP once `mtime` reaches `deadline`.
private final class OneShotTimer: TimedDevice {
    weak var machine: Machine?
    var deadline: UInt64?
    init(deadline: UInt64) { self.deadline = deadline }
    var nextDeadline: UInt64? { deadline }
    func advance(to mtime: UInt64) {
        guard let d = deadline, mtime >= d else { return }
        deadline = nil
        machine?.setPin(.mtip, hart: 0, level: true)
    }
}

/// Firmware in Swift that services `ecall` with a0 = 1 and declines everything else.
private final class Firmware: MachineModeTrapHandler {
    func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart: Int) -> Bool {
        trap.cause == 9 && machine.register(10, hart: hart) == 1
    }
}

@Suite struct NativeAccountTests {
    /// An S-mode guest under Sv39 that exercises every event the machine prices: instructions,
    /// page walks and TLB misses, sfence.vma, a delegated exception, a firmware call, an interrupt,
    /// device register accesses, and an exception to M-mode that ends the run.
    static let guest = """
        .equ DEV, 0x10000000
        .equ ROOT, 0x80100000
    _start:
        la t0, mtrap
        csrw mtvec, t0
        la t0, strap
        csrw stvec, t0
        li t0, 8                # breakpoints are handled in S-mode
        csrw medeleg, t0
        li t0, 2                # so are supervisor software interrupts
        csrw mideleg, t0
        li t0, -1
        csrw pmpaddr0, t0
        li t0, 0x1f
        csrw pmpcfg0, t0
        li t0, ROOT
        li t1, 0x2000000f       # root[2]: a 1 GiB leaf for RAM, A and D clear so the walker sets them
        sd t1, 16(t0)
        li t1, 0x0f             # root[0]: a 1 GiB leaf over the device
        sd t1, 0(t0)
        li t1, 0x8000000000080100
        csrw satp, t1
        sfence.vma
        li t0, 0x800            # mstatus.MPP = S
        csrs mstatus, t0
        la t0, smain
        csrw mepc, t0
        mret
    smain:
        li s0, DEV
        li s1, 50
    1:  sw s1, 0(s0)
        lw s2, 0(s0)
        addi s1, s1, -1
        bnez s1, 1b
        ebreak                  # a native trap to strap
        li a0, 1
        ecall                   # serviced by the firmware in Swift
        sfence.vma
        csrsi sie, 2
        csrsi sstatus, 2
        csrsi sip, 2            # a software interrupt to ourselves
        nop
        li a0, 0xdead
        ecall                   # declined by the firmware: a trap to mtrap
    .align 2
    strap:
        csrr t0, scause
        bltz t0, 2f
        csrr t0, sepc
        addi t0, t0, 4
        csrw sepc, t0
        sret
    2:  csrci sip, 2
        sret
    .align 2
    mtrap:
        li t0, DEV
        sw zero, 8(t0)          # the device stops the machine
    3:  j 3b
    """

    /// Runs the guest on a machine priced by `profile`.
    static func run(_ profile: CostProfile) throws -> Machine {
        var c = MachineConfiguration()
        c.ramSize = 16 << 20
        c.costs = profile.machineCostTable
        let machine = Machine(c)
        let device = ProbeDevice()
        device.machine = machine
        machine.attach(device, at: 0x1000_0000)
        machine.trapHandler = Firmware()
        machine.loadPhysical(try Assembler.bytes(guest), at: 0x8000_0000)
        machine.startHart(0, privilege: .machine, pc: 0x8000_0000, a0: 0, a1: 0)
        // A flush the host asks for is the VMM's business: the machine does not charge it, and
        // neither does the account.
        machine.flushTLB(hart: 0)
        let stop = machine.run(maxInstructions: 100_000)
        #expect(stop == .hostStop("guest finished"))
        #expect(machine.readCSR(0x342) == 9)   // mcause: ecall from S-mode
        return machine
    }

    @Test(arguments: CostProfile.all)
    func accountReproducesTheMachineClock(_ profile: CostProfile) throws {
        let machine = try Self.run(profile)
        let a = CycleAccount.native(machine: machine, profile: profile)
        #expect(a.waitedCycles == 0)
        #expect(a.chargedCycles == machine.cycles)
        #expect(a.total == machine.cycles)
        #expect(machine.mtime == machine.cycles / machine.configuration.cyclesPerTick)
        // Every path the machine prices was taken, so the equality above covers each of them.
        #expect(a.count(.trap) == 2)            // ebreak, and the declined ecall
        #expect(a.count(.firmwareCall) == 1)
        #expect(a.count(.interrupt) == 1)
        #expect(a.count(.mmioAccess) == 101)    // 50 stores, 50 loads, the final store
        #expect(a.count(.tlbFlush) == 2)        // the two sfence.vma, not the host's flush
        #expect(machine.counters().tlb.hostFlushes == 1)
        #expect(a.count(.tlbMiss) >= 2)         // the code page and the device page, at least
        #expect(a.count(.walkReference) >= a.count(.tlbMiss))
        #expect(a.count(.instruction) > 200)
        #expect(a.cycles(in: .trap) == 4 * profile.cycles(.trap))   // trap, firmware call and interrupt share a price
        #expect(a.cycles(in: .device) == 101 * profile.cycles(.mmioAccess))
    }

    @Test func anotherProfilesPricesDoNotReproduceTheClock() throws {
        let machine = try Self.run(.classic2006)
        let a = CycleAccount.native(machine: machine, profile: .modern)
        #expect(a.chargedCycles != machine.cycles)
        // Re-pricing the right counts with the right profile does.
        #expect(a.repriced(with: .classic2006).chargedCycles == machine.cycles)
        // Counts do not depend on prices: both runs see the same events.
        let b = CycleAccount.native(machine: try Self.run(.modern), profile: .modern)
        for e in CostEvent.allCases { #expect(a.count(e) == b.count(e), "\(e.name)") }
    }

    @Test func sameGuestSameAccount() throws {
        let a = CycleAccount.native(machine: try Self.run(.core2_2006), profile: .core2_2006)
        let b = CycleAccount.native(machine: try Self.run(.core2_2006), profile: .core2_2006)
        #expect(a == b)
    }

    /// A guest that sleeps in WFI until a timer fires: the time asleep is charged to no event and
    /// appears as `waitedCycles`, exactly the distance from the WFI to the timer's deadline.
    @Test(arguments: [CostProfile.classic2006, CostProfile.modern])
    func waitingIsAccountedApart(_ profile: CostProfile) throws {
        let program = try Assembler.assemble("""
            .equ DEV, 0x10000000
        _start:
            la t0, mtrap
            csrw mtvec, t0
            li t0, 0x80             # mie.MTIE
            csrw mie, t0
            csrsi mstatus, 8        # mstatus.MIE
        sleep:
            wfi
            j sleep
        .align 2
        mtrap:
            li t0, DEV
            sw zero, 8(t0)
        1:  j 1b
        """)
        var c = MachineConfiguration()
        c.ramSize = 16 << 20
        c.costs = profile.machineCostTable
        let machine = Machine(c)
        let device = ProbeDevice()
        device.machine = machine
        machine.attach(device, at: 0x1000_0000)
        let deadlineTicks: UInt64 = 50_000
        let timer = OneShotTimer(deadline: deadlineTicks)
        timer.machine = machine
        machine.addTimedDevice(timer)
        machine.loadPhysical(program.bytes, at: 0x8000_0000)
        machine.startHart(0, privilege: .machine, pc: 0x8000_0000, a0: 0, a1: 0)

        // Up to the WFI nothing waits.
        let wfi = try #require(program.symbols["sleep"])
        machine.breakpoints = [wfi]
        #expect(machine.run(maxInstructions: 1000) == .breakpoint(hart: 0, pc: wfi))
        let before = CycleAccount.native(machine: machine, profile: profile)
        #expect(before.waitedCycles == 0 && before.total == machine.cycles)

        machine.breakpoints = []
        #expect(machine.run(maxInstructions: 1000) == .hostStop("guest finished"))
        let after = CycleAccount.native(machine: machine, profile: profile)
        #expect(after.total == machine.cycles)
        #expect(after.count(.interrupt) == 1)
        // The hart slept from just after the WFI retired to the deadline.
        let deadline = deadlineTicks * c.cyclesPerTick
        #expect(after.waitedCycles == deadline - before.chargedCycles - profile.cycles(.instruction))
        // What it did after waking is charged: the interrupt, the handler, the device store.
        #expect(machine.cycles - deadline == after.chargedCycles - before.chargedCycles - profile.cycles(.instruction))
    }
}
