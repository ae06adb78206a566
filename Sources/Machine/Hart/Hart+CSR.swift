// CSR access with the privileged spec's legality rules ("CSR Listing", "Counter-Enable Registers",
// each register's WARL rules). Illegal accesses return nil / false; the caller raises an
// illegal-instruction exception.

extension Hart {
    /// Whether the current privilege may access CSR `n` at all (and write it, if `write`).
    func csrAccessible(_ n: UInt16, write: Bool) -> Bool {
        let s = state
        let priv = s.pointee.priv
        // Bits 9:8 give the lowest privilege; level 2 is the hypervisor's (HS-mode and up).
        let level = UInt8((n >> 8) & 3)
        if level > priv && !(level == 2 && priv == 1 && hasHypervisor) { return false }
        if write && (n >> 10) & 3 == 3 { return false }
        switch n {
        case CSR.satp:
            if priv == 1 && s.pointee.mstatus & Mstatus.tvm != 0 { return false }
        case CSR.hgatp:
            // Only HS-mode reaches hgatp (V=1 raised a virtual instruction before).
            if priv == 1 && s.pointee.mstatus & Mstatus.tvm != 0 { return false }
        case CSR.fflags, CSR.frm, CSR.fcsr:
            if !s.pointee.fpEnabled { return false }
        case CSR.cycle...CSR.hpmcounter31:
            let bit: UInt64 = 1 << UInt64(n - CSR.cycle)
            if priv < 3 && s.pointee.mcounteren & bit == 0 { return false }
            if priv == 0 && s.pointee.scounteren & bit == 0 { return false }
        case CSR.stimecmp:
            // Sstc: below M-mode, mcounteren.TM and menvcfg.STCE must both allow it.
            if priv < 3 && !machineAllowsTimerCompare { return false }
        case CSR.vstimecmp:
            if priv < 3 && s.pointee.mcounteren & 2 == 0 { return false }
        default: break
        }
        return true
    }

    /// Whether an access `csrAccessible` refuses is refused only for lack of privilege (CSR level,
    /// mstatus.TVM for satp, the counter-enable registers), so that a ``SensitiveHole`` may let it
    /// through. Writes to read-only CSRs, CSRs that do not exist and FP CSRs with FS Off are
    /// illegal at every privilege and never holed. Cold: called on the illegal-instruction path.
    func csrRefusedForPrivilege(_ n: UInt16, write: Bool) -> Bool {
        if write && (n >> 10) & 3 == 3 { return false }
        if n == CSR.fflags || n == CSR.frm || n == CSR.fcsr { return false }
        return csrRead(n) != nil
    }

    var mcycleValue: UInt64 {
        state.pointee.mcountinhibit & 1 != 0 ? frozenCycle : state.pointee.cycles &+ state.pointee.mcycleOffset
    }
    var minstretValue: UInt64 {
        state.pointee.mcountinhibit & 4 != 0 ? frozenInstret : state.pointee.instret &+ state.pointee.minstretOffset
    }

    /// Reads CSR `n` without privilege checks; nil when the CSR does not exist in this hart.
    func csrRead(_ n: UInt16) -> UInt64? {
        let s = state
        switch n {
        case CSR.fflags: return s.pointee.fflags
        case CSR.frm: return s.pointee.frm
        case CSR.fcsr: return s.pointee.frm << 5 | s.pointee.fflags
        case CSR.cycle, CSR.mcycle: return mcycleValue
        case CSR.time: return s.pointee.virt ? machine.mtime &+ s.pointee.hyper.htimedelta : machine.mtime
        case CSR.instret, CSR.minstret: return minstretValue
        case CSR.hpmcounter3...CSR.hpmcounter31, CSR.mhpmcounter3...CSR.mhpmcounter31: return 0
        case CSR.mhpmevent3...CSR.mhpmevent31: return 0

        case CSR.sstatus: return readMstatus() & Mstatus.sstatusReadable
        case CSR.sie: return s.pointee.mie & s.pointee.mideleg & Irq.supervisor
        case CSR.stvec: return s.pointee.stvec
        case CSR.scounteren: return s.pointee.scounteren
        case CSR.senvcfg: return s.pointee.senvcfg
        case CSR.sscratch: return s.pointee.sscratch
        case CSR.sepc: return s.pointee.sepc & ~1
        case CSR.scause: return s.pointee.scause
        case CSR.stval: return s.pointee.stval
        case CSR.sip: return s.pointee.mip & s.pointee.mideleg & Irq.supervisor
        case CSR.satp: return s.pointee.satp
        case CSR.stimecmp: return config.sstc ? s.pointee.stimecmp : nil

        case CSR.mvendorid, CSR.marchid, CSR.mimpid, CSR.mconfigptr: return 0
        case CSR.mhartid: return UInt64(id)
        case CSR.mstatus: return readMstatus()
        case CSR.misa: return misa
        case CSR.medeleg: return s.pointee.medeleg
        case CSR.mideleg: return effectiveMideleg
        case CSR.mie: return s.pointee.mie
        case CSR.mtvec: return s.pointee.mtvec
        case CSR.mcounteren: return s.pointee.mcounteren
        case CSR.menvcfg: return s.pointee.menvcfg
        case CSR.mcountinhibit: return s.pointee.mcountinhibit
        case CSR.mscratch: return s.pointee.mscratch
        case CSR.mepc: return s.pointee.mepc & ~1
        case CSR.mcause: return s.pointee.mcause
        case CSR.mtval: return s.pointee.mtval
        case CSR.mip: return s.pointee.mip
        case CSR.pmpcfg0...CSR.pmpcfg15:
            let k = Int(n - CSR.pmpcfg0)
            return k & 1 == 0 ? pmp.readCfg(k) : nil
        case CSR.pmpaddr0...CSR.pmpaddr63: return pmp.readAddr(Int(n - CSR.pmpaddr0))
        case CSR.tselect...CSR.tinfo: return readTriggerCSR(n)
        default: return hypervisorCSRRead(n)
        }
    }

