import Testing
import Machine

// Trap delivery, delegation, vectored mtvec, xRET, WFI, and interrupt priority (privileged spec,
// "Machine Trap Delegation Registers", "Machine Trap-Vector Base-Address Register", "Machine
// Interrupt Registers", "Wait for Interrupt").

/// The interrupt bit of mcause/scause.
let interruptBit: UInt64 = 1 << 63

@Suite struct TrapTests {
    let rig = Guest.Rig()
    var m: Machine { rig.machine }

    @Test func ecallFromSGoesToMWithMPP() throws {
        m.grantFullPMPAccess(hart: 0)
        try rig.start("nop\n ecall", mode: .supervisor)   // c.nop: 2 bytes
        #expect(rig.run(100) == .poweredOff(code: 0))
        #expect(rig.csr(0x342) == 9)
        #expect(rig.csr(0x341) == Layout.main + 2)
        #expect((rig.csr(0x300) >> 11) & 3 == 1, "MPP = S")
        #expect(m.privilege() == .machine)
        #expect(m.counters().exceptions[9] == 1)
    }

    @Test func delegatedEcallFromUGoesToS() throws {
        m.grantFullPMPAccess(hart: 0)
        m.writeCSR(0x302, 1 << 8)              // medeleg: ecall from U
        m.writeCSR(0x300, 1 << 1)              // SIE set: SPIE must capture it
        try rig.start("ecall", mode: .user)
        #expect(rig.run(100) == .poweredOff(code: 0))
        #expect(rig.csr(0x142) == 8, "scause")
        #expect(rig.csr(0x141) == Layout.main, "sepc")
        // The S handler's ecall then went to M from S.
        #expect(rig.csr(0x342) == 9)
        let ms = rig.csr(0x300)
        #expect(ms & (1 << 8) == 0, "SPP recorded U")
        #expect(ms & (1 << 5) != 0, "SPIE captured SIE")
        #expect(ms & (1 << 1) == 0, "SIE cleared on entry")
    }

    @Test func mretRestoresPrivilegeAndEnables() throws {
        m.grantFullPMPAccess(hart: 0)
        try rig.start("""
            la t0, 1f
            csrw mepc, t0
            li t0, (1 << 11) | (1 << 7)   # MPP = S, MPIE = 1
            csrw mstatus, t0
            mret
        1:  csrr a0, sstatus               # legal in S
            ecall
        """)
        #expect(rig.run(100) == .poweredOff(code: 0))
        #expect(rig.csr(0x342) == 9, "ecall came from S")
        // mret set MIE from MPIE (1) and MPIE to 1; the ecall then saved MIE into MPIE and cleared MIE.
        let ms = rig.csr(0x300)
        #expect(ms & (1 << 7) != 0)
        #expect(ms & (1 << 3) == 0)
    }

