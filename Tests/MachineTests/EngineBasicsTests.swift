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

@Test func resetReturnsHartsToMachineModeAndKeepsRAM() throws {
    let rig = Guest.Rig()
    rig.machine.grantFullPMPAccess(hart: 0)
    try rig.start("li a0, 7\n csrw sscratch, a0\n ecall", mode: .supervisor)
    _ = rig.run(100)
    #expect(rig.csr(0x140) == 7)
    rig.machine.reset()
    #expect(rig.machine.privilege() == .machine)
    #expect(rig.csr(0x140) == 0)
    #expect(rig.csr(0x3A0) == 0, "PMP is off after reset")
    #expect(rig.machine.runState(hart: 0) == .stopped)
    #expect(rig.machine.register(10) == 0)
    #expect(rig.machine.readPhysical(at: Layout.main, count: 2) != [0, 0], "RAM kept")
    #expect(rig.run(100) == .idle, "no hart runs until started")
    rig.machine.reset(clearRAM: true)
    #expect(rig.machine.readPhysical(at: Layout.main, count: 4) == [0, 0, 0, 0])
}

@Test func selfModifyingCodeIsCoherent() throws {
    // A store over an already-executed instruction changes what executes next time (no fence.i
    // needed in this implementation; the ISA program zifencei checks the fence.i path).
    let rig = Guest.Rig()
    try rig.start("""
        .option norvc
        li s0, 2
    1:  la t0, 2f
        li a0, 0
    2:  addi a0, a0, 1          # rewritten to addi a0, a0, 5 below
        addi s0, s0, -1
        beqz s0, 3f
        li t1, 0x00550513       # addi a0, a0, 5
        sw t1, 0(t0)
        j 1b
    3:  ebreak
    """)
    _ = rig.run(100)
    #expect(rig.csr(0x342) == 3)
    #expect(rig.x(10) == 5)
}

@Test func dmaWritesInvalidateDecodedCodeAndReservations() throws {
    let rig = Guest.Rig()
    try rig.start("""
        li s0, 0x80100000
        lr.d a1, (s0)
        ecall
        li a2, 1
        sc.d a3, a2, (s0)
        ebreak
    """)
    _ = rig.run(100)
    #expect(rig.csr(0x342) == 11)
    rig.machine.loadPhysical([1, 2, 3, 4], at: 0x8010_0004)   // a device writes the reserved doubleword
    rig.machine.setPC(rig.csr(0x341) + 4)
    _ = rig.run(100)
    #expect(rig.csr(0x342) == 3)
    #expect(rig.x(13) == 1, "the sc failed")
}

@Test func breakpointsStopBeforeTheInstructionAndResume() throws {
    let rig = Guest.Rig()
    try rig.start("li a0, 1\n li a0, 2\n li a0, 3\n ebreak")
    rig.machine.breakpoints = [Layout.main + 2]
    #expect(rig.run(100) == .breakpoint(hart: 0, pc: Layout.main + 2))
    #expect(rig.x(10) == 1)
    rig.machine.breakpoints = [Layout.main + 4]
    #expect(rig.run(100) == .breakpoint(hart: 0, pc: Layout.main + 4))
    #expect(rig.x(10) == 2)
    rig.machine.breakpoints = []
    _ = rig.run(100)
    #expect(rig.x(10) == 3)
}

/// A device overlaying part of a RAM page (as HTIF's tohost does) sees every access to its bytes,
/// however often the page is used; the rest of the page stays RAM.
@Test func mmioOverlayingRAMSeesEveryAccess() throws {
    final class Word: MMIODevice {
        var writes: [UInt64] = []
        var mmioSize: UInt64 { 8 }
        func mmioRead(offset: UInt64, size: Int) -> UInt64? { 0xABCD }
        func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool { writes.append(value); return true }
    }
    let rig = Guest.Rig()
    let tohost = Word()
    rig.machine.attach(tohost, at: 0x8010_0008)
    try rig.start("""
        li s0, 0x80100000
        li s1, 3
    1:  sd s1, 8(s0)          # the device
        sd s1, 0(s0)          # RAM on the same page
        ld a0, 8(s0)
        ld a1, 0(s0)
        addi s1, s1, -1
        bnez s1, 1b
        ebreak
    """)
    _ = rig.run(1000)
    #expect(tohost.writes == [3, 2, 1])
    #expect(rig.x(10) == 0xABCD)
    #expect(rig.x(11) == 1)
    #expect(rig.machine.readPhysical(at: 0x8010_0000, count: 1) == [1])
    #expect(rig.machine.counters().mmioAccesses == 7, "six to the word, one to the finisher")
}

