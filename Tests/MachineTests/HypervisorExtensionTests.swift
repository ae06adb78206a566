import Testing
import Machine

// The hypervisor extension (privileged spec, "Hypervisor Extension"): VS/VU-modes entered by mret
// and sret, trap routing through medeleg and hedeleg, the VS CSRs standing in for the supervisor
// ones, virtual-instruction exceptions, two-stage translation and its guest-page faults, the
// VMID-tagged TLB, HLV/HSV/HFENCE, and the VS-level interrupts.
//
// Each test runs a small program (Layout): M-mode starts the guest with mret (MPV set), and the
// first trap into M-mode stops the machine; the test then reads the CSRs that trap wrote.

/// G-stage tables (Sv39x4): a 16 KiB root, leaves checked as U-mode accesses (flags with U).
struct GuestPhysicalTables {
    var tables: PageTables

    init(_ machine: Machine, at base: UInt64 = 0x8080_0000) {
        tables = PageTables(machine, levels: 3, at: base, rootEntries: 2048)
    }

    func hgatp(vmid: UInt64 = 0) -> UInt64 { (8 << 60) | (vmid << 44) | (tables.root >> 12) }

    /// Maps the guest physical page of `gpa` at `level` to `pa` (V added; U is the caller's).
    @discardableResult
    mutating func map(_ gpa: UInt64, to pa: UInt64, level: Int = 0, flags: UInt64) -> UInt64 {
        tables.map(gpa, to: pa, level: level, flags: flags)
    }

    /// Identity-maps RAM's first GiB for the guest (U, RWX, A, D).
    mutating func identityMapRAM() {
        map(0x8000_0000, to: 0x8000_0000, level: 2, flags: PTEBits.rwxad | PTEBits.u)
    }
}

enum H {
    static let hstatus: UInt16 = 0x600, hedeleg: UInt16 = 0x602, hideleg: UInt16 = 0x603
    static let hie: UInt16 = 0x604, htimedelta: UInt16 = 0x605, hcounteren: UInt16 = 0x606
    static let htval: UInt16 = 0x643, hip: UInt16 = 0x644, hvip: UInt16 = 0x645, htinst: UInt16 = 0x64A
    static let hgatp: UInt16 = 0x680
    static let vsstatus: UInt16 = 0x200, vsie: UInt16 = 0x204, vstvec: UInt16 = 0x205
    static let vsscratch: UInt16 = 0x240, vsepc: UInt16 = 0x241, vscause: UInt16 = 0x242
    static let vstval: UInt16 = 0x243, vsip: UInt16 = 0x244, vsatp: UInt16 = 0x280
    static let mtinst: UInt16 = 0x34A, mtval2: UInt16 = 0x34B
    static let mstatus: UInt16 = 0x300, medeleg: UInt16 = 0x302, mideleg: UInt16 = 0x303, mie: UInt16 = 0x304
    static let mepc: UInt16 = 0x341, mcause: UInt16 = 0x342, mtval: UInt16 = 0x343
    static let sstatus: UInt16 = 0x100, sscratch: UInt16 = 0x140, sepc: UInt16 = 0x141
    static let scause: UInt16 = 0x142, stval: UInt16 = 0x143

    static let mpv: UInt64 = 1 << 39, gva: UInt64 = 1 << 38
    static let spv: UInt64 = 1 << 7, spvp: UInt64 = 1 << 8, hgva: UInt64 = 1 << 6, hu: UInt64 = 1 << 9
    static let vtvm: UInt64 = 1 << 20, vtw: UInt64 = 1 << 21, vtsr: UInt64 = 1 << 22
    /// Where the guest's code starts (`guest:` in `program`).
    static let guest: UInt64 = 0x8000_0100
}

@Suite struct HypervisorExtensionTests {
    let rig = Guest.Rig { $0.hypervisorExtension = true }
    var m: Machine { rig.machine }

