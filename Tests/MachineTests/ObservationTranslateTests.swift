import Testing
import Machine
import RISCV

// The tools' translation (`Machine.translate`, `Machine.pageWalk`): it agrees with real accesses
// (4 KiB pages, 2 MiB and 1 GiB superpages, faults of each kind) and has no side effects at all.

@Suite struct ObservationTranslateTests {
    let rig = Guest.Rig()
    var m: Machine { rig.machine }
    var pt: PageTables

    init() {
        rig.machine.grantFullPMPAccess(hart: 0)
        pt = PageTables(rig.machine)
        pt.identityMapRAM()
    }

    /// Enters S-mode with the page tables (the hart sits at `main` without running).
    func enterS(_ body: String = "ecall", sum: Bool = false) throws {
        try rig.start(body, mode: .supervisor)
        m.writeCSR(0x180, pt.satp)
        if sum { m.writeCSR(0x100, (m.readCSR(0x100) ?? 0) | (1 << 18)) }
    }

    @Test mutating func agreesWithRealLoadsOnPagesAndSuperpages() throws {
        pt.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.a)                   // 4 KiB
        pt.map(0x4060_0000, to: 0x8060_0000, level: 1, flags: PTEBits.r | PTEBits.a)         // 2 MiB
        pt.map(0xC000_0000, to: 0x8000_0000, level: 2, flags: PTEBits.r | PTEBits.a)         // 1 GiB
        let cases: [(va: UInt64, pa: UInt64)] = [
            (0x4000_0123, 0x8020_0123), (0x4061_2345, 0x8061_2345), (0xC012_3456, 0x8012_3456),
        ]
        for (i, c) in cases.enumerated() {
            m.loadPhysical([UInt8(0x10 + i)], at: c.pa)
        }
        try enterS()
        for c in cases {
            #expect(m.translate(c.va, hart: 0, access: .load) == .physical(c.pa))
        }
        // The hart's own loads read the same bytes.
        try enterS("li t0, 0x40000123\n lbu a0, 0(t0)\n li t0, 0x40612345\n lbu a1, 0(t0)\n li t0, 0xC0123456\n lbu a2, 0(t0)\n ecall")
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rig.csr(0x342) == 9)
        #expect([rig.x(10), rig.x(11), rig.x(12)] == [0x10, 0x11, 0x12])
    }

    @Test mutating func faultsAreTheOnesARealAccessRaises() throws {
        pt.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.a)                   // read-only
        pt.map(0x4000_1000, to: 0x8020_1000, flags: PTEBits.r | PTEBits.w | PTEBits.a | PTEBits.d | PTEBits.u)
        pt.map(0x4020_0000, to: 0x8060_1000, level: 1, flags: PTEBits.r | PTEBits.a)         // misaligned superpage
        try enterS()
        #expect(m.translate(0x4000_0000, hart: 0, access: .store) == .fault(.storePageFault))
        #expect(m.translate(0x4000_0000, hart: 0, access: .fetch) == .fault(.instructionPageFault))
        #expect(m.translate(0x5000_0000, hart: 0, access: .load) == .fault(.loadPageFault))
        #expect(m.translate(0x4020_0000, hart: 0, access: .load) == .fault(.loadPageFault))
        #expect(m.translate(0x0000_8000_0000_0000, hart: 0, access: .load) == .fault(.loadPageFault), "non-canonical")
        // A user page: S-mode needs SUM, U-mode may use it; supervisor pages are closed to U.
        #expect(m.translate(0x4000_1008, hart: 0, access: .load) == .fault(.loadPageFault))
        #expect(m.translate(0x4000_1008, hart: 0, access: .load, privilege: .user) == .physical(0x8020_1008))
        #expect(m.translate(0x4000_0000, hart: 0, access: .load, privilege: .user) == .fault(.loadPageFault))
        try enterS(sum: true)
        #expect(m.translate(0x4000_1008, hart: 0, access: .store) == .physical(0x8020_1008))
        // The real store to the read-only page raises the same fault.
        try enterS("li t0, 0x40000000\n sd zero, 0(t0)")
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(rig.csr(0x342) == 15)
        #expect(rig.csr(0x343) == 0x4000_0000)
    }

    @Test func bareAndMachineModeArePhysical() throws {
        try rig.start("ecall")
        #expect(m.translate(0x1234, hart: 0, access: .load) == .physical(0x1234))
        m.writeCSR(0x180, pt.satp)
        #expect(m.translate(0x1234, hart: 0, access: .load) == .physical(0x1234), "M-mode is never translated")
        #expect(m.translate(0x1234, hart: 0, access: .load, privilege: .supervisor) == .fault(.loadPageFault))
        #expect(m.pageWalk(0x1234, hart: 0).mode == "sv39")
        m.writeCSR(0x180, 0)
        let bare = m.pageWalk(0x1234, hart: 0)
        #expect(bare == PageWalkTrace(mode: "bare", root: 0, steps: [], result: .physical(0x1234)))
    }

    @Test mutating func hasNoSideEffects() throws {
        let leaf = pt.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.w)       // A and D clear
        try enterS()
        let before = m.counters()
        let cycles = m.cycles
        #expect(m.translate(0x4000_0010, hart: 0, access: .store) == .physical(0x8020_0010))
        _ = m.pageWalk(0x4000_0010, hart: 0)
        #expect(pt.read(leaf) & (PTEBits.a | PTEBits.d) == 0, "no A/D update")
        #expect(m.tlbEntries().isEmpty, "no TLB fill")
        #expect(m.counters() == before)
        #expect(m.cycles == cycles)
        #expect(m.counters().exceptions.allSatisfy { $0 == 0 })
        // Under Svade the same leaf is a fault, as the real access would be.
        let r = Guest.Rig { $0.adBits = .pageFault }
        r.machine.grantFullPMPAccess(hart: 0)
        var t = PageTables(r.machine)
        t.identityMapRAM()
        t.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.w)
        try r.start("ecall", mode: .supervisor)
        r.machine.writeCSR(0x180, t.satp)
        #expect(r.machine.translate(0x4000_0000, hart: 0, access: .load) == .fault(.loadPageFault))
    }

    @Test mutating func pageWalkListsTheStepsOfSv39() throws {
        let leaf = pt.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.a)
        let superLeaf = pt.map(0x4060_0000, to: 0x8060_0000, level: 1, flags: PTEBits.r | PTEBits.a)
        try enterS()
        let w = m.pageWalk(0x4000_0abc, hart: 0)
        #expect(w.mode == "sv39")
        #expect(w.root == Layout.tables)
        #expect(w.steps.map(\.level) == [2, 1, 0])
        #expect(w.steps[0].pteAddress == Layout.tables + 1 * 8)          // VPN[2] = 1
        #expect(w.steps[2].pteAddress == leaf)
        #expect(w.steps[2].pte == pt.read(leaf))
        #expect((w.steps[1].pte >> 10) << 12 == w.steps[2].pteAddress & ~0xFFF)
        #expect(w.result == .physical(0x8020_0abc))
        let s = m.pageWalk(0x4061_0000, hart: 0)
        #expect(s.steps.map(\.level) == [2, 1])
        #expect(s.steps.last?.pteAddress == superLeaf)
        #expect(s.result == .physical(0x8061_0000))
        // A walk that stops at an invalid entry lists what it read.
        let f = m.pageWalk(0x4000_5000, hart: 0)
        #expect(f.steps.count == 3 && f.steps[2].pte == 0)
        #expect(f.result == .fault(.loadPageFault))
        // The hardware walk of the same address reads the same number of PTEs.
        try enterS("li t0, 0x40000abc\n lbu a0, 0(t0)\n ecall")
        let refs = m.counters().tlb.walkReferences
        #expect(rig.run(1000) == .poweredOff(code: 0))
        #expect(m.counters().tlb.walkReferences - refs == 1 + 3)   // the code gigapage, then the data page
    }

    @Test func sv48AndSv57Modes() throws {
        let r = Guest.Rig()
        r.machine.grantFullPMPAccess(hart: 0)
        var t = PageTables(r.machine, levels: 4)
        t.map(0x7F_0000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.a)
        try r.start("ecall", mode: .supervisor)
        r.machine.writeCSR(0x180, t.satp)
        let w = r.machine.pageWalk(0x7F_0000_0008, hart: 0)
        #expect(w.mode == "sv48" && w.steps.count == 4 && w.result == .physical(0x8020_0008))
        var t5 = PageTables(r.machine, levels: 5, at: 0x8080_0000)
        t5.map(0x7F_0000_0000, to: 0x8030_0000, flags: PTEBits.r | PTEBits.a)
        r.machine.writeCSR(0x180, t5.satp)
        let w5 = r.machine.pageWalk(0x7F_0000_0008, hart: 0)
        #expect(w5.mode == "sv57" && w5.steps.count == 5 && w5.result == .physical(0x8030_0008))
    }
}