    func readMstatus() -> UInt64 {
        let ms = state.pointee.mstatus
        return ms & Mstatus.fs == Mstatus.fs ? ms | Mstatus.sd : ms & ~Mstatus.sd
    }

    /// Writes CSR `n` without privilege checks, applying its WARL rules and side effects. Returns
    /// false when the CSR does not exist.
    func csrWrite(_ n: UInt16, _ v: UInt64) -> Bool {
        let s = state
        switch n {
        case CSR.fflags: s.pointee.fflags = v & 0x1F; markFPDirty()
        case CSR.frm: s.pointee.frm = v & 7; markFPDirty()
        case CSR.fcsr: s.pointee.fflags = v & 0x1F; s.pointee.frm = (v >> 5) & 7; markFPDirty()
        case CSR.mcycle:
            if s.pointee.mcountinhibit & 1 != 0 { frozenCycle = v } else { s.pointee.mcycleOffset = v &- s.pointee.cycles }
        case CSR.minstret:
            // The write takes effect after this instruction retires; the retiring instruction itself
            // must not increment the new value (privileged spec, "Hardware Performance Monitor").
            if s.pointee.mcountinhibit & 4 != 0 { frozenInstret = v } else {
                s.pointee.minstretOffset = v &- s.pointee.instret &- 1
            }
        case CSR.mhpmcounter3...CSR.mhpmcounter31, CSR.mhpmevent3...CSR.mhpmevent31:
            break  // hardwired to zero: no events are counted by the HPM counters
        case CSR.cycle...CSR.hpmcounter31:
            return false
        case CSR.sstatus:
            writeMstatus((s.pointee.mstatus & ~Mstatus.sstatusWritable) | (v & Mstatus.sstatusWritable))
        case CSR.sie:
            let m = s.pointee.mideleg
            s.pointee.mie = (s.pointee.mie & ~m) | (v & m & Irq.all)
            s.pointee.exitSlice = .checkInterrupts
        case CSR.stvec: s.pointee.stvec = legalTvec(v, old: s.pointee.stvec)
        case CSR.scounteren: s.pointee.scounteren = v & 0xFFFF_FFFF
        case CSR.senvcfg: s.pointee.senvcfg = v & 1
        case CSR.sscratch: s.pointee.sscratch = v
        case CSR.sepc: s.pointee.sepc = v & ~1
        case CSR.scause: s.pointee.scause = v
        case CSR.stval: s.pointee.stval = v
        case CSR.sip:
            // Only SSIP is software-writable through sip, and only when delegated.
            let m = s.pointee.mideleg & Irq.ssi
            s.pointee.mipSoft = (s.pointee.mipSoft & ~m) | (v & m)
            s.pointee.exitSlice = .checkInterrupts
        case CSR.satp: writeSatp(v)
        case CSR.stimecmp:
            guard config.sstc else { return false }
            s.pointee.stimecmp = v
            timerCompareChanged(wasEnabled: supervisorTimerCompareEnabled)
        case CSR.mvendorid, CSR.marchid, CSR.mimpid, CSR.mhartid, CSR.mconfigptr:
            return false
        case CSR.mstatus: writeMstatus(v)
        case CSR.misa: break  // WARL: the extension set is fixed
        case CSR.medeleg: s.pointee.medeleg = v & (hasHypervisor ? medelegWritableH : medelegWritable)
        case CSR.mideleg: s.pointee.mideleg = v & Irq.supervisor; s.pointee.exitSlice = .checkInterrupts
        case CSR.mie:
            s.pointee.mie = v & (hasHypervisor ? Irq.all | Irq.virtualSupervisor : Irq.all)
            s.pointee.exitSlice = .checkInterrupts
        case CSR.mtvec: s.pointee.mtvec = legalTvec(v, old: s.pointee.mtvec)
        case CSR.mcounteren: s.pointee.mcounteren = v & 0xFFFF_FFFF
        case CSR.menvcfg:
            let wasEnabled = supervisorTimerCompareEnabled
            s.pointee.menvcfg = v & envcfgWritable
            timerCompareChanged(wasEnabled: wasEnabled)
        case CSR.mcountinhibit:
            let old = s.pointee.mcountinhibit
            let new = v & 0xFFFF_FFFD
            if old & 1 == 0 && new & 1 != 0 { frozenCycle = mcycleValue }
            if old & 1 != 0 && new & 1 == 0 { s.pointee.mcycleOffset = frozenCycle &- s.pointee.cycles }
            if old & 4 == 0 && new & 4 != 0 { frozenInstret = minstretValue }
            if old & 4 != 0 && new & 4 == 0 { s.pointee.minstretOffset = frozenInstret &- s.pointee.instret }
            s.pointee.mcountinhibit = new
        case CSR.mscratch: s.pointee.mscratch = v
        case CSR.mepc: s.pointee.mepc = v & ~1
        case CSR.mcause: s.pointee.mcause = v
        case CSR.mtval: s.pointee.mtval = v
        case CSR.mip:
            // With the hypervisor extension, mip.VSSIP is hvip's (VSTIP and VSEIP are read-only here);
            // with Sstc enabled, STIP is the comparator's.
            var writable = hasHypervisor ? Irq.mipWritable | Irq.vssi : Irq.mipWritable
            if supervisorTimerCompareEnabled { writable &= ~Irq.sti }
            s.pointee.mipSoft = (s.pointee.mipSoft & ~writable) | (v & writable)
            s.pointee.exitSlice = .checkInterrupts
        case CSR.pmpcfg0...CSR.pmpcfg15:
            let k = Int(n - CSR.pmpcfg0)
            guard k & 1 == 0 else { return false }
            pmp.writeCfg(k, v)
            flushSoftTLB()
        case CSR.pmpaddr0...CSR.pmpaddr63:
            pmp.writeAddr(Int(n - CSR.pmpaddr0), v)
            flushSoftTLB()
        case CSR.tselect...CSR.tinfo: return writeTriggerCSR(n, v)
        default: return hypervisorCSRWrite(n, v)
        }
        return true
    }

