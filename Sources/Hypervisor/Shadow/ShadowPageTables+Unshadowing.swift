// Unshadowing after a write flood. A guest page stays write-protected for as long as some shadow
// table mirrors it, and shadows outlive the guest's use of its tables: the address spaces cached
// for reuse (`capacity`) keep mirroring the tables of a process that has exited. When the guest
// kernel frees such a table page and reuses it as ordinary memory, every store to it traps and is
// emulated as a traced write: zeroing the page is 512 of them, and a user program whose heap landed
// there pays one on each store (tinyos's `tlb` benchmark under trap ran its loop 13 times slower
// than natively, on one such page among 32).
//
// Shadow MMUs drop the shadow of a table that is written again and again without being used for
// translation in between (KVM's shadow MMU counts the writes to each shadow page and zaps it at
// three, its "write flooding" detection; VMware's and Xen's shadow pagers unshadow on similar
// heuristics). Here each shadow table page counts the traced writes to the guest page it mirrors;
// a shadow fault that walks through the page (the shadow in use) resets its count; at
// `unshadowAfter` the page is dropped with the subtree below it, and once no shadow mirrors the
// guest page it is no longer protected. Dropping a shadow page is always safe: shadows are a cache
// of the guest's tables, rebuilt by shadow faults, which protect the page again if the guest goes
// back to using it as a table.
//
// The roots of the address spaces harts run now are never dropped (the next instruction would
// rebuild them at once); a root of another cached address space takes that view with it.

extension ShadowPageTables {
    /// A shadow fault walks through shadow table page `table`: it is in use.
    @inline(__always)
    func markUsed(_ table: UInt64) {
        if let i = pool.index(of: table), pageInfo[i]?.floodCount != 0 { pageInfo[i]?.floodCount = 0 }
    }

    /// Counts a traced write to guest page `gpa` against each shadow page mirroring it, and drops
    /// those whose count reached `unshadowAfter`.
    func noteTracedWrite(guestPhysical gpa: UInt64) {
        guard unshadowAfter > 0 else { return }
        var flooded: [UInt64] = []
        for page in derived[gpa >> 12] {
            guard let i = pool.index(of: page), var info = pageInfo[i] else { continue }
            info.floodCount += 1
            if info.floodCount >= unshadowAfter {
                if info.parent == nil, let ctx = contexts[info.slot], isCurrent(ctx) {
                    info.floodCount = 0   // a root in use: kept
                } else {
                    flooded.append(page)
                }
            }
            pageInfo[i] = info
        }
        guard !flooded.isEmpty else { return }
        for page in flooded { unshadow(page) }
        flushHardwareTLB()
    }

    /// Drops shadow table page `page` and its subtree: the entry pointing at it is cleared, or,
    /// for the root of a view of a cached address space, the view is.
    private func unshadow(_ page: UInt64) {
        // An earlier page of the same flood may have taken this one with its subtree.
        guard let i = pool.index(of: page), let info = pageInfo[i] else { return }
        counters.unshadowed &+= 1
        if let parent = info.parent {
            words.write(parent, 0)
            freeTree(page)
        } else if let ctx = contexts[info.slot], let v = ShadowView.allCases.first(where: { ctx.roots[$0.rawValue] == page }) {
            drop(ctx, view: v)
        }
    }
}
