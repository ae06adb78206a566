// The hypervisor extension's registers (privileged spec, "Hypervisor Extension", "Hypervisor and
// Virtual Supervisor CSRs"): the hypervisor CSRs HS-mode programs, the virtual-supervisor CSRs
// that stand in for the supervisor ones while V=1, which register a CSR instruction in VS- or
// VU-mode reaches, and the VS-level interrupt bits. Trap routing is in Hart+Trap.swift, two-stage
// translation in MMU/TwoStageTranslation.swift, HLV/HSV/HFENCE in Execute+Hypervisor.swift.

import RISCV

/// The hypervisor and virtual-supervisor CSRs of one hart. The VS-level interrupt bits live in
/// `mie` (VSSIE, VSTIE, VSEIE, aliased by `hie`) and `mipSoft` (`hvip`'s VSSIP, VSTIP, VSEIP,
/// aliased by `hip` and `mip`).
struct HypervisorCSRs: Equatable, Codable {
    var hstatus: UInt64 = Hstatus.vsxl
    var hedeleg: UInt64 = 0
    var hideleg: UInt64 = 0
    var hcounteren: UInt64 = 0
    var htimedelta: UInt64 = 0
    var henvcfg: UInt64 = 0
    var htval: UInt64 = 0
    var htinst: UInt64 = 0
    var hgatp: UInt64 = 0
    var vsstatus: UInt64 = Mstatus.uxl
    var vstvec: UInt64 = 0
    var vsscratch: UInt64 = 0
    var vsepc: UInt64 = 0
    var vscause: UInt64 = 0
    var vstval: UInt64 = 0
    var vsatp: UInt64 = 0
    var mtval2: UInt64 = 0
    var mtinst: UInt64 = 0
}

/// What a trap about to be taken carries besides its cause and tval (hypervisor extension): whether
/// tval is a guest virtual address (GVA), the guest physical address for `htval`/`mtval2` (already
/// shifted right by 2), and the value for `htinst`/`mtinst`. Set just before raising by two-stage
/// translation and the virtual-machine loads and stores; taken (and cleared) by the trap entry.
struct TrapExtras {
    var guestVirtual = false
    var guestPhysical: UInt64 = 0
    var instruction: UInt64 = 0
}

/// Where a trap goes.
enum TrapTarget {
    case machine, supervisor, virtualSupervisor
}

/// How a CSR instruction executed with V=1 goes on.
enum VirtualCSRAccess: Equatable {
    /// Reach this CSR (the VS substitute of a supervisor CSR, or the CSR itself), with the usual checks.
    case reach(UInt16)
    case virtualInstruction
    case illegal
}

/// Bits of hgatp: VMIDLEN is 14 (VMIDMAX for Sv39x4 and wider), and PPN[1:0] read as zero (the
/// root table is 16 KiB and aligned to it).
let vmidBits: UInt64 = 14
let hgatpVMIDMask: UInt64 = ((1 << vmidBits) - 1) << 44
let hgatpPPNMask: UInt64 = ((1 << 44) - 1) & ~3

extension Hart {
    /// `misa`: RV64GC, S, U, and H when configured.
    var misa: UInt64 { hasHypervisor ? misaValue | misaH : misaValue }

    /// The TLB's address-space family for V=1 translations: the VMID in hgatp, marked apart
    /// from the host's translations (family 0).
    var guestSpace: UInt16 { 0x8000 | UInt16(truncatingIfNeeded: (state.pointee.hyper.hgatp & hgatpVMIDMask) >> 44) }

    /// The ASID of the VS-stage address space (`vsatp`).
    var guestASID: UInt16 { UInt16(truncatingIfNeeded: state.pointee.hyper.vsatp >> 44) }

    /// `mideleg` as read: with the hypervisor extension, the VS-level bits are read-only one.
    var effectiveMideleg: UInt64 {
        hasHypervisor ? state.pointee.mideleg | Irq.virtualSupervisor : state.pointee.mideleg
    }

