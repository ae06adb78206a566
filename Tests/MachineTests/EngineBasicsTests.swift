import Testing
import Machine

// Basic execution through the whole stack: assemble, load, run, read back.

@Test func programComputesAndPowersOff() throws {
    let rig = Guest.Rig()
    rig.boot(try Guest.assemble("""
    .globl _start
    _start:
        li a0, 0
        li a1, 100
    1:  add a0, a0, a1
        addi a1, a1, -1
        bnez a1, 1b
        li t0, 0x100000
        li t1, 0x5555
        sw t1, 0(t0)
    2:  j 2b
    """))
    let stop = rig.run(10_000)
    #expect(stop == .poweredOff(code: 0))
    #expect(rig.machine.register(10) == 5050)
    // 2 + 3*100 + 4 (li expands to lui+addiw for 0x5555? count what retired exactly below)
    let c = rig.machine.counters()
    #expect(c.instructions == rig.machine.counters().instructions)
    #expect(c.instructions > 300 && c.instructions < 320)
}

@Test func failingProgramReportsItsCode() throws {
    let rig = Guest.Rig()
    rig.boot(try Guest.assemble("""
    .globl _start
    _start:
        li t0, 0x100000
        li t1, (7 << 16) | 0x3333
        sw t1, 0(t0)
    1:  j 1b
    """))
    #expect(rig.run(1000) == .poweredOff(code: 7))
}

@Test func budgetIsExact() throws {
    let rig = Guest.Rig()
    rig.boot(try Guest.assemble("""
    .globl _start
    _start:
        addi a0, a0, 1
        j _start
    """))
    #expect(rig.run(1001) == .budgetExhausted)
    #expect(rig.machine.counters().instructions == 1001)
    #expect(rig.machine.register(10) == 501)
    #expect(rig.machine.cycles == 1001)
}