    @Test func vectoredInterruptsAndDirectExceptions() throws {
        // Vectored mtvec: the machine-timer interrupt enters at base + 4 * 7; mtrap is 16-aligned
        // but the vector slot for cause 7 is mtrap + 28, which lies inside mtrap's own code.
        // Use a base whose slot 7 is a finisher write: base = main region.
        try rig.start("""
            li t0, 0x2004000
            sd zero, 0(t0)                  # mtimecmp = 0: MTIP at once
            li t0, 1 << 7
            csrw mie, t0
            la t0, vec
            ori t0, t0, 1
            csrw mtvec, t0
            csrsi mstatus, 8                # MIE
        1:  j 1b
        .balign 256
        .option norvc
        vec:
            .rept 7
            j fail
            .endr
            j mtrap_v                        # slot 7
        fail:
            li t5, 0x100000
            li t6, (9 << 16) | 0x3333
            sw t6, 0(t5)
        mtrap_v:
            li t5, 0x100000
            li t6, 0x5555
            sw t6, 0(t5)
        2:  j 2b
        """)
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rig.csr(0x342) == interruptBit | 7)
        #expect(m.counters().interrupts[7] == 1)
    }

    @Test func interruptPriority() throws {
        // With MEI, MSI, MTI pending and enabled, MEI is taken first; then MSI, then MTI.
        m.writeCSR(0x304, 0xAAA)
        m.setPin(.meip, hart: 0, level: true)
        m.setPin(.msip, hart: 0, level: true)
        m.setPin(.mtip, hart: 0, level: true)
        try rig.start("csrsi mstatus, 8\n 1: j 1b")
        _ = rig.run(10)
        #expect(rig.csr(0x342) == interruptBit | 11)
        m.setPin(.meip, hart: 0, level: false)
        try rig.start("csrsi mstatus, 8\n 1: j 1b")
        _ = rig.run(10)
        #expect(rig.csr(0x342) == interruptBit | 3)
        m.setPin(.msip, hart: 0, level: false)
        // SEI (not delegated) loses to MTI.
        m.writeCSR(0x344, 1 << 9)
        try rig.start("csrsi mstatus, 8\n 1: j 1b")
        _ = rig.run(10)
        #expect(rig.csr(0x342) == interruptBit | 7)
        m.setPin(.mtip, hart: 0, level: false)
        try rig.start("csrsi mstatus, 8\n 1: j 1b")
        _ = rig.run(10)
        #expect(rig.csr(0x342) == interruptBit | 9)
    }

    @Test func delegatedInterruptsAreNotTakenInM() throws {
        m.writeCSR(0x303, 0x222)   // delegate S interrupts
        m.writeCSR(0x304, 0x222)
        m.writeCSR(0x344, 1 << 1)  // SSIP
        try rig.start("csrsi mstatus, 10\n li a0, 1\n 1: j 1b")  // MIE | SIE in M
        #expect(rig.run(50) == .budgetExhausted)
        #expect(m.counters().interrupts[1] == 0)
        #expect(m.privilege() == .machine)
    }

    @Test func supervisorInterruptTakenInUEvenWithSIEClear() throws {
        m.grantFullPMPAccess(hart: 0)
        m.writeCSR(0x303, 0x222)
        m.writeCSR(0x304, 0x222)
        m.writeCSR(0x344, 1 << 1)
        try rig.start("1: j 1b", mode: .user)
        #expect(rig.run(50) == .poweredOff(code: 0))
        #expect(rig.csr(0x142) == interruptBit | 1, "scause: SSI")
        #expect(rig.csr(0x342) == 9, "then the S handler's ecall")
    }

    @Test func wfiWithNothingToWakeIsIdle() throws {
        try rig.start("wfi\n j .")
        #expect(rig.run(100) == .idle)
        #expect(m.runState(hart: 0) == .waitingForInterrupt)
    }

    @Test func wfiSkipsTimeToTheTimer() throws {
        try rig.start("""
            li t0, 0x2004000
            li t1, 50000                   # 5 ms of mtime
            sd t1, 0(t0)
            li t0, 1 << 7
            csrw mie, t0                   # MTIE, but MIE clear: wake without a trap
            wfi
            li t5, 0x100000
            li t6, 0x5555
            sw t6, 0(t5)
        """)
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(m.mtime >= 50000)
        #expect(m.counters().instructions < 20, "time passed without executing instructions")
        #expect(m.counters().waits == 1)
        // The skipped time is sleep; the few instructions around it are not.
        #expect(m.sleptCycles > 0 && m.sleptCycles < m.cycles)
        #expect(m.cycles - m.sleptCycles < 2000, "only the few instructions around wfi are awake")
    }

    @Test func aBusyHartDoesNotSleep() throws {
        try rig.start("j .")
        #expect(rig.run(1000) == .budgetExhausted)
        #expect(m.cycles > 0)
        #expect(m.sleptCycles == 0)
    }

    @Test func wfiTrapsUnderTWAndInU() throws {
        m.grantFullPMPAccess(hart: 0)
        m.writeCSR(0x300, 1 << 21)
        try rig.start("wfi", mode: .supervisor)
        _ = rig.run(10)
        #expect(rig.csr(0x342) == 2)
        try rig.start("wfi", mode: .user)
        m.writeCSR(0x300, 0)
        _ = rig.run(10)
        #expect(rig.csr(0x342) == 2)
    }

    @Test func sretTrapsUnderTSR() throws {
        m.grantFullPMPAccess(hart: 0)
        m.writeCSR(0x300, 1 << 22)
        try rig.start("sret", mode: .supervisor)
        _ = rig.run(10)
        #expect(rig.csr(0x342) == 2)
        #expect(rig.csr(0x343) == 0x1020_0073, "mtval = sret's bits")
    }

    @Test func ebreakAndIllegal() throws {
        try rig.start(".word 0\n")
        _ = rig.run(10)
        #expect(rig.csr(0x342) == 2)
        #expect(rig.csr(0x343) == 0, "the all-zero parcel is illegal; tval is its bits")
        try rig.start("c.ebreak")
        _ = rig.run(10)
        #expect(rig.csr(0x342) == 3)
        #expect(rig.csr(0x343) == Layout.main)
    }

    @Test func accessFaultOnUnmappedPhysical() throws {
        try rig.start("li t0, 0x1000000000\n ld a0, 0(t0)")
        _ = rig.run(10)
        #expect(rig.csr(0x342) == 5)
        #expect(rig.csr(0x343) == 0x10_0000_0000)
        try rig.start("li t0, 0x1000000000\n sw a0, 0(t0)")
        _ = rig.run(10)
        #expect(rig.csr(0x342) == 7)
        try rig.start("li t0, 0x1000000000\n jr t0")
        _ = rig.run(10)
        #expect(rig.csr(0x342) == 1)
        #expect(rig.csr(0x341) == 0x10_0000_0000)
    }

    @Test func misalignedPolicies() throws {
        try rig.start("""
            li t0, 0x80001ffd
            li t1, 0x1122334455667788
            sd t1, 0(t0)
            ld a0, 0(t0)
            lw a1, 1(t0)
            ebreak
        """)
        _ = rig.run(100)
        #expect(rig.csr(0x342) == 3)
        #expect(rig.x(10) == 0x1122_3344_5566_7788)
        #expect(rig.x(11) == 0x4455_6677)
        let trapping = Guest.Rig { $0.misaligned = .trap }
        try trapping.start("li t0, 0x80001ffd\n ld a0, 0(t0)")
        _ = trapping.run(10)
        #expect(trapping.csr(0x342) == 4)
        #expect(trapping.csr(0x343) == 0x8000_1FFD)
        try trapping.start("li t0, 0x80001ffd\n amoadd.w a0, a1, (t0)")
        _ = trapping.run(10)
        #expect(trapping.csr(0x342) == 6)
        try rig.start("li t0, 0x80001ffd\n lr.d a0, (t0)")
        _ = rig.run(10)
        #expect(rig.csr(0x342) == 4, "LR misaligned even when loads are handled in hardware")
    }

    @Test func machineModeTrapHandlerHandlesSBICalls() throws {
        final class FakeSBI: MachineModeTrapHandler {
            var calls: [UInt64] = []
            func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart: Int) -> Bool {
                guard trap.cause == 9 else { return false }
                calls.append(machine.register(17, hart: hart))
                machine.setRegister(10, 42, hart: hart)
                return true
            }
        }
        let sbi = FakeSBI()
        m.trapHandler = sbi
        m.grantFullPMPAccess(hart: 0)
        try rig.start("li a7, 0x54494D45\n ecall\n mv s0, a0\n ebreak", mode: .supervisor)
        _ = rig.run(100)
        #expect(sbi.calls == [0x5449_4D45])
        #expect(rig.x(8) == 42)
        #expect(rig.csr(0x342) == 3, "the ebreak was not handled and went to M")
        #expect(m.counters().handledByHost[9] == 1)
    }
}

