import Testing
import Machine

// Two-stage translation of the hypervisor extension (privileged spec, "Two-Stage Address
// Translation"): the G stage, guest-page faults and what they report, the 2-D walk's references,
// the VMID-tagged TLB and its fences, the virtual-machine loads and stores. The programs are run
// as in HypervisorExtensionTests (Support/HypervisorRig.swift).

@Suite struct TwoStageTranslationTests: HypervisorSuite {
    let rig = Guest.Rig { $0.hypervisorExtension = true }

    @Test func gStageTranslatesGuestPhysicalAddresses() throws {
        var g = GuestPhysicalTables(m)
        g.identityMapRAM()
        // Guest physical 0x1_0000_0000 is host physical 0x8060_0000.
        g.map(0x1_0000_0000, to: 0x8060_0000, flags: PTEBits.r | PTEBits.w | PTEBits.a | PTEBits.d | PTEBits.u)
        m.loadPhysical([0x78, 0x56, 0x34, 0x12], at: 0x8060_0008)
        try runGuest("""
            li t0, 0x100000008
            lw a0, 0(t0)
            addi a0, a0, 1
            sw a0, 4(t0)
            ecall
        """) { $0.writeCSR(H.hgatp, g.hgatp(vmid: 5)) }
        #expect(rig.csr(H.mcause) == 10)
        #expect(rig.x(10) == 0x1234_5679)
        #expect(m.readPhysical(at: 0x8060_000C, count: 4) == [0x79, 0x56, 0x34, 0x12])
        let entry = m.tlbEntries().first { $0.virtualAddress == 0x1_0000_0000 }
        #expect(entry?.vmid == 5 && entry?.physicalAddress == 0x8060_0000)
    }

    @Test func gStageRefusalsAreGuestPageFaults() throws {
        var g = GuestPhysicalTables(m)
        g.identityMapRAM()
        // A G-stage leaf without U is refused, as is an unmapped guest physical page.
        g.map(0x1_0000_0000, to: 0x8060_0000, flags: PTEBits.r | PTEBits.w | PTEBits.a | PTEBits.d)
        try runGuest("li t0, 0x100000010\n lw a0, 0(t0)") {
            $0.writeCSR(H.hgatp, g.hgatp())
            $0.writeCSR(H.medeleg, 1 << 21)
        }
        #expect(rig.csr(H.scause) == 21, "load guest-page fault, in HS-mode")
        #expect(rig.csr(H.stval) == 0x1_0000_0010, "stval: the guest virtual address")
        #expect(rig.csr(H.htval) == 0x1_0000_0010 >> 2, "htval: the guest physical address >> 2")
        #expect(rig.csr(H.htinst) == 0, "an explicit access")
        #expect(rig.csr(H.hstatus) & H.hgva != 0)

        try runGuest("li t0, 0x200000000\n sw a0, 0(t0)") { $0.writeCSR(H.hgatp, g.hgatp()) }
        #expect(rig.csr(H.mcause) == 23, "store guest-page fault, in M-mode")
        #expect(rig.csr(H.mtval2) == 0x2_0000_0000 >> 2)
        #expect(rig.csr(H.mstatus) & H.gva != 0)
        // Guest physical addresses wider than Sv39x4's 41 bits fault too.
        try runGuest("li t0, 0x20000000000\n lw a0, 0(t0)") { $0.writeCSR(H.hgatp, g.hgatp()) }
        #expect(rig.csr(H.mcause) == 21)
    }

    /// A VS-stage table page the G stage does not map: the fault is the implicit read's, reported
    /// with its guest physical address and the "64-bit read for VS-stage translation"
    /// pseudo-instruction.
    @Test func vsStageWalkFaultsInTheGStage() throws {
        var g = GuestPhysicalTables(m)
        g.identityMapRAM()
        // VS root at guest physical 0x1_0000_0000, which the G stage does not map.
        try runGuest("li t0, 0x1000\n ld a0, 0(t0)") {
            $0.writeCSR(H.hgatp, g.hgatp())
            $0.writeCSR(H.vsatp, (8 << 60) | (0x1_0000_0000 >> 12))
        }
        // The instruction fetch comes first: VS paging is on, so the fetch walks and faults.
        #expect(rig.csr(H.mcause) == 20, "instruction guest-page fault")
        #expect(rig.csr(H.mtval) == H.guest)
        let rootIndex = (H.guest >> 30) & 0x1FF
        #expect(rig.csr(H.mtval2) == (0x1_0000_0000 + rootIndex * 8) >> 2, "the VS root PTE's guest physical address")
        #expect(rig.csr(H.mtinst) == 0x3000)
    }

