import Testing
import Machine

// A machine restored to a snapshot runs on as it did: several harts interleaved mid-turn, LR/SC
// reservations, AMOs, PMP (locked entries too), and counters that go back with the clock. A
// machine of another shape refuses the snapshot and keeps its state.

@Suite struct MachineSnapshotTests {
    /// Three harts count to 3000 with AMOs and LR/SC increments behind a locked PMP entry, then
    /// hart 0 powers off; quantum 3, so a budget of 2000 ends in the middle of a turn.
    static func counting() throws -> Guest.Rig {
        let r = Guest.Rig { $0.harts = 3; $0.quantum = 3 }
        r.boot(try Guest.assemble(SMPTests.counting(prologue: """
            li t1, -1                       # PMP entry 0: everything, NAPOT, RWX, locked
            csrw pmpaddr0, t1
            li t1, 0x9f
            csrw pmpcfg0, t1
        """)))
        return r
    }

    struct Observed: Equatable {
        var counters: [HartCounters]
        var registers: [[UInt64]]
        var pcs: [UInt64]
        var pmp: [UInt64]
        var memory: [UInt8]
        var cycles: UInt64

        init(_ m: Machine) {
            counters = (0..<m.hartCount).map { m.counters(hart: $0) }
            registers = (0..<m.hartCount).map { h in (0..<32).map { m.register($0, hart: h) } }
            pcs = (0..<m.hartCount).map { m.pc(hart: $0) }
            pmp = (0..<m.hartCount).map { m.readCSR(0x3A0, hart: $0) ?? 0 }
            memory = m.readPhysical(at: 0x8010_0000, count: 24) ?? []
            cycles = m.cycles
        }
    }

    @Test func hartsInterleavedMidTurnRunOnAsTheyDid() throws {
        let r = try Self.counting()
        #expect(r.run(2000) == .budgetExhausted)
        let atSnapshot = Observed(r.machine)
        let snapshot = r.machine.snapshot()
        #expect(snapshot.cycles == r.machine.cycles)
        #expect(r.run(1_000_000) == .poweredOff(code: 0))
        let end = Observed(r.machine)
        #expect(end.memory[0] == 0xB8 && end.memory[1] == 0x0B, "3000 increments")

        try r.machine.restore(snapshot)
        #expect(Observed(r.machine) == atSnapshot)
        #expect(r.run(1_000_000) == .poweredOff(code: 0))
        #expect(Observed(r.machine) == end)
    }

    /// A restore is not a CSR write: entries the guest locked after the snapshot unlock again.
    @Test func lockedPMPEntriesGoBack() throws {
        let r = try Self.counting()
        let snapshot = r.machine.snapshot()
        _ = r.run(100)
        #expect(r.machine.readCSR(0x3A0) == 0x9F && r.machine.readCSR(0x3B0) == UInt64(1 << 54) - 1)
        try r.machine.restore(snapshot)
        #expect(r.machine.readCSR(0x3A0) == 0 && r.machine.readCSR(0x3B0) == 0)
        #expect(r.run(1_000_000) == .poweredOff(code: 0))
    }

    @Test func anotherShapeIsRefusedAndChangesNothing() throws {
        let r = try Self.counting()
        _ = r.run(500)
        let snapshot = r.machine.snapshot()
        let other = Guest.Rig { $0.harts = 2; $0.quantum = 3 }
        let before = Observed(other.machine)
        #expect(throws: SnapshotError("the snapshot is of another machine (3 harts, not 2)")) {
            try other.machine.restore(snapshot)
        }
        #expect(Observed(other.machine) == before)
    }
}