    /// Loads `guest` at `H.guest` and `hs` (HS-mode code, if any) after it, then starts M-mode at
    /// an mret into the guest: VS-mode, or VU-mode with `user`. `prepare` writes CSRs first.
    func runGuest(_ guest: String, user: Bool = false, max: UInt64 = 10_000,
                  prepare: (Machine) -> Void = { _ in }) throws {
        // Every run starts from reset (the CSRs an earlier run of the test set are cleared).
        m.reset()
        try rig.start("""
            mret
        .org 0x100
        guest:
        .option arch, +h
        \(guest)
        """)
        m.grantFullPMPAccess(hart: 0)
        m.writeCSR(H.mepc, H.guest)
        m.writeCSR(H.mstatus, H.mpv | (user ? 0 : 1 << 11))
        prepare(m)
        _ = rig.run(max)
    }

    @Test func misaShowsHOnlyWhenConfigured() throws {
        #expect(m.readCSR(0x301, hart: 0)! & (1 << 7) != 0)
        let plain = Guest.Rig()
        #expect(plain.machine.readCSR(0x301, hart: 0)! & (1 << 7) == 0)
        #expect(plain.machine.readCSR(H.hstatus, hart: 0) == nil, "no hypervisor CSRs without H")
        // Without H, an hlv is illegal even in M-mode.
        try plain.start(".option arch, +h\n hlv.w a0, (sp)\n ecall")
        _ = plain.run(100)
        #expect(plain.csr(H.mcause) == 2)
    }

    @Test func ecallFromVSModeReachesMachineModeWithMPV() throws {
        try runGuest("li a0, 42\n ecall")
        #expect(rig.csr(H.mcause) == 10, "environment call from VS-mode")
        #expect(rig.csr(H.mepc) == H.guest + 4)
        let ms = rig.csr(H.mstatus)
        #expect(ms & H.mpv != 0 && (ms >> 11) & 3 == 1, "MPV = 1, MPP = S: the trap came from VS")
        #expect(ms & H.gva == 0, "an ecall reports no address")
        #expect(rig.x(10) == 42)
    }

    @Test func ecallFromVUModeIsCauseEight() throws {
        try runGuest("ecall", user: true)
        #expect(rig.csr(H.mcause) == 8)
        #expect(rig.csr(H.mstatus) & H.mpv != 0)
        #expect((rig.csr(H.mstatus) >> 11) & 3 == 0)
    }

    @Test func delegationGoesToHSModeThenToVSMode() throws {
        // medeleg alone: HS-mode takes it, recording SPV/SPVP; V becomes 0 (the HS handler's
        // ecall is then cause 9).
        try runGuest("ecall") { $0.writeCSR(H.medeleg, 1 << 10) }
        #expect(rig.csr(H.mcause) == 9, "the HS handler's own ecall")
        #expect(rig.csr(H.scause) == 10)
        #expect(rig.csr(H.sepc) == H.guest)
        let hs = rig.csr(H.hstatus)
        #expect(hs & H.spv != 0 && hs & H.spvp != 0, "SPV = 1, SPVP = 1 (from VS)")
        #expect(rig.csr(H.mstatus) & H.mpv == 0, "the HS handler runs with V = 0")

        // medeleg and hedeleg: an ecall from VU-mode goes to VS-mode, V stays 1.
        try runGuest("""
            la t0, vstrap
            csrw stvec, t0       # vstvec, from VS-mode
            la t0, user
            csrw sepc, t0        # vsepc
            sret                 # vsstatus.SPP = 0: to VU-mode
        user:
            ecall
        .align 2
        vstrap:
            csrr a1, scause      # vscause
            csrr a2, sstatus     # vsstatus
            ecall                # from VS-mode, not delegated by hedeleg: HS-mode
        """) {
            $0.writeCSR(H.medeleg, 1 << 8)
            $0.writeCSR(H.hedeleg, 1 << 8)
        }
        #expect(rig.x(11) == 8, "VS-mode took the ecall from VU-mode")
        #expect(rig.x(12) & (1 << 8) == 0, "vsstatus.SPP = 0: it came from VU")
        #expect(rig.csr(H.mcause) == 10, "VS-mode's own ecall reached M (not delegated)")
        #expect(rig.csr(H.vscause) == 8)
        #expect(rig.csr(H.scause) == 0, "HS-mode saw nothing")
    }

