import Testing
import Machine

// Several harts, deterministically interleaved: LR/SC reservations broken by other harts' stores,
// AMOs, inter-processor interrupts through the CLINT, and repeatable results.

@Suite struct SMPTests {
    static func rig(harts: Int = 2, quantum: UInt64 = 1) -> Guest.Rig {
        Guest.Rig { $0.harts = harts; $0.quantum = quantum }
    }

    /// hart 0 takes a reservation; hart 1 (quantum 1: exactly one instruction per turn) stores to
    /// the same doubleword before hart 0's sc.
    @Test func storeFromAnotherHartBreaksReservation() throws {
        let r = SMPTests.rig()
        r.boot(try Guest.assemble("""
        .globl _start
        _start:
            csrr t0, mhartid
            li s0, 0x80100000
            bnez t0, other
            lr.w a0, (s0)          # hart 0, turn 3
            nop
            nop
            li a1, 5
            sc.w a2, a1, (s0)      # fails: hart 1 stored meanwhile
            lr.w a0, (s0)
            sc.w a3, a1, (s0)      # succeeds
            li t5, 0x100000
            li t6, 0x5555
            sw t6, 0(t5)
        1:  j 1b
        other:
            sw zero, 4(s0)         # hart 1, turn 4: same reservation set (the doubleword)
        2:  wfi
            j 2b
        """))
        #expect(r.run(1000) == .poweredOff(code: 0))
        #expect(r.x(12) == 1, "first sc failed")
        #expect(r.x(13) == 0, "second sc succeeded")
        #expect(r.machine.readPhysical(at: 0x8010_0000, count: 4) == [5, 0, 0, 0])
    }

    @Test func ownStoresKeepTheReservation() throws {
        let r = SMPTests.rig(harts: 1)
        r.boot(try Guest.assemble("""
        .globl _start
        _start:
            li s0, 0x80100000
            lr.d a0, (s0)
            sd zero, 8(s0)
            li a1, 9
            sc.d a2, a1, (s0)
            ebreak              # mtvec = 0: faults on fetch forever, until the budget ends
        """))
        _ = r.run(100)
        #expect(r.x(12) == 0)
    }

    /// Three harts each count to 1000 twice, with an AMO and with an LR/SC increment, into
    /// 0x80100000 and 0x80100008; when all three are done, hart 0 powers off. `prologue` runs
    /// first on every hart.
    static func counting(prologue: String = "") -> String {
        """
        .globl _start
        _start:
        \(prologue)
            li s0, 0x80100000
            li s2, 0x80100008
            li s3, 0x80100010
            li s1, 1000
            li t1, 1
        1:  amoadd.w zero, t1, (s0)
            # an LR/SC increment too
        2:  lr.w t2, (s2)
            addi t2, t2, 1
            sc.w t3, t2, (s2)
            bnez t3, 2b
            addi s1, s1, -1
            bnez s1, 1b
            amoadd.w zero, t1, (s3)         # one per finished hart
            csrr t0, mhartid
            bnez t0, 3f
        4:  lw t2, 0(s3)
            li t3, 3
            bne t2, t3, 4b
            li t5, 0x100000
            li t6, 0x5555
            sw t6, 0(t5)
        3:  wfi
            j 3b
        """
    }

    @Test func amoCounterAcrossHarts() throws {
        for quantum: UInt64 in [1, 3, 1000] {
            let r = SMPTests.rig(harts: 3, quantum: quantum)
            r.boot(try Guest.assemble(SMPTests.counting()))
            #expect(r.run(1_000_000) == .poweredOff(code: 0))
            #expect(r.machine.readPhysical(at: 0x8010_0000, count: 4) == [0xB8, 0x0B, 0, 0], "3000 AMO increments")
            #expect(r.machine.readPhysical(at: 0x8010_0008, count: 4) == [0xB8, 0x0B, 0, 0], "3000 LR/SC increments")
        }
    }

