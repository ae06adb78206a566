// Virtual-address translation (privileged spec, "Virtual-Address Translation Process", Sv39/Sv48/
// Sv57): canonical-address check, TLB lookup, and the page walk on a miss, with PMP checks on every
// PTE reference, superpage alignment, permission rules (SUM, MXR, U) and A/D handling per
// `ADBitPolicy`. A fault raises the exception and returns nil.

import RISCV

extension AccessType {
    /// The guest-page fault of this access type (hypervisor extension: the G stage refused).
    var guestPageFault: ExceptionCause {
        switch self {
        case .load: .loadGuestPageFault
        case .store: .storeGuestPageFault
        case .fetch: .instructionGuestPageFault
        }
    }
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
        return Hart.permits(flags, type, priv: priv, sum: ms & Mstatus.sum != 0, mxr: ms & Mstatus.mxr != 0)
    }

    /// The leaf permission rule with SUM and MXR given: U pages are for U-mode, and for S-mode
    /// loads and stores with SUM; MXR makes executable pages readable.
    @inline(__always)
    static func permits(_ flags: UInt64, _ type: AccessType, priv: UInt8, sum: Bool, mxr: Bool) -> Bool {
        if flags & PTE.u != 0 {
            // S-mode never executes user pages, and reads/writes them only with SUM.
            if priv == 1 && (type == .fetch || !sum) { return false }
        } else if priv == 0 {
            return false
        }
        switch type {
        case .fetch: return flags & PTE.x != 0
        case .load: return flags & PTE.r != 0 || (mxr && flags & PTE.x != 0)
        case .store: return flags & PTE.w != 0
        }
    }

    /// Translates `va` for an access of `type` at effective privilege `priv`. Returns the physical
    /// address, or nil after raising the fault.
    func translate(_ va: UInt64, _ type: AccessType, priv: UInt8) -> UInt64? {
        if type == .fetch ? state.pointee.virt : state.pointee.dataVirt {
            return translateGuest(va, type, priv: priv)
        }
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
    func countHit(_ type: AccessType) {
        switch type {
        case .load: tlb.counters.loadHits &+= 1
        case .store: tlb.counters.storeHits &+= 1
        case .fetch: tlb.counters.fetchHits &+= 1
        }
    }

    @inline(__always)
    func countMiss(_ type: AccessType) {
        switch type {
        case .load: tlb.counters.loadMisses &+= 1
        case .store: tlb.counters.storeMisses &+= 1
        case .fetch: tlb.counters.fetchMisses &+= 1
        }
        state.pointee.cycles &+= state.pointee.costs.tlbMiss
    }

    /// The hardware walk on a TLB miss: `walkTables` with its references counted and charged, the
    /// A/D update written back, and the result installed in the TLB. Raises the fault and returns
    /// nil on failure.
    private func walk(_ va: UInt64, _ type: AccessType, priv: UInt8, levels: Int, asid: UInt16) -> UInt64? {
        let s = state
        var counter = WalkCounter(walkCost: s.pointee.costs.walkReference)
        let root = (s.pointee.satp & ((1 << 44) - 1)) << 12
        let found = walkTables(va, type, priv: priv, levels: levels, root: root, visitor: &counter)
        var pte = found.pte
        if found.fault == nil && found.setBits != 0 {
            pte |= found.setBits
            writeBack(pte, at: found.pteAddress, level: found.level, visitor: &counter)
        }
        tlb.counters.walkReferences &+= UInt64(counter.references)
        s.pointee.cycles &+= counter.cycles
        // The walk is reported before the fault it may raise, in the order the hardware did them.
        if observes(.pageWalk) {
            machine.deliver(.pageWalk(hart: id, va: va, references: counter.references, asid: asid,
                                      faulted: found.fault != nil), hart: id)
        }
        if let cause = found.fault {
            raise(cause, tval: va)
            return nil
        }
        let level = found.level
        let ppn = (pte >> 10) & ((1 << 44) - 1)
        let pageBits = 12 + 9 * UInt64(level)
        let virtualBase = va & ~((1 << pageBits) - 1)
        let physicalBase = (ppn << 12) & ~((1 << pageBits) - 1)
        let entry = ArchTLBEntry(valid: true, tag: va >> pageBits, level: UInt8(level),
                                 global: found.global, asid: asid, flags: UInt8(truncatingIfNeeded: pte),
                                 physical: physicalBase, virtual: virtualBase)
        if let victim = tlb.insert(entry) { dropSoft(for: victim) }
        lastTranslationLevel = level
        return physicalBase | (va & ((1 << pageBits) - 1))
    }

    /// One walk of the page tables rooted at `root` for an access of `type` at privilege `priv`
    /// (privileged spec, "Virtual-Address Translation Process", steps 2-8), with no side effects:
    /// it reads PTEs from RAM and reports each read to `visitor`; it never writes memory, counts,
    /// charges or traps. The hardware walk and the tools (`Machine.translate`, `Machine.pageWalk`)
    /// share it, so they agree by construction.
    @inline(__always)
    func walkTables<V: WalkVisitor>(_ va: UInt64, _ type: AccessType, priv: UInt8, levels: Int, root: UInt64,
                                    rootIndexMask: UInt64 = 0x1FF, visitor: inout V) -> WalkResult {
        var table = root
        var level = levels - 1
        // A G bit in a non-leaf PTE makes every mapping below it global.
        var global = false
        var out = WalkResult()
        while true {
            let shift = UInt64(12 + 9 * level)
            // The G stage's root table is four times as large (privileged spec, "Guest Physical
            // Address Translation"): its index has two more bits.
            let indexMask: UInt64 = level == levels - 1 ? rootIndexMask : 0x1FF
            let pteAddress = table &+ ((va >> shift) & indexMask) &* 8
            guard pteReadable(pteAddress) else {
                visitor.reference(level: level, pteAddress: pteAddress, pte: nil)
                out.fault = type.accessFault
                return out
            }
            let pte = host(pteAddress).load(as: UInt64.self)
            visitor.reference(level: level, pteAddress: pteAddress, pte: pte)
            out.pte = pte
            out.pteAddress = pteAddress
            out.level = level
            if PTE.isInvalid(pte) {
                out.fault = type.pageFault
                return out
            }
            global = global || pte & PTE.g != 0
            if !PTE.isLeaf(pte) {
                if PTE.isBadPointer(pte, level: level) {
                    out.fault = type.pageFault
                    return out
                }
                table = ((pte >> 10) & ((1 << 44) - 1)) << 12
                level -= 1
                continue
            }
            // A leaf.
            out.global = global
            if !permits(pte, type, priv: priv) {
                out.fault = type.pageFault
                return out
            }
            if PTE.isMisalignedSuperpage(pte, level: level) {
                out.fault = type.pageFault
                return out
            }
            let need = PTE.accessedDirty(for: type)
            if pte & need != need {
                if config.adBits == .pageFault {
                    out.fault = type.pageFault
                    return out
                }
                // The A/D update writes the PTE, so it must pass PMP as a write.
                guard pmp.check(pteAddress, size: 8, type: .store, priv: 1) else {
                    out.fault = type.accessFault
                    return out
                }
                out.setBits = need
            }
            return out
        }
    }
}