/// An AMO on a device that accepts atomics (the AMOArithmetic PMA; HTIF's words, which are RAM
/// under spike) is the device's read, then its write of the result; an AMO on any other device,
/// and LR/SC on any device, raise an access fault with the address in mtval (privileged spec,
/// "Physical Memory Attributes": "Atomicity PMAs", "Reservability PMA").
@Test(arguments: [ExecutionEngine.interpreter, .blocks, .jit])
func atomicsReachOnlyDevicesThatAcceptThem(engine: ExecutionEngine) throws {
    final class Word: MMIODevice {
        var value: UInt64 = 0xFFFF_FFFF_8000_0001
        var log: [String] = []
        let acceptsAtomics: Bool
        init(atomics: Bool) { acceptsAtomics = atomics }
        var mmioSize: UInt64 { 8 }
        func mmioRead(offset: UInt64, size: Int) -> UInt64? {
            log.append("r\(size)")
            return size == 8 ? value : value & 0xFFFF_FFFF
        }
        func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool {
            log.append("w\(size)=\(String(value, radix: 16))")
            self.value = size == 8 ? value : (self.value & ~0xFFFF_FFFF) | (value & 0xFFFF_FFFF)
            return true
        }
    }
    func rig(_ body: String, device: Word) throws -> Guest.Rig {
        let rig = Guest.Rig { $0.engine = engine }
        rig.machine.attach(device, at: 0x8010_0008)
        try rig.start("li s1, 0x80100008\n li a2, 5\n" + body)
        _ = rig.run(100)
        return rig
    }

    let atomic = Word(atomics: true)
    var r = try rig("amoadd.w a0, a2, (s1)\n amoswap.d a1, a2, (s1)\n ebreak", device: atomic)
    #expect(r.csr(0x342) == 3, "ran to the ebreak")
    #expect(r.x(10) == 0xFFFF_FFFF_8000_0001, "the word read, sign-extended")
    #expect(r.x(11) == 0xFFFF_FFFF_8000_0006)
    #expect(atomic.log == ["r4", "w4=80000006", "r8", "w8=5"])
    #expect(atomic.value == 5)

    for instruction in ["lr.w a0, (s1)", "sc.w a0, a2, (s1)"] {
        let device = Word(atomics: true)
        r = try rig("\(instruction)\n ebreak", device: device)
        #expect(r.csr(0x342) == (instruction.hasPrefix("lr") ? 5 : 7), "\(instruction): access fault")
        #expect(r.csr(0x343) == 0x8010_0008)
        #expect(device.log.isEmpty)
    }
    let plain = Word(atomics: false)
    r = try rig("amoor.d a0, a2, (s1)\n ebreak", device: plain)
    #expect(r.csr(0x342) == 7, "store/AMO access fault")
    #expect(r.csr(0x343) == 0x8010_0008)
    #expect(plain.log.isEmpty && plain.value == 0xFFFF_FFFF_8000_0001)
}

@Test func cycleBudgetAndCosts() throws {
    let rig = Guest.Rig()
    var costs = CostTable()
    costs.instruction = 2
    costs.exception = 50
    rig.machine.costs = costs
    try rig.start("1: addi a0, a0, 1\n j 1b")
    #expect(rig.machine.run(maxCycles: 1000) == .budgetExhausted)
    #expect(rig.machine.counters().instructions == 500)
    #expect(rig.machine.cycles == 1000)
    #expect(rig.machine.mtime == 10)
    try rig.start("ecall")
    let before = rig.machine.counters().cycles
    _ = rig.run(1)
    #expect(rig.machine.counters().cycles - before == 50, "one exception, no retired instruction")
}

/// Straight-line code runs off the end of a page in the three ways it can: a 32-bit instruction
/// ending at the page end, a compressed one ending there, and a 32-bit one straddling it. The
/// interpreter walks a page by slot pointer and leaves it through the page's sentinel slot, so
/// each case must arrive at the next page's first instruction, in every engine, many times over
/// (the loop runs them from the cache after the first pass).
@Test(arguments: [ExecutionEngine.interpreter, .blocks, .jit])
func straightLineCodeRunsOffPageEnds(engine: ExecutionEngine) throws {
    let rig = Guest.Rig { $0.engine = engine }
    rig.boot(try Guest.assemble("""
        .option norvc
        .globl _start
    _start:
        li a0, 0
        li s0, 50
    loop:
        j 1f
        .balign 4096
        .space 4088
    1:  addi a0, a0, 1          # page offset 0xFF8
        addi a0, a0, 2          # 0xFFC: ends at the page end
        addi a0, a0, 4          # next page, offset 0
        j 2f
        .balign 4096
        .space 4092
    2:
        .option rvc
        c.addi a0, 8            # 0xFFC
        c.addi a0, 16           # 0xFFE: ends at the page end
        .option norvc
        addi a0, a0, 32         # next page
        j 3f
        .balign 4096
        .space 4094
    3:  addi a0, a0, 64         # 0xFFE: straddles the page end
        addi a0, a0, 128
        addi s0, s0, -1
        bnez s0, loop
        li t0, 0x100000
        li t1, 0x5555
        sw t1, 0(t0)
    4:  j 4b
    """))
    #expect(rig.run(100_000) == .poweredOff(code: 0))
    #expect(rig.machine.register(10) == 50 * 255)
    #expect(rig.machine.counters().instructions == 2 + 50 * 14 + 3)
}
