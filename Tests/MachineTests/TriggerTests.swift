import Testing
@testable import Machine

// Sdtrig debug triggers (Hart+Triggers.swift). labs/guests/isa/triggers.S checks the architecture
// (it runs in the ISA suite and under QEMU); these tests check what the engines must do for it:
// code that was compiled or cached before a trigger was armed still stops at the exact access.

/// A loop stores to 1000 consecutive doublewords, twice. The first pass runs with no trigger (the
/// native-code and block engines compile the loop); then the program arms a store trigger on
/// element 700 and runs the loop again: the trigger must fire on that store, before it, with
/// mepc at the store and the loop counter at 700, on every engine.
@Test(arguments: [ExecutionEngine.interpreter, .blocks, .jit])
func aStoreTriggerStopsCompiledCodeAtTheExactAccess(engine: ExecutionEngine) throws {
    let rig = Guest.Rig { $0.engine = engine }
    try rig.start("""
        li s0, 0x80100000       # the array
        li s2, 0
        la s3, 1f
    pass:
        li s1, 0                # element index
        mv t0, s0
    1:  sd s1, 0(t0)            # the store the trigger watches
        addi t0, t0, 8
        addi s1, s1, 1
        li t1, 1000
        blt s1, t1, 1b
        bnez s2, done
        li s2, 1
        csrw 0x7a0, zero        # tselect = 0
        li t1, 0x80100000 + 700 * 8
        csrw 0x7a2, t1          # tdata2: element 700
        li t1, (2 << 60) | (1 << 6) | (1 << 1)
        csrw 0x7a1, t1          # tdata1: mcontrol, M-mode, store
        csrsi mstatus, 8        # MIE: triggers fire in M-mode only while it is set
        j pass
    done:
        ebreak
    """)
    _ = rig.run(1_000_000)
    #expect(rig.csr(0x342) == 3, "a breakpoint exception")
    #expect(rig.x(9) == 700, "the loop counter: the trigger fired on element 700's store")
    #expect(rig.csr(0x343) == 0x8010_0000 + 700 * 8, "mtval: the store's address")
    #expect(rig.csr(0x341) == rig.x(19), "mepc: the store")
    let element = rig.machine.readPhysical(littleEndianAt: 0x8010_0000 + 700 * 8, count: 8)
    #expect(element == 700, "the first pass wrote it; the second pass's store did not happen")
    #expect(rig.csr(0x7A1) & (1 << 20) != 0, "mcontrol.hit")
}

/// One write of tdata1: what reads back, and whether the module is then armed / watches data.
struct TriggerWrite: Sendable, CustomTestStringConvertible {
    let written: UInt64, read: UInt64, armed: Bool, watchesData: Bool
    var testDescription: String { "tdata1 = 0x\(String(written, radix: 16))" }

    static let mcontrol: UInt64 = 2 << 60, mcontrol6: UInt64 = 6 << 60, disabled: UInt64 = 15 << 60
    static let icount: UInt64 = 3 << 60
    static let load: UInt64 = 1 << 0, store: UInt64 = 1 << 1, execute: UInt64 = 1 << 2
    static let u: UInt64 = 1 << 3, s: UInt64 = 1 << 4, m: UInt64 = 1 << 6
    /// timing, select, an action of 5, chain, dmode: fields this hart does not implement.
    static let unimplemented: UInt64 = 1 << 18 | 1 << 19 | 5 << 12 | 1 << 11 | 1 << 59
    static let reservedMatch: UInt64 = 6 << 7