    /// The 2-D walk: with three VS levels and three G levels, all 4 KiB pages and A/D preset, a
    /// TLB miss reads (3 + 1) × (3 + 1) − 1 = 15 PTEs: three G walks for the three VS PTEs, the
    /// three VS PTEs, and the G walk of the final guest physical address.
    @Test func twoDimensionalWalkReferences() throws {
        let g = Self.mapTwoDimensionalLayout(m)
        try runGuest("li t0, 0x40000010\n lbu a0, 0(t0)\n ecall", prepare: Self.enterLayout(g))
        #expect(rig.csr(H.mcause) == 10)
        #expect(rig.x(10) == 0x2A)
        let tlb = m.counters(hart: 0).tlb
        #expect(tlb.fetchMisses == 1 && tlb.loadMisses == 1)
        #expect(tlb.walkReferences == 30, "two 2-D walks of 15 references each")
        #expect(tlb.nestedHits == 0 && tlb.nestedMisses == 0, "no nested TLB")
        let entries = m.tlbEntries().filter { $0.vmid == 1 }
        #expect(entries.count == 2 && entries.allSatisfy { $0.asid == 7 })

        // The tools, for M-mode's loads under MPRV with MPV (translated as V=1, at MPP = S): the
        // guest's own walk at guest physical addresses, and the whole 2-D walk in order.
        m.writeCSR(H.mstatus, 1 << 17 | H.mpv | 1 << 11)
        let walk = m.pageWalk(0x4000_0010, hart: 0)
        #expect(walk.mode == "sv39" && walk.root == 0x9000_0000)
        #expect(walk.steps.count == 3 && walk.steps.allSatisfy { $0.pteAddress >> 16 == 0x9000 }, "guest physical")
        #expect(walk.result == .physical(0x8000_2010))
        let nested = try #require(m.nestedPageWalk(0x4000_0010, hart: 0))
        #expect(nested.steps.map { $0.stage == .guest ? "g" : "h" }.joined() == "hhhghhhghhhghhh")
        #expect(nested.steps.filter { $0.stage == .guest }.map(\.guestPhysical) == walk.steps.map(\.pteAddress))
        #expect(nested.result == .physical(0x8000_2010))
        #expect(m.translate(0x4000_0010, hart: 0, access: .load) == .physical(0x8000_2010))
        m.writeCSR(H.mstatus, 0)
        #expect(m.nestedPageWalk(0x4000_0010, hart: 0) == nil, "M-mode's own accesses are not a guest's")
    }

    /// With a nested TLB a walk finds the G-stage translations the walks before it cached ([B08]):
    /// the fetch's walk reads 15 entries and caches 4 translations (three VS table pages, the code
    /// page); a load through the same VS tables then reads its 3 VS entries and the data page's G
    /// walk, 6; a load through other VS tables to the same data page 3 + 3 + 3, 9. hfence.gvma of
    /// the VMID empties it.
    @Test func aNestedTLBShortensTheSecondWalk() throws {
        let rig = Self.cachingRig(TLBConfiguration(nestedEntries: 8))
        let m = rig.machine
        try rig.runGuest(Self.twoLoads, prepare: Self.enterLayout(Self.mapTwoDimensionalLayout(m)))
        #expect(rig.x(10) == 0x2A && rig.x(11) == 0x2A)
        let tlb = m.counters(hart: 0).tlb
        #expect(tlb.fetchMisses == 1 && tlb.loadMisses == 2)
        #expect(tlb.walkReferences == 15 + 6 + 9)
        // G lookups: the fetch's 4 miss; the first load's 3 hit and 1 misses; the second load's
        // root and data page hit, its two other tables miss.
        #expect(tlb.nestedMisses == 4 + 1 + 2 && tlb.nestedHits == 3 + 2)
        let cached = m.nestedTLBEntries()
        #expect(cached.count == 7 && cached.allSatisfy { $0.vmid == 1 && $0.level == 0 })
        #expect(cached.contains { $0.guestPhysical == 0x8000_2000 && $0.physical == 0x8000_2000 })
        // The tools walk every entry, nested TLB or not.
        m.writeCSR(H.mstatus, 1 << 17 | H.mpv | 1 << 11)
        #expect(m.nestedPageWalk(0x4000_0010, hart: 0)?.steps.count == 15)
        m.writeCSR(H.mstatus, 0)
        // Another VMID's fence spares them; this VMID's takes them.
        try rig.start(".option arch, +h\n li t0, 2\n hfence.gvma zero, t0\n ecall")
        _ = rig.run(100)
        #expect(m.nestedTLBEntries().count == 7)
        try rig.start(".option arch, +h\n li t0, 1\n hfence.gvma zero, t0\n ecall")
        _ = rig.run(100)
        #expect(m.nestedTLBEntries().isEmpty)
    }

