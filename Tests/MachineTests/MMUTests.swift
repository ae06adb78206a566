import Testing
import Machine

// Address translation (privileged spec, "Sv39", "Sv48", "Virtual-Address Translation Process"):
// walks, superpages, misaligned superpages, A/D, SUM, MXR, MPRV, canonical addresses, fault causes.

@Suite struct MMUTests {
    let rig: Guest.Rig
    var m: Machine { rig.machine }
    var pt: PageTables

    init() {
        rig = Guest.Rig()
        rig.machine.grantFullPMPAccess(hart: 0)
        pt = PageTables(rig.machine)
        pt.identityMapRAM()
    }

    /// Runs `body` in S-mode with `satp` (identity-mapped code), stopping at the first trap to M.
    func runS(_ body: String, satp: UInt64? = nil, mode: PrivilegeMode = .supervisor) throws {
        try rig.start(body, mode: mode)
        m.writeCSR(0x180, satp ?? pt.satp)
        _ = rig.run(10_000)
    }

    @Test mutating func sv39FourKiBPage() throws {
        pt.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.w)
        m.loadPhysical([0x78, 0x56, 0x34, 0x12], at: 0x8020_0010)
        try runS("li t0, 0x40000010\n lw a0, 0(t0)\n sw a0, 4(t0)\n ecall")
        #expect(rig.csr(0x342) == 9)
        #expect(rig.x(10) == 0x1234_5678)
        #expect(m.readPhysical(at: 0x8020_0014, count: 4) == [0x78, 0x56, 0x34, 0x12])
        let tlb = m.tlbEntries()
        let e = tlb.first { $0.virtualAddress == 0x4000_0000 }
        #expect(e != nil && e!.accessed && e!.dirty && e!.level == 0 && e!.physicalAddress == 0x8020_0000)
    }

    @Test mutating func accessedAndDirtyBits() throws {
        let pte = pt.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.w)
        try runS("li t0, 0x40000000\n lw a0, 0(t0)\n ecall")
        #expect(pt.read(pte) & (PTEBits.a | PTEBits.d) == PTEBits.a, "a load sets A only")
        try runS("li t0, 0x40000000\n sw a0, 0(t0)\n ecall")
        #expect(pt.read(pte) & (PTEBits.a | PTEBits.d) == PTEBits.a | PTEBits.d, "a store sets D")
    }

    @Test func svadePolicyFaults() throws {
        let r = Guest.Rig { $0.adBits = .pageFault }
        r.machine.grantFullPMPAccess(hart: 0)
        var t = PageTables(r.machine)
        t.identityMapRAM()
        t.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.w)
        try r.start("li t0, 0x40000000\n lw a0, 0(t0)\n ecall", mode: .supervisor)
        r.machine.writeCSR(0x180, t.satp)
        _ = r.run(100)
        #expect(r.csr(0x342) == 13)
        #expect(r.csr(0x343) == 0x4000_0000)
    }

    @Test mutating func superpagesAndMisalignedSuperpage() throws {
        pt.map(0x4000_0000, to: 0x8060_0000, level: 1, flags: PTEBits.r | PTEBits.a)       // 2 MiB
        m.loadPhysical([0xAB], at: 0x8060_0000 + 0x1_2345)
        try runS("li t0, 0x40012345\n lbu a0, 0(t0)\n ecall")
        #expect(rig.x(10) == 0xAB)
        #expect(m.tlbEntries().contains { $0.level == 1 && $0.virtualAddress == 0x4000_0000 })
        // A 2 MiB leaf whose PPN is not 2 MiB-aligned is a page fault.
        pt.map(0x4020_0000, to: 0x8060_1000, level: 1, flags: PTEBits.r | PTEBits.a)
        try runS("li t0, 0x40200000\n lbu a0, 0(t0)\n ecall")
        #expect(rig.csr(0x342) == 13)
        #expect(rig.csr(0x343) == 0x4020_0000)
    }

    @Test func sv48Walk() throws {
        let r = Guest.Rig()
        r.machine.grantFullPMPAccess(hart: 0)
        var t = PageTables(r.machine, levels: 4)
        t.map(0x8000_0000, to: 0x8000_0000, level: 2, flags: PTEBits.rwxad)
        t.map(0x7F_0000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.a)
        r.machine.loadPhysical([0x5A], at: 0x8020_0008)
        try r.start("li t0, 0x7f00000008\n lbu a0, 0(t0)\n ecall", mode: .supervisor)
        r.machine.writeCSR(0x180, t.satp)
        _ = r.run(100)
        #expect(r.csr(0x342) == 9)
        #expect(r.x(10) == 0x5A)
        // 4 PTE reads for the data page, 2 for the code gigapage (a level-2 leaf under Sv48's root).
        #expect(r.machine.counters().tlb.walkReferences == 4 + 2)
    }

    @Test func sv57Walk() throws {
        let r = Guest.Rig()
        r.machine.grantFullPMPAccess(hart: 0)
        var t = PageTables(r.machine, levels: 5)
        t.map(0x8000_0000, to: 0x8000_0000, level: 2, flags: PTEBits.rwxad)
        t.map(0x00FF_0000_0000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.a)
        r.machine.loadPhysical([0x3C], at: 0x8020_0010)
        try r.start("li t0, 0x00ff000000000010\n lbu a0, 0(t0)\n ecall", mode: .supervisor)
        r.machine.writeCSR(0x180, t.satp)
        #expect(r.machine.readCSR(0x180)! >> 60 == 10)
        _ = r.run(100)
        #expect(r.csr(0x342) == 9)
        #expect(r.x(10) == 0x3C)
        #expect(r.machine.counters().tlb.walkReferences == 5 + 3)
    }

    @Test func nonCanonicalAddressFaults() throws {
        try runS("li t0, 0x0000004000000000\n ld a0, 0(t0)\n ecall")
        #expect(rig.csr(0x342) == 13)
        #expect(rig.csr(0x343) == 0x40_0000_0000)
        try runS("li t0, 0x0000004000000000\n sd a0, 0(t0)\n ecall")
        #expect(rig.csr(0x342) == 15)
    }

    @Test mutating func permissionsUserSupervisorSUMMXR() throws {
        pt.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.u | PTEBits.a)
        pt.map(0x4000_1000, to: 0x8020_1000, flags: PTEBits.x | PTEBits.a)          // execute-only
        // S reading a user page without SUM faults...
        try runS("li t0, 0x40000000\n ld a0, 0(t0)\n ecall")
        #expect(rig.csr(0x342) == 13)
        // ...and succeeds with SUM.
        try runS("li t0, 1 << 18\n csrs sstatus, t0\n li t0, 0x40000000\n ld a0, 0(t0)\n ecall")
        #expect(rig.csr(0x342) == 9)
        // Execute-only page: loads fault unless MXR.
        try runS("li t0, 0x40001000\n ld a0, 0(t0)\n ecall")
        #expect(rig.csr(0x342) == 13)
        try runS("li t0, 1 << 19\n csrs sstatus, t0\n li t0, 0x40001000\n ld a0, 0(t0)\n ecall")
        #expect(rig.csr(0x342) == 9)
        // S never executes a user page, even with SUM.
        try runS("li t0, 1 << 18\n csrs sstatus, t0\n li t0, 0x40000000\n jr t0")
        #expect(rig.csr(0x342) == 12)
        #expect(rig.csr(0x343) == 0x4000_0000)
        // Stores to a read-only page are store page faults.
        try runS("li t0, 1 << 18\n csrs sstatus, t0\n li t0, 0x40000000\n sd a0, 0(t0)\n ecall")
        #expect(rig.csr(0x342) == 15)
    }

    @Test mutating func userModeCannotTouchSupervisorPages() throws {
        var u = PageTables(m, at: 0x8050_0000)
        u.map(0x8000_0000, to: 0x8000_0000, level: 2, flags: PTEBits.rwxad | PTEBits.u)
        u.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.a)   // supervisor page
        try runS("li t0, 0x40000000\n ld a0, 0(t0)\n ecall", satp: u.satp, mode: .user)
        #expect(rig.csr(0x142) == 0 || rig.csr(0x342) == 13)
        #expect(rig.csr(0x342) == 13)
    }

    @Test mutating func mprvTranslatesMModeLoads() throws {
        pt.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.a)
        m.loadPhysical([0x99], at: 0x8020_0000)
        try rig.start("""
            li t0, (1 << 17) | (1 << 11)     # MPRV, MPP = S
            csrs mstatus, t0
            li t0, 0x40000000
            lbu a0, 0(t0)
            csrc mstatus, t0                  # (clears nothing relevant)
            li t1, 1 << 17
            csrc mstatus, t1
            ebreak
        """)
        m.writeCSR(0x180, pt.satp)
        _ = rig.run(100)
        #expect(rig.csr(0x342) == 3)
        #expect(rig.x(10) == 0x99)
        #expect(m.counters().tlb.loadMisses == 1)
    }

    @Test mutating func pageFaultOnFetchReportsPC() throws {
        pt.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.a)   // not executable
        try runS("li t0, 0x40000000\n jr t0")
        #expect(rig.csr(0x342) == 12)
        #expect(rig.csr(0x341) == 0x4000_0000)
    }

    @Test mutating func reservedPTEBitsAndNonLeafFlagsFault() throws {
        let leaf = pt.map(0x4000_0000, to: 0x8020_0000, flags: PTEBits.r | PTEBits.a)
        pt.write(leaf, pt.read(leaf) | (1 << 60))
        try runS("li t0, 0x40000000\n ld a0, 0(t0)\n ecall")
        #expect(rig.csr(0x342) == 13)
        // W without R is reserved.
        pt.write(leaf, ((0x8020_0000 >> 12) << 10) | PTEBits.w | PTEBits.a | 1)
        try runS("li t0, 0x40000000\n ld a0, 0(t0)\n ecall")
        #expect(rig.csr(0x342) == 13)
    }

    @Test mutating func pmpCheckedOnPageWalk() throws {
        // The page tables sit at 0x8040_0000; deny S-mode reads there with a higher-priority entry.
        m.writeCSR(0x3B0, (0x8040_0000 >> 2) | ((0x10000 >> 3) - 1))  // pmpaddr0: 64 KiB NAPOT
        m.writeCSR(0x3B1, .max)                                          // pmpaddr1: everything
        m.writeCSR(0x3A0, 0x18 | (0x1F << 8))                            // entry 0: NAPOT, no perms
        try runS("li t0, 0x40000000\n ld a0, 0(t0)\n ecall")
        #expect(rig.csr(0x342) == 1, "the first fetch's walk faults: instruction access fault")
    }
}