    static let cases: [TriggerWrite] = [
        TriggerWrite(written: mcontrol | execute, read: mcontrol | execute, armed: false, watchesData: false),
        TriggerWrite(written: mcontrol | m, read: mcontrol | m, armed: false, watchesData: false),
        TriggerWrite(written: mcontrol | m | execute, read: mcontrol | m | execute, armed: true, watchesData: false),
        TriggerWrite(written: mcontrol6 | u | load, read: mcontrol6 | u | load, armed: true, watchesData: true),
        TriggerWrite(written: mcontrol | s | store | unimplemented, read: mcontrol | s | store,
                     armed: true, watchesData: true),
        TriggerWrite(written: mcontrol | m | load | reservedMatch, read: mcontrol | m | load,
                     armed: true, watchesData: true),
        TriggerWrite(written: 0, read: disabled, armed: false, watchesData: false),
        TriggerWrite(written: 7 << 60 | m | execute, read: disabled, armed: false, watchesData: false),
        // icount: count (bits 23:10), m (9), s (7), u (6); action, vs and vu read 0.
        TriggerWrite(written: icount | 1 << 10 | 1 << 9, read: icount | 1 << 10 | 1 << 9, armed: true, watchesData: false),
        TriggerWrite(written: icount | 5 << 10 | 1 << 6 | 1 | 1 << 25 | 1 << 26, read: icount | 5 << 10 | 1 << 6,
                     armed: true, watchesData: false),
        TriggerWrite(written: icount | 1 << 10, read: icount | 1 << 10, armed: false, watchesData: false),
        TriggerWrite(written: icount | 1 << 7, read: icount | 1 << 7, armed: false, watchesData: false),
        TriggerWrite(written: icount | 1 << 8 | 1 << 7, read: icount | 1 << 8 | 1 << 7, armed: true, watchesData: false),
    ]
}

/// itrigger and etrigger: tdata2 keeps only the interrupt or exception codes the hart can take
/// (WARL, whichever is written first), and the trigger arms once it has a mode and a code.
@Test func trapTriggerRegistersAreLegalised() {
    var module = TriggerModule()
    let modes: UInt64 = 1 << 9 | 1 << 7 | 1 << 6, hit: UInt64 = 1 << 58
    module.write(tdata1: 5 << 60 | modes | hit | 1 << 12 | 1 << 11 | 1)   // vs, vu, action 1: read 0
    #expect(module.tdata1[0] == 5 << 60 | modes | hit)
    #expect(!module.armed, "no exception code yet")
    module.write(tdata2: .max)
    #expect(module.tdata2[0] == 0xBBFF, "exception codes 0-9, 11, 12, 13, 15")
    #expect(module.armed && module.watchesTraps && !module.watchesData)
    module.write(tdata1: 4 << 60 | 1 << 6 | 1 << 10)   // itrigger; nmi reads 0
    #expect(module.tdata1[0] == 4 << 60 | 1 << 6)
    let interruptCodes: UInt64 = 0b1010_1010_1010   // 1, 3, 5, 7, 9, 11
    #expect(module.tdata2[0] == interruptCodes, "the interrupt codes")
    module.write(tdata2: 1 << 13)
    #expect(module.tdata2[0] == 0 && !module.armed, "no counter-overflow interrupt here")
}

/// Only a trigger that can fire arms the module (and so makes the hart step one instruction at a
/// time): a type the hart implements, a mode bit and an access bit. tdata1 is WARL: fields the
/// hart does not implement read 0, and an unsupported type (or 0) disables the trigger (type 15).
@Test(arguments: TriggerWrite.cases)
func triggerRegisterIsLegalisedAndArmsOnlyWhenItCanFire(_ c: TriggerWrite) {
    var module = TriggerModule()
    module.write(tdata1: c.written)
    #expect(module.tdata1[0] == c.read)
    #expect(module.armed == c.armed)
    #expect(module.watchesData == c.watchesData)
    module.write(tdata1: 0)
    #expect(!module.armed, "disarmed again")
}

/// Pieces of the icount tests' programs (M-mode, then U-mode code at `user`; PMP granted).
enum IcountProgram {
    /// Enters U-mode at `user` with s1 and a0 cleared.
    static let enterUser = """
        la t0, user
        csrw mepc, t0
        li t0, 0x1800
        csrc mstatus, t0                # MPP = U
        li s1, 0
        li a0, 0
        mret
        """
    /// Keeps mcause, mepc and mtval in s2, s3 and s5 and powers the machine off.
    static let stop = """
        csrr s2, mcause
        csrr s3, mepc
        csrr s5, mtval
        li t5, 0x100000
        li t6, 0x5555
        sw t6, 0(t5)
        """
}