    /// With a page-walk cache a walk starts at the deepest VS table the walks before it found
    /// ([B08]'s PWC): the fetch's walk reads 15 entries and caches its level-1 and level-0
    /// tables; a load under the same tables reads the leaf and two G walks, 7; a load under other
    /// tables misses, 15, and caches its own. A fence of another ASID spares them; of this one,
    /// drops them.
    @Test func aPageWalkCacheStartsTheWalkBelowTheRoot() throws {
        let rig = Self.cachingRig(TLBConfiguration(walkCacheEntries: 8))
        let m = rig.machine
        try rig.runGuest(Self.twoLoads, prepare: Self.enterLayout(Self.mapTwoDimensionalLayout(m)))
        #expect(rig.x(10) == 0x2A && rig.x(11) == 0x2A)
        let tlb = m.counters(hart: 0).tlb
        #expect(tlb.fetchMisses == 1 && tlb.loadMisses == 2)
        #expect(tlb.walkReferences == 15 + 7 + 15)
        #expect(tlb.walkCacheMisses == 2 && tlb.walkCacheHits == 1)
        let cached = m.walkCacheEntries()
        #expect(cached.count == 4 && cached.allSatisfy { $0.vmid == 1 && $0.asid == 7 })
        #expect(cached.map(\.level).sorted() == [0, 0, 1, 1])
        #expect(cached.allSatisfy { $0.table >> 16 == 0x9000 }, "guest physical table addresses")
        // The tools walk every entry, cache or not.
        m.writeCSR(H.mstatus, 1 << 17 | H.mpv | 1 << 11)
        #expect(m.nestedPageWalk(0x8000_1010, hart: 0)?.steps.count == 15)
        m.writeCSR(H.mstatus, 0)
        try rig.start(".option arch, +h\n li t0, 8\n hfence.vvma zero, t0\n ecall")
        _ = rig.run(100)
        #expect(m.walkCacheEntries().count == 4, "another ASID's fence")
        try rig.start(".option arch, +h\n li t0, 7\n hfence.vvma zero, t0\n ecall")
        _ = rig.run(100)
        #expect(m.walkCacheEntries().isEmpty)
    }

    /// The cache's entries belong to the vsatp root they were found under: a guest that moves to
    /// another root under the same ASID (without the fence software owes) walks the new tables.
    @Test func aPageWalkCacheEntryServesOnlyItsRoot() throws {
        let rig = Self.cachingRig(TLBConfiguration(walkCacheEntries: 8))
        let m = rig.machine
        var g = Self.mapTwoDimensionalLayout(m)
        // An empty VS root at guest physical 0x9010_0000.
        g.map(0x9010_0000, to: 0x8078_0000, flags: PTEBits.r | PTEBits.w | PTEBits.a | PTEBits.d | PTEBits.u)
        m.loadPhysical([UInt8](repeating: 0, count: 4096), at: 0x8078_0000)
        try rig.runGuest("""
            li t0, 0x80001010
            lbu a0, 0(t0)
            li t1, \((8 << 60) | (7 << 44) | (0x9010_0000 >> 12))
            csrw satp, t1
            li t0, 0x80003010
            lbu a1, 0(t0)
        """, prepare: Self.enterLayout(g))
        #expect(rig.csr(H.mcause) == 13, "the new root maps nothing: a load page fault")
        let tlb = m.counters(hart: 0).tlb
        #expect(tlb.walkCacheHits == 1 && tlb.walkCacheMisses == 2, "the last walk started at the new root")
    }