/// While the machine runs, the harts call its trap handler through a hold for the run, not the
/// property: a handler that removes itself in the middle of its call (its last strong reference
/// the machine's) lives until the run returns, and the traps after it go to whatever is installed
/// then, a handler installed mid-run included.
@Test(arguments: [ExecutionEngine.interpreter, .blocks, .jit])
func aTrapHandlerMayReplaceItselfWhileItRuns(_ engine: ExecutionEngine) throws {
    final class Counting: MachineModeTrapHandler {
        let name: String
        let replacement: (any MachineModeTrapHandler)?
        init(_ name: String, then replacement: (any MachineModeTrapHandler)?) {
            self.name = name
            self.replacement = replacement
        }
        func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart: Int) -> Bool {
            guard trap.cause == 9 else { return false }
            machine.trapHandler = replacement   // drops the last strong reference to self
            machine.setRegister(10, machine.register(10, hart: hart) &* 10 &+ (name == "first" ? 1 : 2), hart: hart)
            return true
        }
    }
    let rig = Guest.Rig { $0.engine = engine }
    weak var first: Counting?
    weak var second: Counting?
    do {
        let second1 = Counting("second", then: nil)
        let first1 = Counting("first", then: second1)
        first = first1
        second = second1
        rig.machine.trapHandler = first1
    }
    rig.machine.grantFullPMPAccess(hart: 0)
    // Three ecalls: the first handler takes one and installs the second, which takes one and
    // removes itself; the third goes to M-mode (mcause 9).
    try rig.start("li a0, 0\n ecall\n ecall\n ecall\n ebreak", mode: .supervisor)
    _ = rig.run(100)
    #expect(rig.x(10) == 12, "the first handler, then the second")
    #expect(rig.csr(0x342) == 9, "the third ecall found no handler and trapped to M")
    #expect(first == nil && second == nil, "both let go once the run returned")
    #expect(rig.machine.trapHandler == nil)
}