/// icount as a single step for a U-mode program (Sdtrig, "icount"): each instruction fetched in
/// U-mode that retires or traps takes one from count; the M-mode handler of a U-mode ecall is not
/// counted and runs whole even when the ecall took count to 0; the trigger then fires before the
/// next U-mode instruction, with mtval 0, hit set and pending cleared. Count 3: addi, ecall, addi,
/// then the breakpoint before the fourth instruction. Count 2: addi, ecall (pending), the handler,
/// then the breakpoint before the third. The same on every engine.
@Test(arguments: [(UInt64(3), "fourth"), (2, "third")], [ExecutionEngine.interpreter, .blocks, .jit])
func anInstructionCountTriggerStepsUserCode(_ step: (count: UInt64, stopsAt: String), engine: ExecutionEngine) throws {
    let rig = Guest.Rig { $0.engine = engine }
    try rig.start("""
        la t0, handler
        csrw mtvec, t0
        la s4, \(step.stopsAt)
        csrw 0x7a0, zero                # tselect = 0
        li t0, (3 << 60) | (\(step.count) << 10) | (1 << 6)
        csrw 0x7a1, t0                  # tdata1: icount, count, U-mode
        \(IcountProgram.enterUser)
    user:
        addi a0, a0, 1
        ecall
    third:
        addi a0, a0, 1
    fourth:
        addi a0, a0, 1
        addi a0, a0, 1
        ecall
        .align 2
    handler:
        csrr t0, mcause
        li t1, 8
        bne t0, t1, 1f
        addi s1, s1, 1                  # an ecall from U: step over it
        csrr t0, mepc
        addi t0, t0, 4
        csrw mepc, t0
        mret
    1:  \(IcountProgram.stop)
    """)
    rig.machine.grantFullPMPAccess(hart: 0)   // U-mode code
    #expect(rig.run(10_000) == .poweredOff(code: 0))
    #expect(rig.x(18) == 3, "a breakpoint exception")
    #expect(rig.x(19) == rig.x(20), "mepc: the instruction after the counted ones")
    #expect(rig.x(21) == 0, "icount's breakpoint has tval 0")
    #expect(rig.x(9) == 1, "the ecall's handler ran")
    #expect(rig.x(10) == step.count - 1, "the addis that retired")
    let tdata1 = rig.csr(0x7A1)
    #expect(tdata1 >> 60 == 3 && tdata1 & (1 << 24) != 0, "icount, hit")
    #expect(tdata1 & (1 << 8) == 0 && (tdata1 >> 10) & 0x3FFF == 0, "not pending; count 0")
}

/// An interrupt taken from a mode where icount is enabled matches it too: count 2 is used up by
/// the machine software interrupt taken before the first U-mode instruction and by that
/// instruction, so the trigger fires before the second (without the interrupt, before the third).
@Test(arguments: [ExecutionEngine.interpreter, .blocks, .jit])
func anInterruptCountsForAnInstructionCountTrigger(engine: ExecutionEngine) throws {
    let rig = Guest.Rig { $0.engine = engine }
    try rig.start("""
        la t0, handler
        csrw mtvec, t0
        la s4, second
        li t0, 8
        csrs mie, t0                    # MSIE
        li t0, (3 << 60) | (2 << 10) | (1 << 6)
        csrw 0x7a1, t0                  # tdata1 (tselect 0): icount, count 2, U-mode
        \(IcountProgram.enterUser)
    user:
        addi a0, a0, 1
    second:
        addi a0, a0, 1
        addi a0, a0, 1
        ecall
        .align 2
    handler:
        csrr t0, mcause
        bgez t0, 1f
        addi s1, s1, 1                  # the software interrupt: mask it and return
        li t0, 8
        csrc mie, t0
        mret
    1:  \(IcountProgram.stop)
    """)
    rig.machine.grantFullPMPAccess(hart: 0)
    rig.machine.setPin(.msip, hart: 0, level: true)
    #expect(rig.run(10_000) == .poweredOff(code: 0))
    #expect(rig.x(9) == 1, "one interrupt, taken from U-mode")
    #expect(rig.x(18) == 3 && rig.x(19) == rig.x(20), "the breakpoint, before the second instruction")
    #expect(rig.x(10) == 1)
}

