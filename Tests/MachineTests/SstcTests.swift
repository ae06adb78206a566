import Foundation
import Testing
@testable import Machine

// Sstc (SupervisorTimerCompare.swift): what the ISA program `sstc` (labs/guests/isa, held to QEMU)
// cannot see from inside the hart: when the comparator's interrupt rises against the machine's
// clock, deadlines beyond the clock's range, snapshots and reset. Its architectural rules are that
// program's checks.

@Suite struct SstcTests {
    static let menvcfg: UInt16 = 0x30A, stimecmp: UInt16 = 0x14D, mip: UInt16 = 0x344
    static let vstimecmp: UInt16 = 0x24D, henvcfg: UInt16 = 0x60A, stce: UInt64 = 1 << 63

    /// A machine whose hart 0 spins in M-mode (`j .`), with STCE set: time passes, nothing else.
    static func spinning(_ configure: (inout MachineConfiguration) -> Void = { _ in }) -> Machine {
        var c = MachineConfiguration()
        c.ramSize = 1 << 20
        c.sstc = true
        configure(&c)
        let m = Machine(c)
        m.loadPhysical([0x6F, 0, 0, 0], at: c.ramBase)
        m.startHart(0, privilege: .machine, pc: c.ramBase, a0: 0, a1: 0)
        m.writeCSR(menvcfg, stce)
        return m
    }

    static func stip(_ m: Machine) -> Bool { (m.readCSR(mip) ?? 0) & 1 << 5 != 0 }
    static func vstip(_ m: Machine) -> Bool { (m.readCSR(mip) ?? 0) & 1 << 6 != 0 }

    /// One instruction is one cycle and a tick a hundred: STIP rises at the slice boundary where
    /// `time` reaches stimecmp = 1000, between instruction 99 900 and 100 100, in every engine.
    @Test(arguments: [ExecutionEngine.interpreter, .blocks, .jit])
    func stipRisesWhenTimeReachesStimecmp(_ engine: ExecutionEngine) {
        let m = Self.spinning { $0.engine = engine }
        m.writeCSR(Self.stimecmp, 1000)
        #expect(m.run(maxInstructions: 99_900) == .budgetExhausted)
        #expect(!Self.stip(m), "time \(m.mtime)")
        #expect(m.run(maxInstructions: 200) == .budgetExhausted)
        #expect(Self.stip(m), "time \(m.mtime)")
        // A later value lowers it at once; clearing STCE leaves mip.STIP to M-mode again.
        m.writeCSR(Self.stimecmp, 5000)
        #expect(!Self.stip(m))
        m.writeCSR(Self.stimecmp, 0)
        #expect(Self.stip(m))
        m.writeCSR(Self.menvcfg, 0)
        #expect(!Self.stip(m))
        m.writeCSR(Self.mip, 1 << 5)
        #expect(Self.stip(m))
    }

    /// VSTIP rises when time + htimedelta reaches vstimecmp: a delta moves the deadline.
    @Test func vstipFollowsTheGuestsTime() {
        let m = Self.spinning { $0.hypervisorExtension = true }
        m.writeCSR(Self.henvcfg, Self.stce)
        m.writeCSR(0x605, 500)              // htimedelta
        m.writeCSR(Self.vstimecmp, 1500)    // due at time 1000
        #expect(m.run(maxInstructions: 99_900) == .budgetExhausted)
        #expect(!Self.vstip(m))
        #expect(m.run(maxInstructions: 200) == .budgetExhausted)
        #expect(Self.vstip(m))
        #expect(!Self.stip(m), "STIP is stimecmp's, still all ones")
    }

    /// A guest may write any value: a deadline whose cycle count does not fit in 64 bits is
    /// never, not a slice bound that wraps around to a small one.
    @Test func aDeadlineBeyondTheClocksRangeNeverArrives() {
        let m = Self.spinning()
        m.writeCSR(Self.stimecmp, 1 << 40)
        #expect(m.earliestDeadline == 1 << 40)
        m.writeCSR(Self.stimecmp, 1 << 62)   // 2^62 ticks of 100 cycles: beyond 2^64 cycles
        #expect(m.earliestDeadline == nil)
        #expect(m.run(maxInstructions: 10_000) == .budgetExhausted)
        #expect(!Self.stip(m))
    }

    @Test func aMachineWithoutSstcHasNeitherTheRegisterNorTheBit() {
        let m = Self.spinning { $0.sstc = false }
        #expect(m.readCSR(Self.stimecmp) == nil)
        #expect(!m.writeCSR(Self.stimecmp, 5))
        #expect(m.readCSR(Self.menvcfg) == 0, "STCE is read-only zero")
    }

    /// A snapshot keeps the compares and the comparators' pins; a machine that never wrote them
    /// codes its harts as before Sstc; a machine without Sstc refuses a snapshot of one with it.
    @Test func snapshotsKeepTheCompares() throws {
        let m = Self.spinning { $0.hypervisorExtension = true }
        let untouched = String(decoding: try JSONEncoder().encode(m.snapshot()), as: UTF8.self)
        #expect(!untouched.contains("stimecmp"))
        m.writeCSR(Self.stimecmp, 1000)
        m.writeCSR(Self.vstimecmp, 1234)
        let snapshot = try MachineSnapshotCodingTests.coded(m.snapshot())
        #expect(m.run(maxInstructions: 100_100) == .budgetExhausted)
        #expect(Self.stip(m))
        try m.restore(snapshot)
        #expect(m.readCSR(Self.stimecmp) == 1000 && m.readCSR(Self.vstimecmp) == 1234)
        #expect(!Self.stip(m))
        #expect(m.run(maxInstructions: 100_100) == .budgetExhausted)
        #expect(Self.stip(m), "the restored machine's deadline is the comparator's again")

        let without = Self.spinning { $0.hypervisorExtension = true; $0.sstc = false }
        #expect(throws: SnapshotError("the snapshot is of another machine (the Sstc extension, which this machine lacks)")) {
            try without.restore(snapshot)
        }
    }

    @Test func resetLowersTheComparatorsAndForgetsTheCompares() {
        let m = Self.spinning()
        m.writeCSR(Self.stimecmp, 0)
        #expect(Self.stip(m))
        m.reset()
        #expect(!Self.stip(m))
        #expect(m.readCSR(Self.stimecmp) == .max)
        #expect(m.readCSR(Self.menvcfg) == 0)
    }
}
