// Two-stage address translation while V=1 (privileged spec, "Two-Stage Address Translation"): the
// VS stage (vsatp) takes a guest virtual address to a guest physical one, the G stage (hgatp,
// Sv39x4/Sv48x4/Sv57x4) takes that to a host physical address. Every VS-stage PTE is itself at a
// guest physical address, so each of its reads goes through the G stage first: the "2-D walk",
// up to (n+1)(m+1)-1 references for n VS levels and m G levels. A refusal by the G stage is a
// guest-page fault, reported with the guest physical address (htval/mtval2) and, for the VS
// walk's own accesses, a pseudo-instruction (htinst/mtinst). The TLB keeps the combined
// translation, tagged with the VMID and the VS-stage ASID. A nested TLB, when configured, keeps G-stage
// translations themselves, so a walk's G walks that hit it read nothing ([B08]'s NTLB).

import RISCV

/// What a G-stage translation found.
struct GStageResult {
    var address: UInt64 = 0
    /// The leaf's level (4 when the G stage is Bare: no limit on the combined page's size).
    var level = 4
    /// The leaf's low PTE bits (all set when Bare).
    var flags: UInt64 = 0xFF
    /// Why it failed: a guest-page fault (`pageFault`) or an access fault on a PTE read.
    var fault: GStageFault? = nil
}

enum GStageFault {
    case pageFault, accessFault
}

/// What a two-stage walk found.
struct TwoStageResult {
    var physical: UInt64 = 0
    var level = 0
    /// The VS-stage leaf's low bits (0 when the VS stage is Bare) and the G-stage leaf's.
    var flags: UInt64 = 0
    var guestFlags: UInt64 = 0
    var fault: ExceptionCause? = nil
    /// For a guest-page fault: the guest physical address that faulted, and whether it was an
    /// implicit access of the VS-stage walk (a read, or a write setting A/D).
    var guestPhysical: UInt64 = 0
    var implicit = false
    var implicitWrite = false
}

extension Hart {
    /// Levels of a translation MODE field (Sv39/Sv48/Sv57 or their x4 forms), 0 for Bare.
    @inline(__always)
    static func levels(mode: UInt64) -> Int {
        switch mode {
        case 8: 3
        case 9: 4
        case 10: 5
        default: 0
        }
    }

    /// The G stage: guest physical `gpa` to host physical for an access of `type` (privileged
    /// spec, "Guest Physical Address Translation"). Every G-stage access is checked as a U-mode
    /// one (leaves need U), with HS-level MXR; the root table has 2048 entries; bits above the
    /// guest physical width must be zero. A/D updates are written when `commit` (the hardware
    /// walk), not for the tools.
    func gStage<V: WalkVisitor>(_ gpa: UInt64, _ type: AccessType, commit: Bool, visitor: inout V) -> GStageResult {
        let hgatp = state.pointee.hyper.hgatp
        let levels = Hart.levels(mode: hgatp >> 60)
        if levels == 0 { return GStageResult(address: gpa) }
        guard gpa >> UInt64(12 + 9 * levels + 2) == 0 else { return GStageResult(fault: .pageFault) }
        // The nested TLB serves the hardware's walks (a tool's walk shows every reference). An
        // entry that does not grant the access (or lacks its A/D bits) is walked again, which
        // faults or updates as the tables say.
        let cached = commit && tlb.nestedCount > 0
        if cached {
            if let e = tlb.nestedLookup(gpa, space: guestSpace), nestedEntryGrants(UInt64(e.flags), type) {
                tlb.counters.nestedHits &+= 1
                let mask: UInt64 = (1 << (12 + 9 * UInt64(e.level))) - 1
                return GStageResult(address: e.base | (gpa & mask), level: Int(e.level), flags: UInt64(e.flags))
            }
            tlb.counters.nestedMisses &+= 1
        }
        let root = (hgatp & hgatpPPNMask) << 12
        let found = walkTables(gpa, type, priv: 0, levels: levels, root: root, rootIndexMask: 0x7FF, visitor: &visitor)
        if let cause = found.fault {
            return GStageResult(fault: cause == type.accessFault ? .accessFault : .pageFault)
        }
        var pte = found.pte
        if found.setBits != 0 {
            pte |= found.setBits
            if commit { writeBack(pte, at: found.pteAddress, level: found.level, visitor: &visitor) }
        }
        let pageBits = 12 + 9 * UInt64(found.level)
        let offsetMask: UInt64 = (1 << pageBits) - 1
        let ppn: UInt64 = (pte >> 10) & ((1 << 44) - 1)
        let base: UInt64 = (ppn << 12) & ~offsetMask
        if cached {
            tlb.nestedInsert(NestedTLBEntry(valid: true, space: guestSpace, level: UInt8(found.level),
                                            tag: gpa >> pageBits, base: base, flags: UInt8(truncatingIfNeeded: pte)))
        }
        return GStageResult(address: base | (gpa & offsetMask), level: found.level, flags: pte & 0xFF)
    }