/// A fault in the middle of straight-line code reports the faulting instruction, not the start of
/// the run of instructions the engine executed without leaving its loop.
@Test(arguments: ["ld a0, 0(t0)", "sw a0, 0(t0)", "lbu a0, 0(t0)", "sh a0, 0(t0)"])
func faultsArePrecise(_ access: String) throws {
    let rig = Guest.Rig()
    try rig.start("""
        .option norvc
        li t0, 0x1000000000
        addi a1, a1, 1
        addi a1, a1, 2
        addi a1, a1, 3
        \(access)
        ebreak
    """)
    _ = rig.run(100)
    #expect(rig.csr(0x341) == Layout.main + 4 * 5, "mepc at the access (li expands to 2 instructions)")
    #expect(rig.csr(0x343) == 0x10_0000_0000)
    #expect(rig.x(11) == 6)
}

/// A hart in M-mode whose trap vector cannot be fetched would take the same instruction access
/// fault there forever. The run stops with `.stuck` at the first such trap, names the trap that led
/// there, and every engine stops at the same point with the same counters. A second run stops
/// again after one more trap; a vector that can be fetched is never reported, however many traps.
@Test(arguments: [ExecutionEngine.interpreter, .blocks, .jit])
func stuckOnAnUnfetchableTrapVector(_ engine: ExecutionEngine) throws {
    let rig = Guest.Rig { $0.engine = engine }
    try rig.start("csrw mtvec, zero\n .word 0")   // no handler, then an illegal instruction
    let stop = rig.run(1_000_000)
    guard case .stuck(let hart, let pc, let why) = stop else {
        Issue.record("\(engine): \(stop)")
        return
    }
    #expect(hart == 0 && pc == 0)
    #expect(why == "hart 0 is stuck: its trap vector 0x0 (mtvec) cannot be fetched (instruction access fault), so every trap returns to it; the trap that led there: illegal_instruction at pc 0x80000044 (tval 0x0)")
    let c = rig.machine.counters()
    #expect(c.instructions == 1, "\(engine)")   // the csrw: the two traps retire nothing
    #expect(c.exceptions[2] == 1 && c.exceptions[1] == 1)
    #expect(rig.csr(0x341) == 0 && rig.csr(0x342) == 1)   // mepc, mcause: the vector's own fault
    guard case .stuck = rig.run(1_000_000) else { Issue.record("the second run did not stop"); return }
    #expect(rig.machine.counters().exceptions[1] == 2)

    // Straight to an address with nothing there, and mtvec there too: stuck at the first trap,
    // with nothing before it to name.
    let direct = Guest.Rig { $0.engine = engine }
    try direct.start("li t0, 0x1000\n csrw mtvec, t0\n jr t0")
    #expect(direct.run(1_000_000) == .stuck(hart: 0, pc: 0x1000, why: "hart 0 is stuck: its trap vector 0x1000 (mtvec) cannot be fetched (instruction access fault), so every trap returns to it"))

    // With a second hart the machine goes on while that hart runs (it could still finish the
    // program), so the stuck one spins as the hardware would.
    let two = Guest.Rig { $0.engine = engine; $0.harts = 2 }
    try two.start("csrr t0, mhartid\n bnez t0, 1f\n csrw mtvec, zero\n .word 0\n1: j 1b")
    two.machine.startHart(1, privilege: .machine, pc: Layout.main, a0: 1, a1: 0)
    #expect(two.run(10_000) == .budgetExhausted)
    #expect(two.machine.pc(hart: 0) == 0 && two.machine.pc(hart: 1) != 0)

    // Once every hart is stuck, nothing can move any of them: the run stops, naming the trap that
    // led the reporting hart there (its first report's) and the others. Each hart reports at
    // every trap of its loop; the machine stops once, in one run, every hart has reported with
    // nothing retired anywhere since: here hart 1's csrw came after hart 0's first report, so
    // it is hart 0's second turn that finds them all stuck.
    let both = Guest.Rig { $0.engine = engine; $0.harts = 2; $0.quantum = 100 }
    try both.start("csrw mtvec, zero\n .word 0")
    both.machine.startHart(1, privilege: .machine, pc: Layout.main, a0: 1, a1: 0)
    #expect(both.run(1_000_000) == .stuck(hart: 0, pc: 0, why: "hart 0 is stuck: its trap vector 0x0 (mtvec) cannot be fetched (instruction access fault), so every trap returns to it; the trap that led there: illegal_instruction at pc 0x80000044 (tval 0x0); and no other hart can run on: hart 1 is stuck on its own trap vector"))
    #expect(both.machine.counters(hart: 0).instructions == 1 && both.machine.counters(hart: 1).instructions == 1)
    #expect(both.machine.instructionsExecuted(hart: 0) == 100 + 1, "hart 0: its first turn, then the trap that found hart 1 stuck")
    #expect(both.machine.instructionsExecuted(hart: 1) == 100)
    // A hart asleep in WFI may still be woken (here by its timer), and then finish the program:
    // the machine goes on while one waits.
    // (Traps cost cycles here, so that the stuck hart's loop moves the clock.)
    let waiting = Guest.Rig { $0.engine = engine; $0.harts = 2; $0.quantum = 100; $0.costs.exception = 10 }
    try waiting.start("""
        csrr t0, mhartid
        bnez t0, 1f
        csrw mtvec, zero
        .word 0
    1:  li t1, 0x2004008   # hart 1's mtimecmp
        li t2, 500
        sd t2, 0(t1)
        li t2, 0x80        # mie.MTIE: wakes the wfi (mstatus.MIE stays clear: no trap)
        csrw mie, t2
        wfi
        li t1, 0x100000    # the test finisher: pass
        li t2, 0x5555
        sw t2, 0(t1)
    2:  j 2b
    """)
    waiting.machine.startHart(1, privilege: .machine, pc: Layout.main, a0: 1, a1: 0)
    let woken = waiting.run(1_000_000)
    guard case .poweredOff = woken else { Issue.record("\(engine): \(woken)"); return }
    // But one that waits with no interrupt enabled in mie never wakes: the run stops, naming it.
    let asleep = Guest.Rig { $0.engine = engine; $0.harts = 2; $0.quantum = 100; $0.costs.exception = 10 }
    try asleep.start("""
        csrr t0, mhartid
        bnez t0, 1f
        csrw mtvec, zero
        .word 0
    1:  csrw mie, zero
        wfi
        j 1b
    """)
    asleep.machine.startHart(1, privilege: .machine, pc: Layout.main, a0: 1, a1: 0)
    #expect(asleep.run(1_000_000) == .stuck(hart: 0, pc: 0, why: "hart 0 is stuck: its trap vector 0x0 (mtvec) cannot be fetched (instruction access fault), so every trap returns to it; the trap that led there: illegal_instruction at pc 0x8000004c (tval 0x0); and no other hart can run on: hart 1 waits in wfi with no interrupt enabled (mie = 0)"))

    // A hart that was never started (or SBI stopped it) waits for another to start it, and none
    // can: stuck at the first trap.
    let alone = Guest.Rig { $0.engine = engine; $0.harts = 2 }
    try alone.start("csrw mtvec, zero\n .word 0")
    #expect(alone.run(1_000_000) == .stuck(hart: 0, pc: 0, why: "hart 0 is stuck: its trap vector 0x0 (mtvec) cannot be fetched (instruction access fault), so every trap returns to it; the trap that led there: illegal_instruction at pc 0x80000044 (tval 0x0); and no other hart can run on: hart 1 is stopped"))
    #expect(alone.machine.instructionsExecuted(hart: 0) == 3)
    // A new run starts afresh (the host may have mended a hart in between): each hart reports
    // once more. The trap before each one's report is now the loop's own, so none is named, as
    // for one hart.
    let again = both.run(1_000_000)
    #expect(again == .stuck(hart: 1, pc: 0, why: "hart 1 is stuck: its trap vector 0x0 (mtvec) cannot be fetched (instruction access fault), so every trap returns to it; and no other hart can run on: hart 0 is stuck on its own trap vector"))

    // A handler that itself traps, but from RAM: a loop of traps, not a stuck hart.
    let looping = Guest.Rig { $0.engine = engine }
    try looping.start("la t0, 1f\n csrw mtvec, t0\n1: .word 0")
    #expect(looping.run(10_000) == .budgetExhausted)
}