    /// `privilegeChanged`'s part for the hypervisor extension: M-mode loads and stores under MPRV
    /// with MPV (and MPP below M) translate as V=1; with V=1, FS must be on in both mstatus and
    /// vsstatus (privileged spec, "Hypervisor Status Register"); the soft TLB's rows are per
    /// privilege, not per virtualization mode, so a change of either mode empties it.
    @inline(never)
    func virtualizationChanged() {
        let s = state
        let ms = s.pointee.mstatus
        let virt = s.pointee.virt
        let dataVirt = virt || (s.pointee.priv == 3 && ms & Mstatus.mprv != 0 && ms & Mstatus.mpv != 0
                                && s.pointee.dataPriv != 3)
        if virt && s.pointee.hyper.vsstatus & Mstatus.fs == 0 { s.pointee.fpEnabled = false }
        if dataVirt != s.pointee.dataVirt || virt != softTLBVirt {
            // An untagged TLB cannot tell a guest's translations from its host's: every world
            // switch empties it (VT-x without VPIDs).
            if virt != softTLBVirt && !tlb.tagged {
                tlb.flushAll()
                countSwitchFlush()
            }
            s.pointee.dataVirt = dataVirt
            softTLBVirt = virt
            flushSoftTLB()
        }
    }

    /// Which CSR a CSR instruction executed with V=1 reaches, or which exception it raises
    /// (privileged spec, "Virtual Instruction Exceptions"): supervisor CSRs with a VS counterpart
    /// are substituted in VS-mode; hypervisor and VS CSRs, and from VU-mode supervisor CSRs, raise
    /// a virtual-instruction exception where HS-mode could have made the access; counters check
    /// `hcounteren` (and from VU-mode `scounteren`) after `mcounteren`.
    func virtualCSRAccess(_ n: UInt16, write: Bool) -> VirtualCSRAccess {
        let s = state
        let level = (n >> 8) & 3
        // Whether HS-mode (with TVM clear) could make this access at all: asked only where the
        // answer decides, so that a VS-mode access (the common case) reads no CSR here.
        func hsCould() -> Bool { csrRead(n) != nil && !(write && (n >> 10) & 3 == 3) }
        switch level {
        case 3:
            return .illegal
        case 2:
            return hsCould() ? .virtualInstruction : .illegal
        case 1:
            if s.pointee.priv == 0 {
                // Whether HS-mode could: for stimecmp, M-mode must allow it below M.
                if n == CSR.stimecmp && !machineAllowsTimerCompare { return .illegal }
                return hsCould() ? .virtualInstruction : .illegal
            }
            // VS-mode: the substitutes exist and are writable; any other supervisor CSR is reached
            // as it is, and the usual checks refuse one that does not exist or is read-only.
            if n == CSR.satp && s.pointee.hyper.hstatus & Hstatus.vtvm != 0 { return .virtualInstruction }
            if n == CSR.stimecmp && config.sstc {
                // Sstc: vstimecmp stands in when M-mode allows the access and HS-mode does too.
                if !machineAllowsTimerCompare { return .illegal }
                if s.pointee.hyper.hcounteren & 2 == 0 || s.pointee.hyper.henvcfg & Envcfg.stce == 0 { return .virtualInstruction }
            }
            return .reach(RISCV.CSR.virtualSupervisorSubstitute(n) ?? n)
        default:
            if n >= CSR.cycle && n <= CSR.hpmcounter31 {
                let bit: UInt64 = 1 << UInt64(n - CSR.cycle)
                if s.pointee.mcounteren & bit == 0 { return .illegal }
                if s.pointee.hyper.hcounteren & bit == 0 { return .virtualInstruction }
                if s.pointee.priv == 0 && s.pointee.scounteren & bit == 0 { return .virtualInstruction }
            }
            return .reach(n)
        }
    }