    /// Whether a nested TLB entry's G leaf grants an access of `type` as the G walk would check
    /// it (a U-mode access, HS-level MXR) with its A (and for a store D) bit already set.
    @inline(__always)
    private func nestedEntryGrants(_ flags: UInt64, _ type: AccessType) -> Bool {
        let need = PTE.accessedDirty(for: type)
        return flags & need == need && permits(flags, type, priv: 0)
    }

    /// Both stages for guest virtual `va`, an access of `type` at nominal privilege `priv`
    /// (VS = 1, VU = 0), whose permission is checked as `permission` (HLVX checks execute).
    /// No TLB, no charges; PTE references go to `visitor`.
    func twoStageWalk<V: WalkVisitor>(_ va: UInt64, _ type: AccessType, priv: UInt8, permission: AccessType,
                                      commit: Bool, visitor: inout V) -> TwoStageResult {
        let s = state
        var out = TwoStageResult()
        let vsatp = s.pointee.hyper.vsatp
        let levels = Hart.levels(mode: vsatp >> 60)
        var gpa = va
        var vsLevel = 4
        if levels != 0 {
            let vaBits = UInt64(12 + 9 * levels)
            guard UInt64(bitPattern: Int64(bitPattern: va << (64 - vaBits)) >> (64 - vaBits)) == va else {
                out.fault = type.pageFault
                return out
            }
            let vs = s.pointee.hyper.vsstatus
            let sum = vs & Mstatus.sum != 0
            // vsstatus.MXR reaches the VS stage only; HS-level MXR both.
            let mxr = (vs | s.pointee.mstatus) & Mstatus.mxr != 0
            var table = (vsatp & ((1 << 44) - 1)) << 12
            var level = levels - 1
            // The page-walk cache (TLB+WalkCache.swift) serves the hardware's walks: the deepest
            // table it knows for `va` replaces the levels above it, reads and G walks alike.
            let cachesWalks = commit && tlb.walkCacheCount > 0
            let root = vsatp & (0xF << 60 | ((1 << 44) - 1))
            if cachesWalks {
                if let known = tlb.walkCacheLookup(va, space: guestSpace, asid: guestASID, root: root, levels: levels) {
                    table = known.table
                    level = known.level
                    tlb.counters.walkCacheHits &+= 1
                } else {
                    tlb.counters.walkCacheMisses &+= 1
                }
            }
            while true {
                let pteGPA = table &+ ((va >> UInt64(12 + 9 * level)) & 0x1FF) &* 8
                // The PTE read is an implicit access: the G stage first, as a read.
                let g = gStage(pteGPA, .load, commit: commit, visitor: &visitor)
                if let f = g.fault { return implicitFault(f, type, gpa: pteGPA, write: false) }
                let pteAddress = g.address
                guard pteReadable(pteAddress) else {
                    visitor.reference(level: level, pteAddress: pteAddress, pte: nil)
                    out.fault = type.accessFault
                    return out
                }
                var pte = host(pteAddress).load(as: UInt64.self)
                visitor.reference(level: level, pteAddress: pteAddress, pte: pte)
                visitor.guestReference(level: level, guestPhysical: pteGPA, pte: pte)
                if PTE.isInvalid(pte) {
                    out.fault = type.pageFault
                    return out
                }
                let ppn = (pte >> 10) & ((1 << 44) - 1)
                if !PTE.isLeaf(pte) {
                    if PTE.isBadPointer(pte, level: level) {
                        out.fault = type.pageFault
                        return out
                    }
                    table = ppn << 12
                    level -= 1
                    if cachesWalks { tlb.walkCacheInsert(va, level: level, table: table, space: guestSpace, asid: guestASID, root: root) }
                    continue
                }
                guard Hart.permits(pte, permission, priv: priv, sum: sum, mxr: mxr),
                      !PTE.isMisalignedSuperpage(pte, level: level) else {
                    out.fault = type.pageFault
                    return out
                }
                let need = PTE.accessedDirty(for: type)
                if pte & need != need {
                    if config.adBits == .pageFault {
                        out.fault = type.pageFault
                        return out
                    }
                    // Setting A/D writes the PTE: the G stage must allow a write there.
                    let gw = gStage(pteGPA, .store, commit: commit, visitor: &visitor)
                    if let f = gw.fault { return implicitFault(f, type, gpa: pteGPA, write: true) }
                    guard pmp.check(gw.address, size: 8, type: .store, priv: 1) else {
                        out.fault = type.accessFault
                        return out
                    }
                    pte |= need
                    if commit { writeBack(pte, at: gw.address, level: level, visitor: &visitor) }
                }
                let pageBits = 12 + 9 * UInt64(level)
                gpa = ((ppn << 12) & ~((1 << pageBits) - 1)) | (va & ((1 << pageBits) - 1))
                out.flags = pte & 0xFF
                vsLevel = level
                break
            }
        }
        // The G stage for the access itself, with its own type (HLVX: execute).
        let g = gStage(gpa, permission, commit: commit, visitor: &visitor)
        if let f = g.fault {
            out.fault = f == .pageFault ? type.guestPageFault : type.accessFault
            out.guestPhysical = gpa
            return out
        }
        out.physical = g.address
        out.guestFlags = g.flags
        out.level = min(vsLevel, g.level)
        return out
    }

