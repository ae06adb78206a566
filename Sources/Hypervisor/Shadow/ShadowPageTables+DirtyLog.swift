// The shadow pager's dirty log: which guest pages were written since the last look, as a VMM that
// shadows the guest's page tables finds them for pre-copy migration (KVM's shadow MMU, Xen's
// log-dirty mode): by write protection. Clearing the log takes write permission away from every
// shadow leaf (the leaves' writable mappings are listed for page-table protection already,
// `writableMappings`) and flushes the TLBs; a page clean since then is never mapped writable
// (`leafFlags`), so the guest's first store to it is a hidden fault, where the VMM notes the page
// written and maps it writable again. The VMM's own writes to guest memory — stores it emulates
// (traced writes), A/D bits it sets in the guest's tables, a device's DMA, a tool's write — reach
// the log as they are made.
//
// The cost is the guest's: a hidden fault per page per round, the shadow fault the hardware-
// assisted log (DirtyLog.swift, the G stage's D bits) does without. The harvest and the write
// protection are the migration thread's work, counted, not charged.

import Machine

/// What the shadow pager's dirty log has done (`vm:stats().technique.dirty_log`).
public struct ShadowDirtyLogCounters: Sendable, Equatable, Codable {
    /// Harvests (`dirtyPages`), and how many of them cleared the log.
    public var harvests: UInt64 = 0
    public var clears: UInt64 = 0
    /// Pages reported dirty, over all harvests.
    public var pagesReported: UInt64 = 0
    /// Writable shadow leaves made read-only by clears.
    public var leavesWriteProtected: UInt64 = 0
}

extension ShadowPageTables {
    /// The dirty log's counters under their snake_case names, for `vm:stats()`, with the log's
    /// own: `write_faults`, the hidden faults taken on the guest's first store to a page the log
    /// had clean, and `pages_written_by_vmm`, clean pages the VMM, a device's DMA or a tool wrote.
    public var dirtyLogStatistics: [String: UInt64] {
        ["harvests": dirtyLog.harvests, "clears": dirtyLog.clears, "pages_reported": dirtyLog.pagesReported,
         "leaves_write_protected": dirtyLog.leavesWriteProtected, "write_faults": writeLog.pagesWrittenByStores,
         "pages_written_by_vmm": writeLog.pagesWrittenOtherwise]
    }

    /// The guest-physical addresses of the pages written since the log was last cleared (at
    /// first: since the VM was built, so every page of RAM), in ascending order; with `clear`,
    /// the log starts again from here: every writable shadow leaf is made read-only and every
    /// hart's TLB flushed.
    public func dirtyPages(clear: Bool) -> [UInt64] {
        // The log spans the guest's RAM from its lowest page to its highest: a page between two
        // regions of RAM is none.
        let pages = writeLog.writtenPages.filter { map.machineAddress($0)?.isRAM == true }
        dirtyLog.harvests &+= 1
        dirtyLog.pagesReported &+= UInt64(pages.count)
        if clear {
            dirtyLog.clears &+= 1
            writeLog.markAllClean()
            // Only a page written since the last clear can have a writable leaf (a clean page is
            // never mapped writable), so those are the pages to visit.
            var withdrawn = 0
            for page in pages { withdrawn += withdrawWrite(frame: page) }
            dirtyLog.leavesWriteProtected &+= UInt64(withdrawn)
            // Translations cached writable would let stores go by unseen. The migration thread's
            // flush: not one of the guest's (`flushHardwareTLB`), and not charged to it.
            if withdrawn > 0 { withMachine { m in for h in 0..<m.hartCount { m.flushTLB(hart: h) } } }
        }
        return pages
    }

    /// The guest's store at guest-physical `gpa` is about to be given a writable shadow leaf: the
    /// page is written. Counted as the log's write fault when the page was clean.
    func noteGuestStore(guestPhysical gpa: UInt64) {
        writeLog.noteStore(gpa, count: 1)
    }
}
