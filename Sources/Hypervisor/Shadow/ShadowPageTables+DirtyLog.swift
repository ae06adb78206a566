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

/// Which guest pages were written since the log was last cleared: a bit per page of the VM's
/// RAM span, set while the page is clean. Shared by the shadows and their word access
/// (`MachineWords`), through which the guest walker writes A/D bits.
final class GuestWriteLog {
    let map: GuestPhysicalMap
    /// Set bits: pages not written since the last clear. Nil before the first clear: every page
    /// counts as written since the VM was built.
    var clean: ProtectedPages?
    var counters = ShadowDirtyLogCounters()

    init(map: GuestPhysicalMap) { self.map = map }

    /// Whether guest page `frame` has not been written since the last clear (and so must not be
    /// mapped writable).
    @inline(__always)
    func isClean(guestPhysical gpa: UInt64) -> Bool {
        clean?.contains(page: gpa >> 12) ?? false
    }

    /// `size` bytes at `gpa` were written by the VMM, a device or a tool.
    func noteWrite(guestPhysical gpa: UInt64, size: Int) {
        guard clean != nil, size > 0 else { return }
        var page = gpa >> 12
        while page <= (gpa &+ UInt64(size) &- 1) >> 12 {
            if markWritten(page: page) { counters.pagesWrittenByVMM &+= 1 }
            page &+= 1
        }
    }

    /// Clears page `page`'s clean bit; true if it was set.
    @discardableResult
    func markWritten(page: UInt64) -> Bool {
        guard clean?.contains(page: page) == true else { return false }
        clean?.set(page: page, false)
        return true
    }

    /// Every RAM page of the map, clean.
    func allClean() -> ProtectedPages {
        var bits = ProtectedPages(map: map)
        for r in map.regions where r.isRAM && r.size > 0 {
            for page in (r.guestBase >> 12)..<((r.guestBase &+ r.size &+ 0xFFF) >> 12) { bits.set(page: page, true) }
        }
        return bits
    }
}

/// What the shadow pager's dirty log has done (`vm:stats().technique.dirty_log`).
public struct ShadowDirtyLogCounters: Sendable, Equatable, Codable {
    /// Harvests (`dirtyPages`), and how many of them cleared the log.
    public var harvests: UInt64 = 0
    public var clears: UInt64 = 0
    /// Pages reported dirty, over all harvests.
    public var pagesReported: UInt64 = 0
    /// Writable shadow leaves made read-only by clears.
    public var leavesWriteProtected: UInt64 = 0
    /// Hidden faults taken on the guest's first store to a page the log had write-protected.
    public var writeFaults: UInt64 = 0
    /// Clean pages written by the VMM, a device's DMA or a tool, which no fault showed.
    public var pagesWrittenByVMM: UInt64 = 0

    public var dictionary: [String: UInt64] {
        ["harvests": harvests, "clears": clears, "pages_reported": pagesReported,
         "leaves_write_protected": leavesWriteProtected, "write_faults": writeFaults,
         "pages_written_by_vmm": pagesWrittenByVMM]
    }
}

extension ShadowPageTables {
    public var dirtyLogCounters: ShadowDirtyLogCounters { writeLog.counters }

    /// The guest-physical addresses of the pages written since the log was last cleared (at
    /// first: since the VM was built, so every page of RAM), in ascending order; with `clear`,
    /// the log starts again from here: every writable shadow leaf is made read-only and every
    /// hart's TLB flushed.
    public func dirtyPages(clear: Bool) -> [UInt64] {
        var pages: [UInt64] = []
        for r in map.regions where r.isRAM && r.size > 0 {
            for page in (r.guestBase >> 12)..<((r.guestBase &+ r.size &+ 0xFFF) >> 12) where !writeLog.isClean(guestPhysical: page << 12) {
                pages.append(page << 12)
            }
        }
        pages.sort()
        writeLog.counters.harvests &+= 1
        writeLog.counters.pagesReported &+= UInt64(pages.count)
        if clear {
            writeLog.counters.clears &+= 1
            writeLog.clean = writeLog.allClean()
            // Only a page written since the last clear can have a writable leaf (a clean page is
            // never mapped writable), so those are the pages to visit.
            var withdrawn = 0
            for page in pages { withdrawn += withdrawWrite(frame: page) }
            writeLog.counters.leavesWriteProtected &+= UInt64(withdrawn)
            // Translations cached writable would let stores go by unseen. The migration thread's
            // flush: not one of the guest's (`flushHardwareTLB`), and not charged to it.
            if withdrawn > 0 { withMachine { m in for h in 0..<m.hartCount { m.flushTLB(hart: h) } } }
        }
        return pages
    }

    /// The guest's store at guest-physical `gpa` is about to be given a writable shadow leaf: the
    /// page is written. Counted as the log's fault when the page was clean.
    func noteGuestStore(guestPhysical gpa: UInt64) {
        if writeLog.markWritten(page: gpa >> 12) { writeLog.counters.writeFaults &+= 1 }
    }
}