    /// Reads a hypervisor or VS CSR (nil when it does not exist, as without the extension). Out of
    /// line, so that `csrRead`'s common cases stay as small as without the extension.
    @inline(never)
    func hypervisorCSRRead(_ n: UInt16) -> UInt64? {
        guard hasHypervisor else { return nil }
        let s = state
        let h = s.pointee.hyper
        switch n {
        case CSR.hstatus: return h.hstatus
        case CSR.hedeleg: return h.hedeleg
        case CSR.hideleg: return h.hideleg
        case CSR.hie: return s.pointee.mie & Irq.virtualSupervisor
        case CSR.hip: return s.pointee.mip & Irq.virtualSupervisor
        case CSR.hvip: return s.pointee.mipSoft & Irq.virtualSupervisor
        case CSR.htimedelta: return h.htimedelta
        case CSR.hcounteren: return h.hcounteren
        case CSR.hgeie, CSR.hgeip: return 0  // GEILEN = 0
        case CSR.henvcfg: return supervisorTimerCompareEnabled ? h.henvcfg : h.henvcfg & ~Envcfg.stce
        case CSR.vstimecmp: return config.sstc ? s.pointee.vstimecmp : nil
        case CSR.htval: return h.htval
        case CSR.htinst: return h.htinst
        case CSR.hgatp: return h.hgatp
        case CSR.vsstatus:
            let v = h.vsstatus
            return v & Mstatus.fs == Mstatus.fs ? v | Mstatus.sd : v & ~Mstatus.sd
        // vsie/vsip show the VS-level bits hideleg delegates, one position lower (privileged
        // spec, "Virtual Supervisor Interrupt Registers").
        case CSR.vsie: return (s.pointee.mie & h.hideleg & Irq.virtualSupervisor) >> 1
        case CSR.vsip: return (s.pointee.mip & h.hideleg & Irq.virtualSupervisor) >> 1
        case CSR.vstvec: return h.vstvec
        case CSR.vsscratch: return h.vsscratch
        case CSR.vsepc: return h.vsepc & ~1
        case CSR.vscause: return h.vscause
        case CSR.vstval: return h.vstval
        case CSR.vsatp: return h.vsatp
        case CSR.mtval2: return h.mtval2
        case CSR.mtinst: return h.mtinst
        default: return nil
        }
    }

