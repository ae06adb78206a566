import Testing
import Machine

// Watchpoints: a data access by a hart that meets a watched physical range stops the run right
// after the accessing instruction, even when the page was on the fast path before.

@Suite struct WatchpointTests {
    let rig = Guest.Rig()
    var m: Machine { rig.machine }
    let data: UInt64 = 0x8010_0000

    init() { rig.machine.grantFullPMPAccess(hart: 0) }

    /// Starts `body` in M-mode with t0, a0, a1 preset (so addresses cost no instructions).
    func start(_ body: String, t0: UInt64, a0: UInt64 = 0, a1: UInt64 = 0) throws {
        try rig.start(body)
        m.setRegister(5, t0)
        m.setRegister(10, a0)
        m.setRegister(11, a1)
    }

    @Test func writeStopsAfterTheStore() throws {
        m.watchpoints = [Watchpoint(base: data + 8, size: 8, access: .write)]
        // sd to data (not watched), sd to data+8 (watched), li a2.
        try start("sd a1, 0(t0)\n sd a1, 8(t0)\n li a2, 5\n ecall", t0: data, a1: 0x1234)
        let stop = rig.run(1000)
        let storePC = Layout.main + 4
        #expect(stop == .watchpoint(hart: 0, pc: storePC, address: data + 8, isWrite: true))
        #expect(m.readPhysical(at: data + 8, count: 2) == [0x34, 0x12], "the store completed")
        #expect(m.pc() == storePC + 4)
        #expect(rig.x(12) == 0)
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rig.x(12) == 5)
        #expect(m.observationCounters.watchpointHits == 1)
    }

    @Test func readWatchIgnoresWritesAndCatchesReads() throws {
        m.watchpoints = [Watchpoint(base: data, size: 4, access: .read)]
        try start("sw zero, 0(t0)\n lw a0, 2(t0)\n ecall", t0: data)
        #expect(rig.run(1000) == .watchpoint(hart: 0, pc: Layout.main + 4, address: data + 2, isWrite: false))
    }

    @Test func pagesAlreadyOnTheFastPathAreWatchedToo() throws {
        // The first store puts the page in the soft TLB; watching it afterwards must catch the next.
        try start("sd zero, 0(t0)\n li a0, 1\n sd a0, 16(t0)\n ecall", t0: data)
        #expect(m.run(maxInstructions: 1) == .budgetExhausted)
        m.watchpoints = [Watchpoint(base: data + 16, size: 1, access: .readWrite)]
        #expect(rig.run(1000) == .watchpoint(hart: 0, pc: Layout.main + 6, address: data + 16, isWrite: true))
        // Removing it restores normal running.
        m.watchpoints = []
        #expect(rig.run(1000) == .poweredOff(code: 0))
    }

    @Test func neighboursOnTheSamePageDoNotStop() throws {
        m.watchpoints = [Watchpoint(base: data + 0x400, size: 8, access: .readWrite)]
        try start("sd zero, 0(t0)\n ld a0, 0x3f8(t0)\n sd a0, 0x408(t0)\n ecall", t0: data)
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(m.observationCounters.watchpointHits == 0)
    }

    @Test func atomicsAndMisalignedAccesses() throws {
        m.watchpoints = [Watchpoint(base: data + 4, size: 4, access: .write)]
        try start("amoadd.w a1, a0, (t0)\n ecall", t0: data + 4, a0: 1)
        #expect(rig.run(1000) == .watchpoint(hart: 0, pc: Layout.main, address: data + 4, isWrite: true))
        // A misaligned store that straddles into the range (bytes 2...9).
        m.watchpoints = [Watchpoint(base: data + 8, size: 1, access: .write)]
        try start("sd a0, 2(t0)\n ecall", t0: data, a0: .max)
        #expect(rig.run(1000) == .watchpoint(hart: 0, pc: Layout.main, address: data + 8, isWrite: true))
        #expect(m.readPhysical(at: data + 2, count: 8) == [UInt8](repeating: 0xFF, count: 8))
    }

    @Test func dmaAndHostLoadsDoNotTrigger() throws {
        m.watchpoints = [Watchpoint(base: data, size: 16, access: .readWrite)]
        let bytes: [UInt8] = [1, 2, 3, 4]
        #expect(bytes.withUnsafeBytes { m.dmaWrite(data, from: $0) })
        m.loadPhysical(bytes, at: data + 4)
        _ = m.readPhysical(at: data, count: 16)
        try rig.start("ecall")
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(m.observationCounters.watchpointHits == 0)
    }

    @Test func addressesArePhysicalUnderTranslation() throws {
        var pt = PageTables(m)
        pt.identityMapRAM()
        pt.map(0x4000_0000, to: data, flags: PTEBits.r | PTEBits.w | PTEBits.a | PTEBits.d)
        m.watchpoints = [Watchpoint(base: data + 0x10, size: 8, access: .read)]
        try rig.start("li t0, 0x40000000\n ld a0, 0x10(t0)\n ecall", mode: .supervisor)
        m.writeCSR(0x180, pt.satp)
        #expect(rig.run(1000) == .watchpoint(hart: 0, pc: Layout.main + 4, address: data + 0x10, isWrite: false))
    }

    @Test func mmioAccessesAreWatchedToo() throws {
        m.watchpoints = [Watchpoint(base: 0x1000_0005, size: 1, access: .read)]
        try rig.start("li t0, 0x10000000\n lbu a0, 5(t0)\n ecall")
        #expect(rig.run(1000) == .watchpoint(hart: 0, pc: Layout.main + 4, address: 0x1000_0005, isWrite: false))
        #expect(rig.x(10) == 0x60)
    }

    @Test func theHartThatAccessedIsReported() throws {
        let r = Guest.Rig { $0.harts = 2 }
        r.machine.grantFullPMPAccess(hart: 0)
        r.machine.grantFullPMPAccess(hart: 1)
        r.machine.watchpoints = [Watchpoint(base: data, size: 8, access: .write)]
        // Hart 0 spins; hart 1 stores to the watched word, then spins.
        try r.start("beqz a0, 2f\n sd a0, 0(t0)\n2: j 2b")
        r.machine.startHart(1, privilege: .machine, pc: Layout.main, a0: 1, a1: 0)
        r.machine.setRegister(5, data, hart: 1)
        #expect(r.run(100_000) == .watchpoint(hart: 1, pc: Layout.main + 2, address: data, isWrite: true))
        #expect(r.machine.readPhysical(at: data, count: 1) == [1])
    }
}