    @Test func ipiThroughCLINTWakesAHart() throws {
        let r = SMPTests.rig(quantum: 10)
        r.boot(try Guest.assemble("""
        .globl _start
        _start:
            csrr t0, mhartid
            bnez t0, sleeper
            li t1, 1000
        1:  addi t1, t1, -1
            bnez t1, 1b
            li t0, 0x2000004       # msip of hart 1
            li t1, 1
            sw t1, 0(t0)
        2:  j 2b
        sleeper:
            li t0, 1 << 3
            csrw mie, t0           # MSIE; MIE stays clear: WFI wakes without a trap
            wfi
            li t5, 0x100000
            li t6, 0x5555
            sw t6, 0(t5)
        3:  j 3b
        """))
        #expect(r.run(100_000) == .poweredOff(code: 0))
        #expect(r.machine.counters(hart: 1).waits == 1)
        #expect(r.machine.counters(hart: 1).instructions < 12)
    }

    @Test func sameProgramSameCounters() throws {
        func once() throws -> [HartCounters] {
            let r = SMPTests.rig(harts: 2, quantum: 7)
            r.boot(try Guest.assemble("""
            .globl _start
            _start:
                li s0, 0x80100000
                li s1, 500
            1:  lr.d t2, (s0)
                add t2, t2, s1
                sc.d t3, t2, (s0)
                bnez t3, 1b
                addi s1, s1, -1
                bnez s1, 1b
                ecall
            """))
            _ = r.run(100_000)
            return [r.machine.counters(hart: 0), r.machine.counters(hart: 1)]
        }
        let a = try once(), b = try once()
        #expect(a == b)
        #expect(a[0].instructions > 2000)
    }

    /// A run split by budgets (or taken step by step) takes the harts through the interleaving of
    /// one long run: the next run goes on with the hart whose turn was cut, for what was left of
    /// it. (Runs used to start a new round at hart 0, so `vmlab boot`, which runs in slices to
    /// poll its input, and a script's single `vm:run()` saw different interleavings.)
    @Test func runsSplitAtAnyBudgetInterleaveAsOneRun() throws {
        let program = try Guest.assemble("""
        .globl _start
        _start:
            li s0, 0x80100000
            csrr s2, mhartid
            slli s2, s2, 3
            add s2, s2, s0
            li s1, 300
        1:  lr.d t2, (s0)            # a shared sum, by LR/SC: its final order records the interleaving
            slli t2, t2, 1
            add t2, t2, s1
            csrr t4, mhartid
            add t2, t2, t4
            sc.d t3, t2, (s0)
            bnez t3, 1b
            sd t2, 8(s2)             # what this hart last saw
            addi s1, s1, -1
            bnez s1, 1b
            wfi
        2:  j 2b
        """)
        func finish(_ split: (Guest.Rig) -> Void) -> [UInt8] {
            let r = SMPTests.rig(harts: 3, quantum: 10)
            r.boot(program)
            split(r)
            let counters = (0..<3).map { r.machine.counters(hart: $0) }
            #expect(counters.allSatisfy { $0.waits == 1 })
            return (r.machine.readPhysical(at: 0x8010_0000, count: 32) ?? [])
                + counters.flatMap { withUnsafeBytes(of: $0.instructions) { Array($0) } }
        }
        let whole = finish { #expect($0.run(100_000) == .idle) }
        for slice: UInt64 in [1, 7, 10, 13, 999] {
            let split = finish { r in
                var stop = StopReason.budgetExhausted
                while stop == .budgetExhausted { stop = r.run(slice) }
                #expect(stop == .idle)
            }
            #expect(split == whole, "slices of \(slice)")
        }
        let stepped = finish { r in
            var stop = StopReason.budgetExhausted
            while stop == .budgetExhausted { stop = r.machine.step() }
        }
        #expect(stepped == whole, "steps")
    }
}