/// The S-mode twin: a kernel that faults before setting stvec, under firmware that leaves S-mode
/// alone (the built-in SBI), is stuck for good and reported, naming the trap from scause/sepc.
/// Under a handler that might redirect it (a VMM), or with translation on, it spins on.
@Test(arguments: [ExecutionEngine.interpreter, .blocks, .jit])
func stuckOnAnUnfetchableSupervisorTrapVector(_ engine: ExecutionEngine) throws {
    final class Firmware: MachineModeTrapHandler {
        let leavesSupervisorAlone: Bool
        init(leavesSupervisorAlone: Bool) { self.leavesSupervisorAlone = leavesSupervisorAlone }
        func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart: Int) -> Bool { false }
    }
    func rig(leavingSupervisorAlone: Bool) throws -> Guest.Rig {
        let rig = Guest.Rig { $0.engine = engine }
        rig.machine.trapHandler = Firmware(leavesSupervisorAlone: leavingSupervisorAlone)
        rig.machine.grantFullPMPAccess(hart: 0)
        try rig.start("csrw stvec, zero\n .word 0", mode: .supervisor)
        rig.machine.writeCSR(0x302, 1 << 1 | 1 << 2, hart: 0)   // medeleg: access faults, illegal
        return rig
    }
    let stuck = try rig(leavingSupervisorAlone: true)
    #expect(stuck.run(1_000_000) == .stuck(hart: 0, pc: 0, why: "hart 0 is stuck: its trap vector 0x0 (stvec) cannot be fetched (instruction access fault), so every trap returns to it; the trap that led there: illegal_instruction at pc 0x80000044 (tval 0x0)"))
    #expect(stuck.machine.counters().exceptions[1] == 1)
    let redirectable = try rig(leavingSupervisorAlone: false)
    #expect(redirectable.run(10_000) == .budgetExhausted)
}