/// The instruction that writes tdata1 does not count against the count it wrote, even while an
/// icount trigger is counting: an M-mode icount of 100, rewritten to 2 (with MIE set, so it may
/// fire in M-mode), fires after the next two instructions.
@Test func theWriteOfAnInstructionCountIsNotCounted() throws {
    let rig = Guest.Rig()
    try rig.start("""
        la t0, handler
        csrw mtvec, t0
        la s4, third
        csrsi mstatus, 8                # MIE
        li t0, (3 << 60) | (100 << 10) | (1 << 9)
        csrw 0x7a1, t0                  # tdata1 (tselect 0): icount, count 100, M-mode
        li t0, (3 << 60) | (2 << 10) | (1 << 9)
        li a0, 0
        csrw 0x7a1, t0                  # count 2, written while counting
        addi a0, a0, 1
        addi a0, a0, 1
    third:
        addi a0, a0, 1
        ecall
        .align 2
    handler:
        \(IcountProgram.stop)
    """)
    #expect(rig.run(10_000) == .poweredOff(code: 0))
    #expect(rig.x(18) == 3 && rig.x(19) == rig.x(20), "the breakpoint, before the third addi")
    #expect(rig.x(10) == 2)
}

/// etrigger and itrigger (Sdtrig): a trap taken from U-mode and handled in S-mode, whose code is
/// in tdata2, fires the trigger before the S-mode handler's first instruction: a breakpoint into
/// M-mode (breakpoints are not delegated) with mepc at the handler, mtval 0 and hit set; the S
/// handler has not run. An illegal instruction (etrigger, code 2) and a supervisor software
/// interrupt (itrigger, code 1), on every engine.
@Test(arguments: [true, false], [ExecutionEngine.interpreter, .blocks, .jit])
func aTrapTriggerFiresBeforeTheHandler(interrupt: Bool, engine: ExecutionEngine) throws {
    let rig = Guest.Rig { $0.engine = engine }
    try rig.start("""
        la t0, handler
        csrw mtvec, t0
        la s4, shandler
        csrw stvec, s4
        li t0, 4
        csrw medeleg, t0                # illegal instructions to S
        li t0, 2
        csrw mideleg, t0                # supervisor software interrupts to S
        csrs sie, t0
        li t0, \(interrupt ? "(4 << 60) | (1 << 6)" : "(5 << 60) | (1 << 6)")
        csrw 0x7a1, t0                  # tdata1 (tselect 0): itrigger or etrigger, from U-mode
        li t0, \(interrupt ? 1 << 1 : 1 << 2)
        csrw 0x7a2, t0                  # tdata2: code 1 or 2
        \(interrupt ? "csrsi mip, 2" : "nop")   # SSIP: taken as soon as U-mode runs
        \(IcountProgram.enterUser)
    user:
        addi a0, a0, 1
        csrr t0, mstatus                # illegal in U-mode
        ecall
        .align 2
    shandler:
        li s1, 1                        # must not run before the breakpoint
        sret
        .align 2
    handler:
        \(IcountProgram.stop)
    """)
    rig.machine.grantFullPMPAccess(hart: 0)
    #expect(rig.run(10_000) == .poweredOff(code: 0))
    #expect(rig.x(18) == 3 && rig.x(19) == rig.x(20), "a breakpoint, at the S handler's first instruction")
    #expect(rig.x(21) == 0 && rig.x(9) == 0, "mtval 0; the S handler has not run")
    let scause: UInt64 = interrupt ? 1 << 63 | 1 : 2
    #expect(rig.csr(0x142) == scause, "scause: the trap the handler was to see")
    #expect(rig.x(10) == (interrupt ? 0 : 1), "the interrupt came before the first U instruction")
    #expect(rig.csr(0x7A1) & (1 << 58) != 0, "hit")
}

/// The same etrigger on an exception handled in M-mode does nothing: the M handler runs with MIE
/// clear, where this hart's reentrancy rule keeps triggers from firing.
@Test func anExceptionTriggerCannotActOnAnMModeHandler() throws {
    let rig = Guest.Rig()
    try rig.start("""
        la t0, handler
        csrw mtvec, t0
        la s4, handler
        li t0, (5 << 60) | (1 << 6)
        csrw 0x7a1, t0                  # etrigger, from U-mode
        li t0, 1 << 2
        csrw 0x7a2, t0                  # illegal instruction
        \(IcountProgram.enterUser)
    user:
        csrr t0, mstatus                # illegal in U-mode, handled in M-mode
        .align 2
    handler:
        \(IcountProgram.stop)
    """)
    rig.machine.grantFullPMPAccess(hart: 0)
    #expect(rig.run(10_000) == .poweredOff(code: 0))
    #expect(rig.x(18) == 2, "the illegal instruction itself, no breakpoint")
    #expect(rig.csr(0x7A1) & (1 << 58) == 0, "not hit")
}