    /// A rig whose harts have the hypervisor extension and `tlb` (a nested TLB, a page-walk cache).
    static func cachingRig(_ tlb: TLBConfiguration) -> Guest.Rig {
        Guest.Rig {
            $0.hypervisorExtension = true
            $0.tlb = tlb
        }
    }

    /// Two loads of the same data page: one under the code's VS tables, one under others.
    static let twoLoads = "li t0, 0x80001010\n lbu a0, 0(t0)\n li t0, 0x40000010\n lbu a1, 0(t0)\n ecall"

    /// Runs the guest in `mapTwoDimensionalLayout`'s address space: the G stage `g` under VMID 1,
    /// the VS tables at guest physical 0x9000_0000 under ASID 7.
    static func enterLayout(_ g: GuestPhysicalTables) -> (Machine) -> Void {
        { m in
            m.writeCSR(H.hgatp, g.hgatp(vmid: 1))
            m.writeCSR(H.vsatp, (8 << 60) | (7 << 44) | (0x9000_0000 >> 12))
        }
    }

    /// Guest physical layout for the 2-D walk tests: code at 0x8000_0000 (where it is in host
    /// memory too), data at 0x8000_2000 (holding 0x2A at 0x10), VS tables at guest physical
    /// 0x9000_0000.. → host 0x8070_0000..; A/D preset everywhere. Returns the G-stage tables.
    static func mapTwoDimensionalLayout(_ m: Machine) -> GuestPhysicalTables {
        var g = GuestPhysicalTables(m)
        var vs = PageTables(m, levels: 3, at: 0x8070_0000)
        let ad = PTEBits.a | PTEBits.d
        vs.map(H.guest & ~0xFFF, to: 0x8000_0000, flags: PTEBits.r | PTEBits.x | ad)
        vs.map(0x4000_0000, to: 0x8000_2000, flags: PTEBits.r | PTEBits.w | ad)
        vs.map(0x8000_1000, to: 0x8000_2000, flags: PTEBits.r | PTEBits.w | ad)   // the same page again
        // The VS tables hold host addresses where they point to their next level: rewrite those
        // pointers as guest physical ones, and map the guest physical table pages in the G stage.
        let tablePages: [UInt64] = Array(stride(from: UInt64(0x8070_0000), to: vs.next, by: 0x1000))
        let toGuest: (UInt64) -> UInt64 = { 0x9000_0000 + ($0 - 0x8070_0000) }
        for page in tablePages {
            for i in 0..<512 {
                let pte = vs.read(page + UInt64(i) * 8)
                if pte & 1 != 0 && pte & 0xE == 0 {
                    vs.write(page + UInt64(i) * 8, ((toGuest((pte >> 10) << 12) >> 12) << 10) | (pte & 0x3FF))
                }
            }
            g.map(toGuest(page), to: page, flags: PTEBits.r | PTEBits.w | ad | PTEBits.u)
        }
        g.map(0x8000_0000, to: 0x8000_0000, flags: PTEBits.r | PTEBits.x | ad | PTEBits.u)
        g.map(0x8000_2000, to: 0x8000_2000, flags: PTEBits.r | PTEBits.w | ad | PTEBits.u)
        m.loadPhysical([0x2A], at: 0x8000_2010)
        return g
    }

    /// Translations made while the VS stage was Bare do not outlive a vsatp write that turns
    /// paging on under the same ASID (Linux's relocation expects its next fetch to fault).
    @Test func turningVSPagingOnDropsBareTranslations() throws {
        var vs = PageTables(m, levels: 3, at: 0x8070_0000)
        vs.map(0x4000_0000, to: 0x8000_0000, flags: PTEBits.r | PTEBits.x | PTEBits.a | PTEBits.d)
        try runGuest("""
            li t0, \((8 << 60) | (0x8070_0000 >> 12))
            csrw satp, t0
            nop
        """)
        #expect(rig.csr(H.mcause) == 12, "the fetch after the write walks the new tables and faults")
        #expect(rig.csr(H.mepc) == rig.csr(H.mtval))
        #expect(rig.csr(H.vsatp) >> 60 == 8)
    }

