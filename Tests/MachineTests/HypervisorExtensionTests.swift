import Testing
import Machine

// The hypervisor extension (privileged spec, "Hypervisor Extension"): VS/VU-modes entered by mret
// and sret, trap routing through medeleg and hedeleg, the VS CSRs standing in for the supervisor
// ones, virtual-instruction exceptions, the VS-level interrupts, snapshots. Two-stage translation
// is TwoStageTranslationTests'.
//
// Each test runs a small program (Layout): M-mode starts the guest with mret (MPV set), and the
// first trap into M-mode stops the machine; the test then reads the CSRs that trap wrote
// (Support/HypervisorRig.swift).

@Suite struct HypervisorExtensionTests: HypervisorSuite {
    let rig = Guest.Rig { $0.hypervisorExtension = true }

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

    /// An untagged TLB has no VMIDs either: entering the guest and leaving it each empty it, as
    /// VM entries and exits did under VT-x without VPIDs. A tagged one keeps both worlds' entries.
    @Test func anUntaggedTLBFlushesAtEveryWorldSwitch() throws {
        let untagged = Guest.Rig {
            $0.hypervisorExtension = true
            $0.tlb = TLBConfiguration(entries: 8, ways: 1, asidTagged: false)
        }
        try untagged.runGuest("ecall")
        #expect(untagged.csr(H.mcause) == 10)
        #expect(untagged.machine.counters(hart: 0).tlb.satpFlushes == 2, "the entry into the guest and the exit from it")
        #expect(untagged.machine.tlbEntries().isEmpty, "the guest's entries went with the exit")
        try runGuest("ecall")
        #expect(m.counters(hart: 0).tlb.satpFlushes == 0)
        #expect(m.tlbEntries().contains { $0.vmid == 0 }, "a tagged TLB keeps the guest's entries")
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
