// The slow paths of memory access: translation, PMP and PMA checks, MMIO dispatch, misaligned
// accesses, and filling the soft TLB so that the next access to the page is a tag compare and an add.

extension Hart {
    @inline(__always)
    static func privIndex(_ priv: UInt8) -> Int { priv == 3 ? 2 : Int(priv) }

    /// Installs a soft TLB entry for the page of `va` → physical `pa`, if the whole page may take the
    /// fast path for this access type and privilege.
    private func installSoft(_ va: UInt64, _ pa: UInt64, _ type: AccessType, priv: UInt8) {
        let page = pa & ~0xFFF
        guard inRAM(page, count: 4096), !hasMMIO(page),
              pmp.pageAllowed(page, type: type, priv: priv) else { return }
        if type == .store {
            if isCode(page) || (reservedPageCount.pointee != 0 && machine.reservedPages.contains(page)) { return }
            if code.storesOffFastPath { return }
        }
        // A watched page leaves the fast path for the watched kind (fetches are never watched).
        if state.pointee.watching && type != .fetch && mayWatch(page, count: 1, isWrite: type == .store) {
            return
        }
        let idx = (Hart.privIndex(priv) * 3 + type.rawValue) * softTLBSize + Int((va >> 12) & UInt64(softTLBSize - 1))
        let vpage = va & ~0xFFF
        let host = UInt64(UInt(bitPattern: host(page)))
        state.pointee.soft[idx] = SoftTLBEntry(tag: vpage, addend: host &- vpage)
        state.pointee.softPhys[idx] = page
        noteSoftFill(idx)
    }

    /// Loads `size` bytes (1, 2, 4, 8) at virtual `va`, zero-extended; nil after raising a trap.
    @inline(never)
    func loadSlow(_ va: UInt64, size: UInt64) -> UInt64? {
        let priv = state.pointee.dataPriv
        if va & (size - 1) != 0 { return loadMisaligned(va, size: size, priv: priv) }
        guard let pa = translate(va, .load, priv: priv) else { return nil }
        guard pmp.check(pa, size: size, type: .load, priv: priv) else {
            raise(.loadAccessFault, tval: va)
            return nil
        }
        if inRAM(pa, count: size) && (!hasMMIO(pa) || bus.region(pa, size: size) == nil) {
            installSoft(va, pa, .load, priv: priv)
            let v = Hart.loadRAM(host(pa), size: size)
            if state.pointee.watching && mayWatch(pa, count: size, isWrite: false) {
                machine.checkWatchpoints(pa, count: size, isWrite: false, hart: self)
            }
            return v
        }
        guard let v = machine.mmioRead(pa, size: size, hart: self) else {
            raise(.loadAccessFault, tval: va)
            return nil
        }
        return v
    }

    @inline(__always)
    static func loadRAM(_ p: UnsafeMutableRawPointer, size: UInt64) -> UInt64 {
        switch size {
        case 1: UInt64(p.load(as: UInt8.self))
        case 2: UInt64(p.loadUnaligned(as: UInt16.self))
        case 4: UInt64(p.loadUnaligned(as: UInt32.self))
        default: p.loadUnaligned(as: UInt64.self)
        }
    }