/// TrapVectorLoop counts returns to the same unfetchable vector with nothing retired in between,
/// and starts over when anything retires or the fault moves; it keeps the trap that led in.
@Test func trapVectorLoopCountsOnlyAnUnbrokenRun() {
    var loop = TrapVectorLoop()
    let first = (cause: UInt64(2), pc: UInt64(0x8000_0000), tval: UInt64(0))
    let again = (cause: UInt64(12), pc: UInt64(0), tval: UInt64(0))
    let n = TrapVectorLoop.reportAfter
    /// Records `count` faults; how many of them reported.
    func record(_ count: UInt64, at pc: UInt64, retired: UInt64, _ previous: (cause: UInt64, pc: UInt64, tval: UInt64)) -> Int {
        var reports = 0
        for _ in 0..<count where loop.record(faultAt: pc, retired: retired, previous: previous) { reports += 1 }
        return reports
    }
    #expect(record(1, at: 0, retired: 7, first) == 0)
    #expect(record(n - 2, at: 0, retired: 7, again) == 0)
    #expect(loop.previous == first)
    // Something retired: the run starts over, and so does the trap that led in.
    #expect(record(n - 1, at: 0, retired: 8, again) == 0)
    #expect(loop.previous == again)
    // Another vector: over again; the n-th return in a row reports, and so does every later one.
    #expect(record(1, at: 0x1000, retired: 8, first) == 0)
    #expect(record(n - 2, at: 0x1000, retired: 8, again) == 0)
    #expect(record(2, at: 0x1000, retired: 8, again) == 2)
    #expect(loop.previous == first)
}