extension Hart {
    /// Writes back a leaf whose A/D bits a hardware walk set (checked as a write already): a
    /// write of the entry, reported to `visitor` as one more reference.
    @inline(__always)
    func writeBack<V: WalkVisitor>(_ pte: UInt64, at address: UInt64, level: Int, visitor: inout V) {
        host(address).storeBytes(of: pte, as: UInt64.self)
        noteWrite(address, count: 8)
        visitor.reference(level: level, pteAddress: address, pte: pte)
    }

    /// Whether the walk may read the 8-byte entry at physical `address`: PTE reads are implicit
    /// S-mode accesses for PMP, and must be RAM (PMA).
    @inline(__always)
    func pteReadable(_ address: UInt64) -> Bool {
        pmp.check(address, size: 8, type: .load, priv: 1) && inRAM(address, count: 8) && !hasMMIO(address)
    }
}

/// What `walkTables` found: the last PTE read and where, its level, and either a fault or the A/D
/// bits a hardware walk must set before using the leaf.
struct WalkResult {
    var fault: ExceptionCause? = nil
    var pte: UInt64 = 0
    var pteAddress: UInt64 = 0
    var level = 0
    var global = false
    var setBits: UInt64 = 0
}

/// Sees each PTE reference of a walk (`pte` nil when the reference itself failed PMP/PMA checks).
/// Generic, so the hardware walk's visitor is specialised and costs no existential call.
protocol WalkVisitor {
    mutating func reference(level: Int, pteAddress: UInt64, pte: UInt64?)
    /// A VS-stage PTE of a two-stage walk, at its guest physical address (after the references
    /// of the G-stage walk that found it, and its own).
    mutating func guestReference(level: Int, guestPhysical: UInt64, pte: UInt64)
}

extension WalkVisitor {
    @inline(__always)
    mutating func guestReference(level: Int, guestPhysical: UInt64, pte: UInt64) {}
}

/// The hardware walk's visitor: counts references and their modelled cycles.
struct WalkCounter: WalkVisitor {
    let walkCost: UInt64
    var references = 0
    var cycles: UInt64 = 0

    @inline(__always)
    mutating func reference(level: Int, pteAddress: UInt64, pte: UInt64?) {
        references += 1
        cycles &+= walkCost
    }
}