    @inline(__always)
    static func storeRAM(_ p: UnsafeMutableRawPointer, size: UInt64, _ v: UInt64) {
        switch size {
        case 1: p.storeBytes(of: UInt8(truncatingIfNeeded: v), as: UInt8.self)
        case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: v), toByteOffset: 0, as: UInt16.self)
        case 4: p.storeBytes(of: UInt32(truncatingIfNeeded: v), toByteOffset: 0, as: UInt32.self)
        default: p.storeBytes(of: v, toByteOffset: 0, as: UInt64.self)
        }
    }

    /// Stores the low `size` bytes of `value` at virtual `va`; false after raising a trap.
    @inline(never)
    func storeSlow(_ va: UInt64, size: UInt64, value: UInt64) -> Bool {
        // A translator's guarded store calls out here, before the hart does anything about it.
        if code.translating, let done = guardedStoreCallout(va, size: size) { return done }
        let priv = state.pointee.dataPriv
        if va & (size - 1) != 0 { return storeMisaligned(va, size: size, value: value, priv: priv) }
        guard let pa = translate(va, .store, priv: priv) else { return false }
        guard pmp.check(pa, size: size, type: .store, priv: priv) else {
            raise(.storeAccessFault, tval: va)
            return false
        }
        if inRAM(pa, count: size) && (!hasMMIO(pa) || bus.region(pa, size: size) == nil) {
            Hart.storeRAM(host(pa), size: size, value)
            noteWrite(pa, count: size)
            installSoft(va, pa, .store, priv: priv)
            if state.pointee.watching && mayWatch(pa, count: size, isWrite: true) {
                machine.checkWatchpoints(pa, count: size, isWrite: true, hart: self)
            }
            return true
        }
        guard machine.mmioWrite(pa, size: size, value: value, hart: self) else {
            raise(.storeAccessFault, tval: va)
            return false
        }
        return true
    }

    // MARK: misaligned accesses (performed in hardware unless the policy traps)

    /// Physical addresses of each byte of a misaligned access, translating each page it touches
    /// once; nil after raising a trap. Misaligned accesses must be to RAM (MMIO regions do not
    /// support them), and every byte must pass PMP.
    private func misalignedBytes(_ va: UInt64, size: UInt64, _ type: AccessType, priv: UInt8) -> [UInt64]? {
        if config.misaligned == .trap {
            raise(type.misaligned, tval: va)
            return nil
        }
        guard let pa0 = translate(va, type, priv: priv) else { return nil }
        var pa1 = pa0
        let lastVA = va &+ size &- 1
        if lastVA & ~0xFFF != va & ~0xFFF {
            guard let p = translate(lastVA & ~0xFFF, type, priv: priv) else { return nil }
            pa1 = p
        }
        var out: [UInt64] = []
        out.reserveCapacity(Int(size))
        for k in 0..<size {
            let v = va &+ k
            let p = v & ~0xFFF == va & ~0xFFF ? pa0 &+ k : pa1 &+ (v & 0xFFF)
            guard pmp.check(p, size: 1, type: type, priv: priv), inRAM(p, count: 1),
                  !hasMMIO(p) || bus.region(p, size: 1) == nil else {
                raise(type.accessFault, tval: va)
                return nil
            }
            out.append(p)
        }
        return out
    }

    private func loadMisaligned(_ va: UInt64, size: UInt64, priv: UInt8) -> UInt64? {
        guard let bytes = misalignedBytes(va, size: size, .load, priv: priv) else { return nil }
        var v: UInt64 = 0
        for (k, p) in bytes.enumerated() {
            v |= UInt64(host(p).load(as: UInt8.self)) << (8 * UInt64(k))
        }
        for p in bytes where state.pointee.watching && mayWatch(p, count: 1, isWrite: false) {
            machine.checkWatchpoints(p, count: 1, isWrite: false, hart: self)
        }
        return v
    }

    private func storeMisaligned(_ va: UInt64, size: UInt64, value: UInt64, priv: UInt8) -> Bool {
        guard let bytes = misalignedBytes(va, size: size, .store, priv: priv) else { return false }
        for (k, p) in bytes.enumerated() {
            host(p).storeBytes(of: UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))), as: UInt8.self)
            noteWrite(p, count: 1)
        }
        for p in bytes where state.pointee.watching && mayWatch(p, count: 1, isWrite: true) {
            machine.checkWatchpoints(p, count: 1, isWrite: true, hart: self)
        }
        return true
    }

    // MARK: atomics (A extension): always aligned; RAM, or AMOs on a device that accepts them

    /// Translates and checks an AMO/LR/SC address; returns the physical address or nil after a trap.
    /// LR checks as a load; SC and AMOs as stores (and AMOs need read permission too). LR/SC need
    /// RAM; an AMO may also target a device that accepts atomics (`MMIODevice.acceptsAtomics`),
    /// which `isRAM` then tells the caller is not RAM.
    func atomicAddress(_ va: UInt64, size: UInt64, isLoadReserved: Bool, isStoreConditional: Bool = false,
                       isRAM: UnsafeMutablePointer<Bool>? = nil) -> UInt64? {
        let priv = state.pointee.dataPriv
        let type: AccessType = isLoadReserved ? .load : .store
        if va & (size - 1) != 0 {
            raise(type.misaligned, tval: va)
            return nil
        }
        guard let pa = translate(va, type, priv: priv) else { return nil }
        let readOK = pmp.check(pa, size: size, type: .load, priv: priv)
        let writeOK = isLoadReserved || pmp.check(pa, size: size, type: .store, priv: priv)
        let ram = inRAM(pa, count: size) && (!hasMMIO(pa) || bus.region(pa, size: size) == nil)
        let device = !ram && isRAM != nil && bus.region(pa, size: size)?.device.acceptsAtomics == true
        guard readOK, writeOK, ram || device else {
            raise(type.accessFault, tval: va)
            return nil
        }
        isRAM?.pointee = ram
        // The device access checks watchpoints itself (`Machine.mmioRead`/`mmioWrite`).
        if device { return pa }
        // The access now completes (its instruction cannot trap any more), so a watchpoint hit is
        // recorded here: LR reads, SC writes (or tries to), AMOs read and write.
        if state.pointee.watching {
            if !isStoreConditional && mayWatch(pa, count: size, isWrite: false) {
                machine.checkWatchpoints(pa, count: size, isWrite: false, hart: self)
            }
            if !isLoadReserved && mayWatch(pa, count: size, isWrite: true) {
                machine.checkWatchpoints(pa, count: size, isWrite: true, hart: self)
            }
        }
        return pa
    }

    // MARK: instruction fetch

    /// Outcome of pointing the fetch cache at a page.
    enum FetchRefill { case cached, trapped, uncached }

    /// Points the fetch cache at the decoded page holding `pc`, translating it. `.uncached` when
    /// PMP splits the page, so each fetch from it must be checked on its own. `.trapped` after a
    /// trap, and also, with no trap, when the slice must end before the instruction (a stop is
    /// pending, or an observer saw this fetch's page walk).
    @inline(never)
    func refillFetch(_ pc: UInt64) -> FetchRefill {
        let s = state
        // A stop is pending (requested between slices, or by an observer), or an observer's pc
        // waits: end the slice before this instruction, raising nothing; the run returns the
        // stop, or the next slice starts at the observer's pc (taken here, so that an engine that
        // goes on to its next slice without the run loop starts there too).
        if s.pointee.refillHold != 0 {
            if s.pointee.refillHold & holdRedirect != 0 { applyRedirect() }
            return .trapped
        }
        let priv = s.pointee.priv
        let vpage = pc & ~0xFFF
        let idx = (Hart.privIndex(priv) * 3 + AccessType.fetch.rawValue) * softTLBSize
            + Int((pc >> 12) & UInt64(softTLBSize - 1))
        if s.pointee.soft[idx].tag == vpage {
            s.pointee.fetchBase = vpage
            s.pointee.fetchOps = UnsafeMutablePointer(bitPattern: UInt(s.pointee.soft[idx].addend))!
            s.pointee.fetchPhys = s.pointee.softPhys[idx]
            return .cached
        }
        let missesBefore = tlb.counters.fetchMisses
        let delivered = s.pointee.eventsSeen
        guard let pa = translate(pc, .fetch, priv: priv) else { return .trapped }
        if s.pointee.eventsSeen != delivered {
            // An observer saw this fetch's page walk: end the slice before the instruction runs
            // (no trap is raised; the next slice refills from the TLB entry the walk made), so that
            // what the observer changed is seen. The miss was this fetch's; the engine will count
            // the fetch again when the instruction runs.
            // Not twice in a row at one pc, so an observer that flushes the TLB on every walk
            // cannot keep the hart from making progress.
            if s.pointee.fetchBailPC != pc {
                if tlb.counters.fetchMisses != missesBefore { fetchMissCompensation &+= 1 }
                s.pointee.fetchBailPC = pc
                return .trapped
            }
            s.pointee.fetchBailPC = .max
        }
        let page = pa & ~0xFFF
        guard inRAM(page, count: 4096), pmp.check(pa, size: 2, type: .fetch, priv: priv) else {
            raise(.instructionAccessFault, tval: pc)
            return .trapped
        }
        guard pmp.pageAllowed(page, type: .fetch, priv: priv) else { return .uncached }
        // The fetch that follows is counted by the engine as a hit; this lookup was a miss.
        if tlb.counters.fetchMisses != missesBefore { fetchMissCompensation &+= 1 }
        // The lookup that hit is the fetch's own lookup, which the engine counts again.
        else if fetchTranslated { tlb.counters.fetchHits &-= 1 }
        let (ops, isNew) = code.page(page)
        if isNew { machine.pageBecameCode(page) }
        s.pointee.fetchBase = vpage
        s.pointee.fetchOps = ops
        s.pointee.fetchPhys = page
        s.pointee.soft[idx] = SoftTLBEntry(tag: vpage, addend: UInt64(UInt(bitPattern: ops)))
        s.pointee.softPhys[idx] = page
        noteSoftFill(idx)
        return .cached
    }

    /// Reads a 16-bit parcel of instruction at virtual `va` with full checks, or nil after a trap.
    func fetchParcel(_ va: UInt64) -> UInt16? {
        let priv = state.pointee.priv
        guard let pa = translate(va, .fetch, priv: priv) else { return nil }
        guard inRAM(pa, count: 2), pmp.check(pa, size: 2, type: .fetch, priv: priv) else {
            raise(.instructionAccessFault, tval: va)
            return nil
        }
        return host(pa).loadUnaligned(as: UInt16.self)
    }
}