    @Test func supervisorCSRsAreTheVSOnesInVSMode() throws {
        try runGuest("""
            li t0, 0x1234
            csrw sscratch, t0
            csrr a0, sscratch
            csrr a1, satp
            ecall
        """) {
            $0.writeCSR(H.sscratch, 0x5555)
            $0.writeCSR(H.vsatp, 0)
        }
        #expect(rig.x(10) == 0x1234)
        #expect(rig.csr(H.vsscratch) == 0x1234, "the write reached vsscratch")
        #expect(rig.csr(H.sscratch) == 0x5555, "HS-mode's sscratch is untouched")
    }

    @Test func hypervisorCSRsFromVSModeAreVirtualInstructions() throws {
        try runGuest("csrr a0, hstatus")
        #expect(rig.csr(H.mcause) == 22, "virtual instruction")
        #expect(rig.csr(H.mtval) == 0x6000_2573, "tval holds the instruction, as for an illegal one")
        try runGuest("csrr a0, mstatus")
        #expect(rig.csr(H.mcause) == 2, "an M-level CSR is illegal")
        try runGuest("csrr a0, sscratch", user: true)
        #expect(rig.csr(H.mcause) == 22, "a supervisor CSR from VU-mode")
        try runGuest("csrr a0, satp") { $0.writeCSR(H.hstatus, H.vtvm) }
        #expect(rig.csr(H.mcause) == 22, "satp under VTVM")
    }

    @Test func privilegedInstructionsUnderTheVirtualTrapBits() throws {
        try runGuest("sret") { $0.writeCSR(H.hstatus, H.vtsr) }
        #expect(rig.csr(H.mcause) == 22)
        try runGuest("wfi") { $0.writeCSR(H.hstatus, H.vtw) }
        #expect(rig.csr(H.mcause) == 22)
        try runGuest("wfi", user: true)
        #expect(rig.csr(H.mcause) == 22, "WFI from VU-mode")
        try runGuest("sfence.vma") { $0.writeCSR(H.hstatus, H.vtvm) }
        #expect(rig.csr(H.mcause) == 22)
        try runGuest("hfence.vvma")
        #expect(rig.csr(H.mcause) == 22, "hypervisor instructions from VS-mode")
        try runGuest("mret")
        #expect(rig.csr(H.mcause) == 2, "mret below M is illegal, never virtual")
        // mstatus.TW wins: WFI is illegal.
        try runGuest("wfi") { $0.writeCSR(H.mstatus, H.mpv | 1 << 11 | 1 << 21) }
        #expect(rig.csr(H.mcause) == 2)
    }

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
        var g = GuestPhysicalTables(m)
        // Guest physical layout: code at 0x8000_0000 (where it is in host memory too), data at
        // 0x8000_2000, VS tables at guest physical 0x9000_0000.. → host 0x8070_0000..
        var vs = PageTables(m, levels: 3, at: 0x8070_0000)
        let ad = PTEBits.a | PTEBits.d
        vs.map(H.guest & ~0xFFF, to: 0x8000_0000, flags: PTEBits.r | PTEBits.x | ad)
        vs.map(0x4000_0000, to: 0x8000_2000, flags: PTEBits.r | PTEBits.w | ad)
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
        try runGuest("li t0, 0x40000010\n lbu a0, 0(t0)\n ecall") {
            $0.writeCSR(H.hgatp, g.hgatp(vmid: 1))
            $0.writeCSR(H.vsatp, (8 << 60) | (7 << 44) | (0x9000_0000 >> 12))
        }
        #expect(rig.csr(H.mcause) == 10)
        #expect(rig.x(10) == 0x2A)
        let tlb = m.counters(hart: 0).tlb
        #expect(tlb.fetchMisses == 1 && tlb.loadMisses == 1)
        #expect(tlb.walkReferences == 30, "two 2-D walks of 15 references each")
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