    /// A fault of the G stage on one of the VS walk's own accesses, reported for the original
    /// access type.
    private func implicitFault(_ f: GStageFault, _ type: AccessType, gpa: UInt64, write: Bool) -> TwoStageResult {
        var out = TwoStageResult()
        out.fault = f == .pageFault ? type.guestPageFault : type.accessFault
        out.guestPhysical = gpa
        out.implicit = true
        out.implicitWrite = write
        return out
    }

    /// Whether a guest's combined TLB entry allows `type` at nominal privilege `priv`: the VS
    /// leaf under vsstatus.SUM/MXR (or HS-level MXR), the G leaf as U-mode under HS-level MXR.
    @inline(__always)
    func guestPermits(_ e: ArchTLBEntry, _ type: AccessType, priv: UInt8) -> Bool {
        let ms = state.pointee.mstatus
        let vs = state.pointee.hyper.vsstatus
        let mxr = ms & Mstatus.mxr != 0
        if e.flags != 0 && !Hart.permits(UInt64(e.flags), type, priv: priv, sum: vs & Mstatus.sum != 0,
                                         mxr: mxr || vs & Mstatus.mxr != 0) { return false }
        return Hart.permits(UInt64(e.guestFlags), type, priv: 0, sum: false, mxr: mxr)
    }

    /// Translates guest virtual `va` with V=1 through the TLB (entries tagged with the VMID and
    /// the VS ASID), walking both stages on a miss. `permission` is `type` except for HLVX.
    /// Raises the fault (with GVA, htval/mtval2, htinst/mtinst) and returns nil on failure.
    func translateGuest(_ va: UInt64, _ type: AccessType, priv: UInt8, permission: AccessType? = nil) -> UInt64? {
        let s = state
        let space = guestSpace
        let asid = guestASID
        let checked = permission ?? type
        if let i = tlb.lookup(va, asid: asid, space: space) {
            let e = tlb.entries[i]
            let clean = type == .store && ((e.flags != 0 && UInt64(e.flags) & PTE.d == 0) || UInt64(e.guestFlags) & PTE.d == 0)
            // An entry made while the VS stage was Bare (flags 0) translates nothing once vsatp
            // turns paging on, even under the same ASID, and the reverse: the mode is part of the
            // tag, as a machine that never caches Bare translations behaves (Linux relies on its
            // first fetch after enabling paging to fault).
            let sameMode = (e.flags == 0) == (s.pointee.hyper.vsatp >> 60 == 0)
            if sameMode && guestPermits(e, checked, priv: priv) && !clean {
                countHit(type)
                lastTranslationLevel = Int(e.level)
                return e.physical | (va & ((1 << (12 + 9 * UInt64(e.level))) - 1))
            }
            // A refusal, a store through a clean entry, or another VS mode: walk again. Which
            // stage refuses (and the guest physical address a guest-page fault reports) is the
            // walk's to find.
            tlb.invalidate(i)
            dropSoft(for: e)
        }
        countMiss(type)
        var counter = WalkCounter(walkCost: s.pointee.costs.walkReference)
        let found = twoStageWalk(va, type, priv: priv, permission: checked, commit: true, visitor: &counter)
        tlb.counters.walkReferences &+= UInt64(counter.references)
        s.pointee.cycles &+= counter.cycles
        if observes(.pageWalk) {
            machine.deliver(.pageWalk(hart: id, va: va, references: counter.references, asid: asid,
                                      faulted: found.fault != nil), hart: id)
        }
        if let cause = found.fault {
            trapExtras.guestVirtual = true
            if cause == type.guestPageFault {
                trapExtras.guestPhysical = found.guestPhysical >> 2
                // 64-bit read or write for VS-stage translation (privileged spec, "Trap
                // Instruction Registers", pseudo-instructions).
                trapExtras.instruction = found.implicit ? (found.implicitWrite ? 0x3020 : 0x3000) : 0
            }
            raise(cause, tval: va)
            return nil
        }
        let pageBits = 12 + 9 * UInt64(found.level)
        let virtualBase = va & ~((1 << pageBits) - 1)
        let physicalBase = found.physical & ~((1 << pageBits) - 1)
        let entry = ArchTLBEntry(valid: true, tag: va >> pageBits, level: UInt8(found.level), global: false,
                                 asid: asid, space: space, flags: UInt8(truncatingIfNeeded: found.flags),
                                 guestFlags: UInt8(truncatingIfNeeded: found.guestFlags),
                                 physical: physicalBase, virtual: virtualBase)
        if let victim = tlb.insert(entry) { dropSoft(for: victim) }
        lastTranslationLevel = found.level
        return found.physical
    }
}
