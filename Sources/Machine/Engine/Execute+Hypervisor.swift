import RISCV

// The hypervisor extension's instructions (privileged spec, "Hypervisor Instructions"): the
// virtual-machine loads and stores (HLV, HLVX, HSV), which HS-mode (or U-mode with hstatus.HU)
// uses to reach a guest's memory as the guest would, through both stages; and the fences
// HFENCE.VVMA (a guest's VS-stage translations) and HFENCE.GVMA (its G-stage ones). Also
// the TLB fence shared with SFENCE.VMA. In a hart without the extension all are illegal.

extension Hart {
    @inline(never)
    func executeHypervisor(_ op: DecodedOp) -> Flow {
        guard hasHypervisor else { return illegal(op) }
        switch op.opcode {
        case .hfence_vvma, .hfence_gvma:
            return executeSystem(op)
        default:
            return executeVirtualMachineAccess(op)
        }
    }

    /// HFENCE.VVMA and HFENCE.GVMA: M- and HS-mode only (GVMA not under mstatus.TVM); from VS-
    /// or VU-mode a virtual-instruction exception.
    func executeHypervisorFence(_ op: DecodedOp, next: UInt64) -> Flow {
        let s = state
        let priv = s.pointee.priv
        if s.pointee.virt { return virtualInstruction(op) }
        guard hasHypervisor, priv == 3 || priv == 1 else { return illegal(op) }
        if op.opcode == .hfence_vvma { return fence(op, space: .guest(guestSpace), next: next) }
        if priv == 1 && s.pointee.mstatus & Mstatus.tvm != 0 { return illegal(op) }
        // A guest's entries hold its combined translation, not the guest physical address a
        // G-stage fence names (rs1 = GPA >> 2): every entry of the VMID goes, which the spec
        // allows (a fence may invalidate more than it must).
        let vmid = op.rs2 == 0 ? nil : UInt16(truncatingIfNeeded: s.pointee.regs[Int(op.rs2)] & ((1 << vmidBits) - 1))
        tlb.counters.fullFlushes &+= 1
        s.pointee.cycles &+= s.pointee.costs.tlbFlush
        let space: TLBSpace = vmid.map { .guest(0x8000 | $0) } ?? .allGuests
        flushTLB(vaddr: nil, asid: nil, space: space)
        tlb.flushNested(space)
        s.pointee.pc = next
        if observes(.tlbFlush) { machine.deliver(.tlbFlush(hart: id, va: nil, asid: nil), hart: id) }
        return .exit
    }

    /// SFENCE.VMA (in `space`: the host's translations from HS-mode, the current VMID's from
    /// VS-mode) and HFENCE.VVMA: rs1 the address or x0 for all, rs2 the ASID or x0 for all.
    func fence(_ op: DecodedOp, space: TLBSpace, next: UInt64) -> Flow {
        let s = state
        let x = s.pointee.regs
        let va: UInt64? = op.rs1 == 0 ? nil : x[Int(op.rs1)]
        let asid: UInt16? = op.rs2 == 0 ? nil : UInt16(truncatingIfNeeded: x[Int(op.rs2)] & ((1 << UInt64(config.asidBits)) - 1))
        switch (va, asid) {
        case (nil, nil): tlb.counters.fullFlushes &+= 1
        case (nil, _): tlb.counters.asidFlushes &+= 1
        default: tlb.counters.addressFlushes &+= 1
        }
        s.pointee.cycles &+= s.pointee.costs.tlbFlush
        flushTLB(vaddr: va, asid: asid, space: space)
        s.pointee.pc = next
        if observes(.tlbFlush) { machine.deliver(.tlbFlush(hart: id, va: va, asid: asid), hart: id) }
        return .exit
    }