    @Test func sretFromHSModeEntersTheGuest() throws {
        try rig.start("""
            la t0, guest
            csrw sepc, t0
            sret
        guest:
            ecall
        """, mode: .supervisor)
        m.grantFullPMPAccess(hart: 0)
        m.writeCSR(H.hstatus, H.spv)
        m.writeCSR(H.sstatus, 1 << 8)
        _ = rig.run(100)
        #expect(rig.csr(H.mcause) == 10, "the guest's ecall comes from VS-mode")
        #expect(rig.csr(H.hstatus) & H.spv == 0, "sret clears SPV")
    }

    @Test func vsLevelInterruptsGoToVSModeOneCodeLower() throws {
        // hvip.VSTIP delegated by hideleg, enabled in vsie: VS-mode takes a supervisor timer
        // interrupt (code 5).
        try runGuest("""
            la t0, vstrap
            csrw stvec, t0
            li t0, 0x20
            csrs sie, t0          # vsie.STIE
            csrsi sstatus, 2      # vsstatus.SIE
        1:  j 1b
        .align 2
        vstrap:
            csrr a0, scause
            ecall
        """) {
            $0.writeCSR(H.hideleg, 1 << 6)
            $0.writeCSR(H.hvip, 1 << 6)
        }
        #expect(rig.x(10) == UInt64(1) << 63 | 5)
        #expect(rig.csr(H.mcause) == 10)
        #expect(m.counters(hart: 0).interrupts[6] == 1, "counted as VSTI")
        // Not delegated by hideleg: HS-mode takes VSTI (code 6), whatever the guest's enables.
        try runGuest("1: j 1b") {
            $0.writeCSR(H.hideleg, 0)
            $0.writeCSR(H.hvip, 1 << 6)
            $0.writeCSR(H.hie, 1 << 6)
        }
        #expect(rig.csr(H.scause) == UInt64(1) << 63 | 6)
        #expect(rig.csr(H.hstatus) & H.spv != 0)
    }