    @Test func sfenceInHSModeSparesGuestsAndHfenceReachesThem() throws {
        var g = GuestPhysicalTables(m)
        g.identityMapRAM()
        try runGuest("ecall") { $0.writeCSR(H.hgatp, g.hgatp(vmid: 3)) }
        #expect(m.tlbEntries().contains { $0.vmid == 3 })
        // M-mode's sfence.vma flushes the host's translations only.
        try rig.start("sfence.vma\n ecall")
        _ = rig.run(100)
        #expect(m.tlbEntries().contains { $0.vmid == 3 })
        try rig.start(".option arch, +h\n li t0, 4\n hfence.gvma zero, t0\n ecall")
        _ = rig.run(100)
        #expect(m.tlbEntries().contains { $0.vmid == 3 }, "another VMID's fence")
        try rig.start(".option arch, +h\n li t0, 3\n hfence.gvma zero, t0\n ecall")
        _ = rig.run(100)
        #expect(!m.tlbEntries().contains { $0.vmid == 3 })
    }

    @Test func virtualMachineLoadsAndStoresFromHSMode() throws {
        var g = GuestPhysicalTables(m)
        g.identityMapRAM()
        g.map(0x1_0000_0000, to: 0x8060_0000, flags: PTEBits.r | PTEBits.w | PTEBits.a | PTEBits.d | PTEBits.u)
        g.map(0x1_0000_1000, to: 0x8060_1000, flags: PTEBits.x | PTEBits.a | PTEBits.u)
        m.loadPhysical([0xF0, 0xFF, 0xFF, 0xFF], at: 0x8060_0000)
        m.loadPhysical([0x13, 0x05], at: 0x8060_1000)
        // M-mode here (HS would do the same): hstatus.SPVP = 1 makes the accesses VS-level.
        try rig.start("""
            .option arch, +h
            li t0, 0x100000000
            hlv.w a0, (t0)
            hlv.wu a1, (t0)
            li t1, 0x77
            addi t3, t0, 4
            hsv.b t1, (t3)
            li t2, 0x100001000
            hlvx.hu a2, (t2)
            hlv.b a3, (t2)
            ecall
        """)
        m.grantFullPMPAccess(hart: 0)
        m.writeCSR(H.hgatp, g.hgatp())
        m.writeCSR(H.hstatus, H.spvp)
        _ = rig.run(100)
        #expect(rig.x(10) == UInt64(bitPattern: -16))
        #expect(rig.x(11) == 0xFFFF_FFF0)
        #expect(m.readPhysical(at: 0x8060_0004, count: 1) == [0x77])
        #expect(rig.x(12) == 0x0513, "hlvx reads an execute-only page")
        #expect(rig.csr(H.mcause) == 21, "hlv of an execute-only page is a load guest-page fault")
        #expect(rig.csr(H.mtval) == 0x1_0000_1000)
        #expect(rig.csr(H.mstatus) & H.gva != 0, "HLV faults report a guest virtual address")
        #expect(rig.csr(H.mstatus) & H.mpv == 0, "from M-mode, with V = 0")
    }

    @Test func virtualMachineAccessFromUModeNeedsHU() throws {
        try rig.start(".option arch, +h\n hlv.d a0, (sp)\n ecall", mode: .user)
        m.grantFullPMPAccess(hart: 0)
        _ = rig.run(100)
        #expect(rig.csr(H.mcause) == 2)
        try rig.start(".option arch, +h\n li t0, 0x80600000\n hlv.d a0, (t0)\n ecall", mode: .user)
        m.grantFullPMPAccess(hart: 0)
        m.writeCSR(H.hstatus, H.hu)
        m.loadPhysical([9, 0, 0, 0, 0, 0, 0, 0], at: 0x8060_0000)
        _ = rig.run(100)
        #expect(rig.csr(H.mcause) == 8, "the ecall after it")
        #expect(rig.x(10) == 9)
    }
}