    /// mtvec/stvec: MODE 0 (direct) and 1 (vectored) exist; a reserved MODE keeps the old MODE.
    func legalTvec(_ v: UInt64, old: UInt64) -> UInt64 {
        let mode = v & 3
        return (v & ~3) | (mode < 2 ? mode : old & 3)
    }

    func writeMstatus(_ v: UInt64) {
        let s = state
        let writable = hasHypervisor ? Mstatus.writable | Mstatus.mpv | Mstatus.gva : Mstatus.writable
        var new = (s.pointee.mstatus & ~writable) | (v & writable)
        // MPP is WARL over {U, S, M}: the reserved value 2 keeps the old field.
        if (new >> Mstatus.mppShift) & 3 == 2 {
            new = (new & ~Mstatus.mpp) | (s.pointee.mstatus & Mstatus.mpp)
        }
        let old = s.pointee.mstatus
        s.pointee.mstatus = new | Mstatus.uxlSxl
        let translationBits = Mstatus.mprv | Mstatus.sum | Mstatus.mxr | Mstatus.mpp | Mstatus.mpv
        if (old ^ new) & translationBits != 0 { flushSoftTLB() }
        privilegeChanged()
    }

    /// satp (privileged spec, "Supervisor Address Translation and Protection Register"): a write
    /// with an unsupported MODE has no effect at all; ASID bits beyond ASIDLEN read as zero.
    func writeSatp(_ v: UInt64) {
        guard let new = legalSatp(v) else { return }
        foldCounters()
        state.pointee.satp = new
        if !tlb.tagged {
            // Like an x86 CR3 load: an untagged TLB cannot keep entries across spaces, except
            // global ones where it keeps them (CR4.PGE): for an untagged TLB an ASID flush is
            // exactly that, every non-global entry.
            if tlb.keepsGlobal { tlb.flush(vaddr: nil, asid: 0) } else { tlb.flushAll() }
            countSwitchFlush()
        }
        flushSoftTLB()
    }

    /// What a satp-like register (satp, vsatp) holds after a write of `v`, or nil when its MODE
    /// is not supported and the write has no effect; ASID bits beyond ASIDLEN read as zero.
    func legalSatp(_ v: UInt64) -> UInt64? {
        SatpWARL.legal(v, asidBits: config.asidBits, widestLevels: config.widestTranslationLevels)
    }

    /// Counts and charges the flush an untagged TLB makes when the address space changes.
    func countSwitchFlush() {
        tlb.counters.satpFlushes &+= 1
        state.pointee.cycles &+= state.pointee.costs.tlbFlush
    }

    func markFPDirty() {
        state.pointee.mstatus |= Mstatus.fs
        // With V=1 both mstatus.FS and vsstatus.FS become Dirty.
        if state.pointee.virt { state.pointee.hyper.vsstatus |= Mstatus.fs }
    }
}