    /// Writes a hypervisor or VS CSR with its WARL rules; false when it does not exist.
    @inline(never)
    func hypervisorCSRWrite(_ n: UInt16, _ v: UInt64) -> Bool {
        guard hasHypervisor else { return false }
        let s = state
        switch n {
        case CSR.hstatus: s.pointee.hyper.hstatus = (v & Hstatus.writable) | Hstatus.vsxl
        case CSR.hedeleg: s.pointee.hyper.hedeleg = v & hedelegWritable
        case CSR.hideleg:
            s.pointee.hyper.hideleg = v & Irq.virtualSupervisor
            s.pointee.exitSlice = .checkInterrupts
        case CSR.hie:
            s.pointee.mie = (s.pointee.mie & ~Irq.virtualSupervisor) | (v & Irq.virtualSupervisor)
            s.pointee.exitSlice = .checkInterrupts
        case CSR.hip:
            // Only VSSIP is writable through hip (an alias of hvip's).
            s.pointee.mipSoft = (s.pointee.mipSoft & ~Irq.vssi) | (v & Irq.vssi)
            s.pointee.exitSlice = .checkInterrupts
        case CSR.hvip:
            s.pointee.mipSoft = (s.pointee.mipSoft & ~Irq.virtualSupervisor) | (v & Irq.virtualSupervisor)
            s.pointee.exitSlice = .checkInterrupts
        case CSR.htimedelta:
            s.pointee.hyper.htimedelta = v
            timerCompareChanged(wasEnabled: supervisorTimerCompareEnabled)
        case CSR.hcounteren: s.pointee.hyper.hcounteren = v & 0xFFFF_FFFF
        case CSR.hgeie: break
        case CSR.henvcfg:
            // STCE reads as zero while menvcfg.STCE is clear.
            s.pointee.hyper.henvcfg = v & envcfgWritable
            timerCompareChanged(wasEnabled: supervisorTimerCompareEnabled)
        case CSR.vstimecmp:
            guard config.sstc else { return false }
            s.pointee.vstimecmp = v
            timerCompareChanged(wasEnabled: supervisorTimerCompareEnabled)
        case CSR.htval: s.pointee.hyper.htval = v
        case CSR.htinst: s.pointee.hyper.htinst = v
        case CSR.hgatp: writeHgatp(v)
        case CSR.vsstatus:
            s.pointee.hyper.vsstatus = (v & Mstatus.sstatusWritable) | Mstatus.uxl
            if s.pointee.virt || s.pointee.dataVirt { flushSoftTLB() }  // SUM, MXR
            privilegeChanged()  // FS
        case CSR.vsie:
            let m = s.pointee.hyper.hideleg & Irq.virtualSupervisor
            s.pointee.mie = (s.pointee.mie & ~m) | ((v << 1) & m)
            s.pointee.exitSlice = .checkInterrupts
        case CSR.vsip:
            // Only SSIP (hvip's VSSIP) is writable through vsip, and only when delegated.
            let m = s.pointee.hyper.hideleg & Irq.vssi
            s.pointee.mipSoft = (s.pointee.mipSoft & ~m) | ((v << 1) & m)
            s.pointee.exitSlice = .checkInterrupts
        case CSR.vstvec: s.pointee.hyper.vstvec = legalTvec(v, old: s.pointee.hyper.vstvec)
        case CSR.vsscratch: s.pointee.hyper.vsscratch = v
        case CSR.vsepc: s.pointee.hyper.vsepc = v & ~1
        case CSR.vscause: s.pointee.hyper.vscause = v
        case CSR.vstval: s.pointee.hyper.vstval = v
        case CSR.vsatp: writeVsatp(v)
        case CSR.mtval2: s.pointee.hyper.mtval2 = v
        case CSR.mtinst: s.pointee.hyper.mtinst = v
        case CSR.hgeip: return false  // read-only
        default: return false
        }
        return true
    }

    /// hgatp: MODE is WARL over Bare, Sv39x4, Sv48x4 (and Sv57x4 with Sv57); an unsupported MODE
    /// keeps the old one, unlike satp, whose write is then ignored.
    private func writeHgatp(_ v: UInt64) {
        let s = state
        let old = s.pointee.hyper.hgatp
        var mode = v >> 60
        if !(mode == 0 || mode == 8 || mode == 9 || (mode == 10 && config.sv57)) { mode = old >> 60 }
        let new = (mode << 60) | (v & hgatpVMIDMask) | (v & hgatpPPNMask)
        foldCounters()
        s.pointee.hyper.hgatp = new
        // The nested TLB caches the G stage itself: new tables, new translations (the spec asks
        // for an hfence.gvma too; a cache this small may as well not wait for it).
        if new != old { tlb.flushNested(.all) }
        // Guest translations are tagged with their VMID; an untagged TLB cannot keep them apart.
        if !tlb.tagged && new != old {
            tlb.flush(vaddr: nil, asid: nil, space: .allGuests)
            countSwitchFlush()
        }
        if s.pointee.virt || s.pointee.dataVirt { flushSoftTLB() }
    }

    /// vsatp: like satp (an unsupported MODE makes the write have no effect).
    private func writeVsatp(_ v: UInt64) {
        let s = state
        guard let new = legalSatp(v) else { return }
        foldCounters()
        s.pointee.hyper.vsatp = new
        if !tlb.tagged {
            tlb.flush(vaddr: nil, asid: 0, space: .guest(guestSpace))
            countSwitchFlush()
        }
        if s.pointee.virt || s.pointee.dataVirt { flushSoftTLB() }
    }
}