    /// A hypervisor in Swift that takes the external line (SEIP, not delegated) and injects VSEIP
    /// in its stead: the guest takes the injected interrupt at once, not when the slice ends.
    final class Injector: MachineModeTrapHandler {
        var taken = 0
        var handlesInterrupts: Bool { true }
        func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart: Int) -> Bool {
            guard trap.isInterrupt, trap.cause == 9, trap.virtualized else { return false }
            taken += 1
            machine.writeCSR(H.hvip, 1 << 10, hart: hart)
            machine.writeCSR(H.mie, (machine.readCSR(H.mie, hart: hart) ?? 0) & ~(1 << 9), hart: hart)
            return true
        }
    }

    @Test func anInterruptAHandlerInjectsIsTakenAtOnce() throws {
        let injector = Injector()
        try runGuest("""
            la t0, vstrap
            csrw stvec, t0
            li t0, 0x200
            csrs sie, t0          # vsie.SEIE
            csrsi sstatus, 2      # vsstatus.SIE
            li s0, 0
        1:  addi s0, s0, 1
            j 1b
        .align 2
        vstrap:
            csrr a0, scause
            ecall
        """, max: 300) {
            $0.writeCSR(H.hideleg, 1 << 10)
            $0.writeCSR(H.mie, 1 << 9)
            $0.trapHandler = injector
        }
        let spins = rig.x(8)
        #expect(spins > 50, "the guest spins with the interrupt enabled")
        // The line rises between two runs; the next run's first interrupt check takes it into
        // the handler, which injects VSEIP, taken there and then.
        m.setPin(.seip, hart: 0, level: true)
        _ = rig.run(100_000)
        #expect(injector.taken == 1)
        #expect(rig.x(10) == UInt64(1) << 63 | 9, "VS-mode saw a supervisor external interrupt")
        #expect(rig.x(8) == spins, "taken before the guest's loop ran on")
        #expect(rig.csr(H.mcause) == 10)
    }

    @Test func aSnapshotNeedsTheExtensionItWasTakenWith() throws {
        try runGuest("1: j 1b", max: 100)
        #expect(m.isVirtualized(hart: 0))
        let snapshot = m.snapshot()
        let plain = Guest.Rig()
        #expect(throws: SnapshotError("the snapshot is of another machine (the hypervisor extension, which this machine lacks)")) {
            try plain.machine.restore(snapshot)
        }
        // Onto a machine that has it: V and the guest's CSRs come back.
        let other = Guest.Rig { $0.hypervisorExtension = true }
        try other.machine.restore(snapshot)
        #expect(other.machine.isVirtualized(hart: 0))
        #expect(other.machine.readCSR(H.mstatus) == m.readCSR(H.mstatus))
    }

    @Test func interruptRegisterAliases() throws {
        m.writeCSR(H.hvip, 0x444)
        #expect(rig.csr(H.hip) == 0x444)
        #expect(rig.csr(0x344) & 0x444 == 0x444, "mip shows the VS-level bits")
        #expect(rig.csr(H.mideleg) & 0x444 == 0x444, "VS-level interrupts are always delegated past M")
        #expect(rig.csr(0x144) & 0x444 == 0, "sip does not show them")
        m.writeCSR(H.hideleg, 0x444)
        #expect(rig.csr(H.vsip) == 0x222, "vsip shows them one position lower")
        m.writeCSR(H.vsip, 0)
        #expect(rig.csr(H.hvip) == 0x440, "vsip.SSIP is hvip.VSSIP")
        m.writeCSR(H.vsie, 0x222)
        #expect(rig.csr(H.hie) == 0x444)
        #expect(rig.csr(H.hedeleg) == 0)
        m.writeCSR(H.hedeleg, .max)
        #expect(rig.csr(H.hedeleg) == 0xB1FF, "ecalls from HS/VS/M and guest faults stay with the hypervisor")
    }

    @Test func timeInVSModeAddsHtimedelta() throws {
        try runGuest("csrr a0, time\n ecall") {
            $0.writeCSR(0x306, .max)  // mcounteren
            $0.writeCSR(H.hcounteren, .max)
            $0.writeCSR(H.htimedelta, 1_000_000)
        }
        #expect(rig.csr(H.mcause) == 10)
        #expect(rig.x(10) >= 1_000_000 && rig.x(10) < 1_000_000 + m.mtime + 1)
        try runGuest("csrr a0, time\n ecall") {
            $0.writeCSR(0x306, .max)
            $0.writeCSR(H.hcounteren, 0)
        }
        #expect(rig.csr(H.mcause) == 22, "hcounteren clear: a virtual instruction")
    }

    @Test func floatingPointNeedsFSInBothStatusRegisters() throws {
        try runGuest("fmv.d.x f1, zero\n ecall") {
            $0.writeCSR(H.mstatus, H.mpv | 1 << 11 | 1 << 13)
            $0.writeCSR(H.vsstatus, 0)
        }
        #expect(rig.csr(H.mcause) == 2, "vsstatus.FS off: illegal (never virtual)")
        try runGuest("fmv.d.x f1, zero\n ecall") {
            $0.writeCSR(H.mstatus, H.mpv | 1 << 11 | 1 << 13)
            $0.writeCSR(H.vsstatus, 1 << 13)
        }
        #expect(rig.csr(H.mcause) == 10)
        #expect(rig.csr(H.vsstatus) & (3 << 13) == 3 << 13, "vsstatus.FS dirty")
    }
}
