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
        TriggerWrite(written: 3 << 60 | m | execute, read: disabled, armed: false, watchesData: false),
    ]
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
