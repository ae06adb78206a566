// Virtual-address translation (privileged spec, "Virtual-Address Translation Process", Sv39/Sv48/
// Sv57): canonical-address check, TLB lookup, and the page walk on a miss, with PMP checks on every
// PTE reference, superpage alignment, permission rules (SUM, MXR, U) and A/D handling per
// `ADBitPolicy`. A fault raises the exception and returns nil.

import RISCV

extension AccessType {
    var pageFault: ExceptionCause {
        switch self {
        case .load: .loadPageFault
        case .store: .storePageFault
        case .fetch: .instructionPageFault
        }
    }
    var accessFault: ExceptionCause {
        switch self {
        case .load: .loadAccessFault
        case .store: .storeAccessFault
        case .fetch: .instructionAccessFault
        }
    }
    var misaligned: ExceptionCause {
        switch self {
        case .load: .loadAddressMisaligned
        case .store: .storeAddressMisaligned
        case .fetch: .instructionAddressMisaligned
        }
    }
}

extension Hart {
    /// Whether a leaf with PTE `flags` permits `type` at privilege `priv` under the current
    /// mstatus.SUM and MXR.
    @inline(__always)
    func permits(_ flags: UInt64, _ type: AccessType, priv: UInt8) -> Bool {
        let ms = state.pointee.mstatus
        if flags & PTE.u != 0 {
            // S-mode never executes user pages, and reads/writes them only with SUM.
            if priv == 1 && (type == .fetch || ms & Mstatus.sum == 0) { return false }
        } else if priv == 0 {
            return false
        }
        switch type {
        case .fetch: return flags & PTE.x != 0
        case .load: return flags & PTE.r != 0 || (ms & Mstatus.mxr != 0 && flags & PTE.x != 0)
        case .store: return flags & PTE.w != 0
        }
    }

    /// Translates `va` for an access of `type` at effective privilege `priv`. Returns the physical
    /// address, or nil after raising the fault.
    func translate(_ va: UInt64, _ type: AccessType, priv: UInt8) -> UInt64? {
        let levels = translationLevels
        if levels == 0 || priv == 3 { lastTranslationLevel = 0; return va }
        let vaBits = UInt64(12 + 9 * levels)
        let canonical = UInt64(bitPattern: Int64(bitPattern: va << (64 - vaBits)) >> (64 - vaBits))
        guard canonical == va else {
            raise(type.pageFault, tval: va)
            return nil
        }
        let asid = self.asid
        if let i = tlb.lookup(va, asid: asid) {
            let e = tlb.entries[i]
            let flags = UInt64(e.flags)
            let size: UInt64 = 1 << (12 + 9 * UInt64(e.level))
            if !permits(flags, type, priv: priv) {
                countHit(type)
                raise(type.pageFault, tval: va)
                return nil
            }
            if type != .store || flags & PTE.d != 0 {
                countHit(type)
                lastTranslationLevel = Int(e.level)
                return e.physical | (va & (size - 1))
            }
            // A store through a clean entry: the walker must set D (or fault, under Svade).
            if config.adBits == .pageFault {
                countHit(type)
                raise(type.pageFault, tval: va)
                return nil
            }
            tlb.invalidate(i)
            dropSoft(for: e)
        }
        countMiss(type)
        return walk(va, type, priv: priv, levels: levels, asid: asid)
    }

    @inline(__always)
    private func countHit(_ type: AccessType) {
        switch type {
        case .load: tlb.counters.loadHits &+= 1
        case .store: tlb.counters.storeHits &+= 1
        case .fetch: tlb.counters.fetchHits &+= 1
        }
    }

    @inline(__always)
    private func countMiss(_ type: AccessType) {
        switch type {
        case .load: tlb.counters.loadMisses &+= 1
        case .store: tlb.counters.storeMisses &+= 1
        case .fetch: tlb.counters.fetchMisses &+= 1
        }
        state.pointee.cycles &+= state.pointee.costs.tlbMiss
    }

    private func walk(_ va: UInt64, _ type: AccessType, priv: UInt8, levels: Int, asid: UInt16) -> UInt64? {
        let s = state
        let walkCost = state.pointee.costs.walkReference
        var table = (s.pointee.satp & ((1 << 44) - 1)) << 12
        var level = levels - 1
        // A G bit in a non-leaf PTE makes every mapping below it global.
        var global = false
        while true {
            let shift = UInt64(12 + 9 * level)
            let pteAddress = table &+ ((va >> shift) & 0x1FF) &* 8
            tlb.counters.walkReferences &+= 1
            s.pointee.cycles &+= walkCost
            // PTE reads are implicit S-mode accesses for PMP, and must be RAM (PMA).
            guard pmp.check(pteAddress, size: 8, type: .load, priv: 1), inRAM(pteAddress, count: 8),
                  !hasMMIO(pteAddress) else {
                raise(type.accessFault, tval: va)
                return nil
            }
            var pte = host(pteAddress).load(as: UInt64.self)
            // V clear, the reserved W-without-R encoding, or reserved high bits (N, PBMT and bits 60:54
            // are not implemented) are page faults.
            if pte & PTE.v == 0 || (pte & PTE.r == 0 && pte & PTE.w != 0) || pte >> 54 != 0 {
                raise(type.pageFault, tval: va)
                return nil
            }
            let ppn = (pte >> 10) & ((1 << 44) - 1)
            global = global || pte & PTE.g != 0
            if pte & (PTE.r | PTE.x) == 0 {
                // A pointer to the next level: D, A and U are reserved in non-leaf PTEs.
                if pte & (PTE.d | PTE.a | PTE.u) != 0 || level == 0 {
                    raise(type.pageFault, tval: va)
                    return nil
                }
                table = ppn << 12
                level -= 1
                continue
            }
            // A leaf.
            if !permits(pte, type, priv: priv) {
                raise(type.pageFault, tval: va)
                return nil
            }
            let lowPPNMask: UInt64 = (1 << (9 * UInt64(level))) - 1
            if ppn & lowPPNMask != 0 {  // a misaligned superpage
                raise(type.pageFault, tval: va)
                return nil
            }
            let need = PTE.a | (type == .store ? PTE.d : 0)
            if pte & need != need {
                if config.adBits == .pageFault {
                    raise(type.pageFault, tval: va)
                    return nil
                }
                // The A/D update is a write of the PTE, checked like one, and counted as a reference.
                guard pmp.check(pteAddress, size: 8, type: .store, priv: 1) else {
                    raise(type.accessFault, tval: va)
                    return nil
                }
                pte |= need
                host(pteAddress).storeBytes(of: pte, as: UInt64.self)
                noteWrite(pteAddress, count: 8)
                tlb.counters.walkReferences &+= 1
                s.pointee.cycles &+= walkCost
            }
            let pageBits = 12 + 9 * UInt64(level)
            let virtualBase = va & ~((1 << pageBits) - 1)
            let physicalBase = (ppn << 12) & ~((1 << pageBits) - 1)
            let entry = ArchTLBEntry(valid: true, tag: va >> pageBits, level: UInt8(level),
                                     global: global, asid: asid, flags: UInt8(truncatingIfNeeded: pte),
                                     physical: physicalBase, virtual: virtualBase)
            if let victim = tlb.insert(entry) { dropSoft(for: victim) }
            lastTranslationLevel = level
            return physicalBase | (va & ((1 << pageBits) - 1))
        }
    }
}