/// A VMM takes its own traps back from the instruction budget (`uncountMonitorTrap`), but a
/// handler that makes no progress (the same trap again and again, nothing retired) is only
/// forgiven `uncountedTrapLimit` times in a row: the run still comes back at its budget.
@Test(arguments: [ExecutionEngine.interpreter, .blocks, .jit])
func uncountedTrapsStillEndARunThatMakesNoProgress(_ engine: ExecutionEngine) throws {
    final class Monitor: MachineModeTrapHandler {
        /// Traps to forgive that then go on to the next instruction, as a filled shadow fault does.
        var resolveAfter: Int
        var taken = 0
        init(resolveAfter: Int) { self.resolveAfter = resolveAfter }
        func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart: Int) -> Bool {
            taken += 1
            machine.uncountMonitorTrap(hart: hart)
            if taken % (resolveAfter + 1) == 0 { machine.setPC(trap.pc &+ 4, hart: hart) }
            return true
        }
    }
    func rig(_ monitor: Monitor) throws -> Guest.Rig {
        let rig = Guest.Rig { $0.engine = engine }
        rig.machine.trapHandler = monitor
        rig.machine.grantFullPMPAccess(hart: 0)
        try rig.start(".option norvc\n .rept 64\n .word 0\n nop\n .endr", mode: .supervisor)
        return rig
    }
    // Never resolved: 16 traps forgiven, then each counts.
    let stuck = Monitor(resolveAfter: .max - 1)
    let r = try rig(stuck)
    #expect(r.run(100) == .budgetExhausted)
    #expect(stuck.taken == 100 + Machine.uncountedTrapLimit)
    // Resolved by the fourth try (it moves on to the nop, which retires): none of them counts,
    // and the budget of 10 is the ten nops.
    let progressing = Monitor(resolveAfter: 3)
    let p = try rig(progressing)
    #expect(p.run(10) == .budgetExhausted)
    #expect(progressing.taken == 40)
    #expect(p.machine.counters().instructions == 10)
}

/// mip.SEIP reads as the OR of its software-writable bit and the external interrupt controller's
/// signal, but CSRRS/CSRRC modify the software bit alone (privileged spec, "Machine Interrupt
/// Registers"). OpenSBI sets and clears mip.STIP with csrs/csrc on every timer tick; done while the
/// PLIC held SEIP high, the external signal used to be latched into the software bit, and Linux
/// on two harts then took supervisor external interrupts for ever with nothing to claim.
@Test(arguments: [ExecutionEngine.interpreter, .blocks, .jit])
func mipSetAndClearModifyOnlyTheSoftwareBits(_ engine: ExecutionEngine) throws {
    let rig = Guest.Rig { $0.engine = engine }
    let m = rig.machine
    m.setPin(.seip, hart: 0, level: true)
    m.setPin(.mtip, hart: 0, level: true)
    try rig.start("""
        csrr a0, mip            # SEIP and MTIP, from the pins
        li t0, 1 << 5
        csrs mip, t0            # STIP: SEIP must stay the controller's
        csrr a1, mip
        csrc mip, t0
        csrr a2, mip
        ebreak
        """)
    _ = rig.run(20)
    #expect(rig.x(10) == 0x280)
    #expect(rig.x(11) == 0x2A0)
    #expect(rig.x(12) == 0x280)
    m.setPin(.seip, hart: 0, level: false)
    m.setPin(.mtip, hart: 0, level: false)
    #expect(m.readCSR(0x344) == 0, "nothing latched")
    // The software SEIP is a bit of its own, ORed with the signal.
    try rig.start("""
        li t0, 1 << 9
        csrs mip, t0
        ebreak
        """)
    _ = rig.run(20)
    m.setPin(.seip, hart: 0, level: true)
    m.setPin(.seip, hart: 0, level: false)
    #expect(m.readCSR(0x344) == 1 << 9)
}
