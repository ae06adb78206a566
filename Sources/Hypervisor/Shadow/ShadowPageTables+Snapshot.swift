// The shadow pager's bookkeeping as a value, for snapshots of a VM under `trap` (Guest+Snapshot.swift).
// The shadow tables themselves are pages of the machine's hidden RAM, which the machine's snapshot
// keeps; this is what the VMM knows about them: the cached address spaces and their roots, what
// each pool page mirrors, which guest pages are write-protected, the free list, the LRU clock,
// the counters and the dirty log. With both back, the pager continues exactly where it was.

import Machine

extension ShadowPageTables {
    struct State: Codable {
        struct CachedContext: Codable {
            var key: ContextKey, slot: Int, roots: [UInt64?]
            @SortedSetCoding var pages: Set<UInt64>
            var lastUse: UInt64
        }
        var contexts: [CachedContext?]
        /// Per hart: the slot of the address space it runs.
        var currentSlots: [Int?]
        var hart: Int
        var pool: ShadowPool
        var pageInfo: [PageInfo?]
        var derived: GuestPageLists
        var protected: ProtectedPages
        var writableMappings: GuestPageLists
        var clock: UInt64
        var counters: ShadowCounters
        var sum: Bool, mxr: Bool
        var guestSATPs: [UInt64], view: ShadowView, machineSATPs: [UInt64]
        var flushesByHart: [UInt64]
        /// The dirty log: which pages are clean, and its counters. Absent from files written
        /// before there was a log: never cleared.
        var dirtyLogPages: RAMWriteLog.State?
        var dirtyLog: ShadowDirtyLogCounters?
    }

    func saveState() -> State {
        State(contexts: contexts.map { c in
                  c.map { State.CachedContext(key: $0.key, slot: $0.slot, roots: $0.roots, pages: $0.pages, lastUse: $0.lastUse) }
              },
              currentSlots: currents.map { $0?.slot }, hart: hart, pool: pool, pageInfo: pageInfo, derived: derived,
              protected: protected, writableMappings: writableMappings, clock: clock, counters: counters,
              sum: sum, mxr: mxr, guestSATPs: guestSATPs, view: view, machineSATPs: machineSATPs,
              flushesByHart: flushesByHart, dirtyLogPages: writeLog.state, dirtyLog: dirtyLog)
    }

    /// Whether `state` was saved by shadows of this size (cache capacity, pool, guest RAM).
    func fits(_ state: State) -> Bool {
        state.contexts.count == contexts.count && state.pageInfo.count == pageInfo.count
            && state.currentSlots.count == currents.count
            && state.pool.base == pool.base && state.pool.pages == pool.pages
            && state.protected.firstPage == protected.firstPage && state.protected.pageCount == protected.pageCount
            && state.derived.firstPage == derived.firstPage && state.derived.pageCount == derived.pageCount
            && state.writableMappings.firstPage == writableMappings.firstPage
            && state.writableMappings.pageCount == writableMappings.pageCount
            && state.pool.isWellFormed && state.protected.isWellFormed && state.derived.isWellFormed
            && state.writableMappings.isWellFormed
            && (state.dirtyLogPages.map(writeLog.fits) ?? true)
            && state.guestSATPs.count == guestSATPs.count && state.machineSATPs.count == machineSATPs.count
            && state.flushesByHart.count == flushesByHart.count && (0..<max(1, currents.count)).contains(state.hart)
            // Slots index the cache; a file's may point anywhere.
            && state.contexts.enumerated().allSatisfy { i, c in
                c.map { $0.slot == i && $0.roots.count == ShadowView.allCases.count && $0.key.isWellFormed } ?? true
            }
            && state.currentSlots.allSatisfy { slot in slot.map { state.contexts.indices.contains($0) && state.contexts[$0] != nil } ?? true }
            // A page's level is below its tree's root.
            && state.pageInfo.allSatisfy { info in
                info.map { state.contexts.indices.contains($0.slot)
                    && (0..<(state.contexts[$0.slot]?.key.levels ?? WalkedEntries.maxLevels)).contains($0.level) } ?? true
            }
    }

    /// Puts back a state for which `fits` holds. The machine's RAM (the shadow pages) and its
    /// TLB are restored with it by the machine's snapshot.
    func restoreState(_ state: State) {
        precondition(fits(state), "a shadow state of another size")
        contexts = state.contexts.map { saved in
            saved.map { s in
                let c = Context(key: s.key, slot: s.slot)
                c.roots = s.roots
                c.pages = s.pages
                c.lastUse = s.lastUse
                return c
            }
        }
        currents = state.currentSlots.map { slot in slot.flatMap { contexts[$0] } }
        hart = state.hart
        pool = state.pool
        pageInfo = state.pageInfo
        derived = state.derived
        protected = state.protected
        writableMappings = state.writableMappings
        clock = state.clock
        counters = state.counters
        sum = state.sum
        mxr = state.mxr
        guestSATPs = state.guestSATPs
        view = state.view
        machineSATPs = state.machineSATPs
        flushesByHart = state.flushesByHart
        writeLog.restore(state.dirtyLogPages
            ?? RAMWriteLog(base: writeLog.base, size: UInt64(writeLog.pageCount) << 12, clean: false).state)
        dirtyLog = state.dirtyLog ?? ShadowDirtyLogCounters()
    }
}