    /// HLV, HLVX and HSV: an explicit access as though V=1 at privilege hstatus.SPVP (MPRV does
    /// not apply), checked and translated in both stages. HLVX needs execute permission instead
    /// of read. Legal in M- and HS-mode, and in U-mode when hstatus.HU is set; a virtual-
    /// instruction exception from VS- or VU-mode. Misaligned ones raise the misaligned exception
    /// (the spec allows it: they are not handled in hardware here). Faults report a guest
    /// virtual address (GVA).
    private func executeVirtualMachineAccess(_ op: DecodedOp) -> Flow {
        let s = state
        let x = s.pointee.regs
        let priv = s.pointee.priv
        if s.pointee.virt { return virtualInstruction(op) }
        if priv == 0 && s.pointee.hyper.hstatus & Hstatus.hu == 0 { return illegal(op) }
        let (size, signed, isStore, execute): (UInt64, Bool, Bool, Bool)
        switch op.opcode {
        case .hlv_b: (size, signed, isStore, execute) = (1, true, false, false)
        case .hlv_bu: (size, signed, isStore, execute) = (1, false, false, false)
        case .hlv_h: (size, signed, isStore, execute) = (2, true, false, false)
        case .hlv_hu: (size, signed, isStore, execute) = (2, false, false, false)
        case .hlvx_hu: (size, signed, isStore, execute) = (2, false, false, true)
        case .hlv_w: (size, signed, isStore, execute) = (4, true, false, false)
        case .hlv_wu: (size, signed, isStore, execute) = (4, false, false, false)
        case .hlvx_wu: (size, signed, isStore, execute) = (4, false, false, true)
        case .hlv_d: (size, signed, isStore, execute) = (8, false, false, false)
        case .hsv_b: (size, signed, isStore, execute) = (1, false, true, false)
        case .hsv_h: (size, signed, isStore, execute) = (2, false, true, false)
        case .hsv_w: (size, signed, isStore, execute) = (4, false, true, false)
        default: (size, signed, isStore, execute) = (8, false, true, false)
        }
        let type: AccessType = isStore ? .store : .load
        let va = x[Int(op.rs1)]
        let guestPriv: UInt8 = s.pointee.hyper.hstatus & Hstatus.spvp != 0 ? 1 : 0
        guard va & (size - 1) == 0 else {
            trapExtras.guestVirtual = true
            raise(type.misaligned, tval: va)
            return .trapped
        }
        guard let pa = translateGuest(va, type, priv: guestPriv, permission: execute ? .fetch : type) else {
            return .trapped
        }
        guard pmp.check(pa, size: size, type: type, priv: guestPriv) else {
            trapExtras.guestVirtual = true
            raise(type.accessFault, tval: va)
            return .trapped
        }
        let inMemory = inRAM(pa, count: size) && (!hasMMIO(pa) || bus.region(pa, size: size) == nil)
        if isStore {
            let value = x[Int(op.rs2)]
            if inMemory {
                Hart.storeRAM(host(pa), size: size, value)
                noteWrite(pa, count: size)
                if s.pointee.watching && mayWatch(pa, count: size, isWrite: true) {
                    machine.checkWatchpoints(pa, count: size, isWrite: true, hart: self)
                }
            } else if !machine.mmioWrite(pa, size: size, value: value, hart: self) {
                trapExtras.guestVirtual = true
                raise(.storeAccessFault, tval: va)
                return .trapped
            }
        } else {
            var v: UInt64
            if inMemory {
                v = Hart.loadRAM(host(pa), size: size)
                if s.pointee.watching && mayWatch(pa, count: size, isWrite: false) {
                    machine.checkWatchpoints(pa, count: size, isWrite: false, hart: self)
                }
            } else if let read = machine.mmioRead(pa, size: size, hart: self) {
                v = read
            } else {
                trapExtras.guestVirtual = true
                raise(.loadAccessFault, tval: va)
                return .trapped
            }
            if signed && size < 8 {
                let shift = 64 - 8 * size
                v = UInt64(bitPattern: Int64(bitPattern: v << shift) >> Int64(shift))
            }
            x[Int(op.rd)] = v
            x[0] = 0
        }
        s.pointee.pc = s.pointee.pc &+ UInt64(op.length)
        return s.pointee.exitSlice != .none ? .exit : .next
    }
}
