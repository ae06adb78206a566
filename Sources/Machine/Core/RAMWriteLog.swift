// Which pages of memory were written since the log was last cleared: the dirty log a VMM keeps
// for pre-copy migration. The machine keeps one for an interpreting VMM (`Machine.writeLog`),
// as QEMU does under TCG, whose TLB marks clean pages "not dirty": the harts' soft TLBs keep no
// store entry for a clean page, so the first store to one takes the slow path, which notes the
// page written; its later stores are fast again. That needs no check where entries are made:
// only a store's slow path makes a store entry, after it noted the page, and making the log or
// clearing it drops every entry. Every other write to RAM — an AMO, a page walk's A/D update, a
// device's DMA, a tool's or a VMM's — passes through the machine's coherence calls
// (`Hart.noteWrite`, `invalidateWritten`), which note it too. The soft TLB is the host's cache,
// seen by neither the guest nor any count: the log costs host time only. A shadow pager keeps
// one over the guest's physical memory, noting the guest's stores as it takes their write faults.

/// A bit per page of a span of memory, set while the page is clean (not written since the log
/// was last cleared), and how many clean pages were written by the guest's stores and otherwise.
public final class RAMWriteLog {
    /// The first page's address and how many pages are covered.
    public let base: UInt64
    public let pageCount: Int
    private var clean: [UInt64]
    /// Clean pages written by the guest's harts (their first store, AMO or walk's A/D update to
    /// each), and by anything else (DMA, a tool, a VMM), since the log was made.
    public private(set) var pagesWrittenByStores: UInt64 = 0
    public private(set) var pagesWrittenOtherwise: UInt64 = 0

    /// A log over `size` bytes at `base`: every page clean, or with `clean` false every page
    /// written (a log that has not been cleared yet: everything since the memory was made).
    public init(base: UInt64, size: UInt64, clean allClean: Bool = true) {
        self.base = base
        pageCount = Int((size + 0xFFF) >> 12)
        clean = [UInt64](repeating: 0, count: (pageCount + 63) / 64)
        if allClean { markAllClean() }
    }

    /// Every page clean again.
    public func markAllClean() {
        for i in clean.indices { clean[i] = ~0 }
        let spare = clean.count * 64 - pageCount
        if spare > 0 { clean[clean.count - 1] = ~0 >> UInt64(spare) }
    }

    /// Whether the page of `address` is clean (false outside the span).
    @inline(__always)
    public func isClean(_ address: UInt64) -> Bool {
        let i = (address &- base) >> 12
        guard i < UInt64(pageCount) else { return false }
        return clean[Int(i >> 6)] >> (i & 63) & 1 != 0
    }

    /// A hart of the guest wrote `count` bytes at `address`: their pages are no longer clean.
    public func noteStore(_ address: UInt64, count: UInt64) {
        pagesWrittenByStores &+= markWritten(address, count: count)
    }

    /// Something other than the guest's stores wrote `count` bytes at `address`.
    public func noteOtherWrite(_ address: UInt64, count: UInt64) {
        pagesWrittenOtherwise &+= markWritten(address, count: count)
    }

    /// Clears the clean bits of the pages of `[address, address + count)`; how many were set.
    private func markWritten(_ address: UInt64, count: UInt64) -> UInt64 {
        guard count > 0 else { return 0 }
        var newly: UInt64 = 0
        var page = address & ~0xFFF
        while page < address &+ count {
            let i = (page &- base) >> 12
            if i < UInt64(pageCount), clean[Int(i >> 6)] >> (i & 63) & 1 != 0 {
                clean[Int(i >> 6)] &= ~(1 << (i & 63))
                newly &+= 1
            }
            page &+= 0x1000
        }
        return newly
    }

    /// The addresses of the pages written since the last clear, ascending.
    public var writtenPages: [UInt64] {
        (0..<pageCount).compactMap { i in clean[i >> 6] >> UInt64(i & 63) & 1 == 0 ? base &+ UInt64(i) << 12 : nil }
    }

    /// The log as a value, for a snapshot.
    public struct State: Codable, Sendable {
        var clean: [UInt64]
        var writtenByStores: UInt64, writtenOtherwise: UInt64
    }

    public var state: State { State(clean: clean, writtenByStores: pagesWrittenByStores, writtenOtherwise: pagesWrittenOtherwise) }

    /// Whether `state` was saved by a log of this size (a snapshot file's may not have been).
    public func fits(_ state: State) -> Bool { state.clean.count == clean.count }

    /// Puts back a state for which `fits` holds.
    public func restore(_ state: State) {
        precondition(fits(state), "a write log of another size")
        clean = state.clean
        pagesWrittenByStores = state.writtenByStores
        pagesWrittenOtherwise = state.writtenOtherwise
    }
}

extension Machine {
    /// The log of RAM pages written (nil: none kept). Setting one, or clearing it
    /// (`clearWriteLog`), drops every hart's soft-TLB entries, so that no store to a clean page
    /// bypasses it.
    public var writeLog: RAMWriteLog? {
        get { ramWriteLog }
        set {
            ramWriteLog = newValue
            for h in harts { h.flushSoftTLB() }
        }
    }

    /// Every page of the log clean again; every hart's soft-TLB entries dropped.
    public func clearWriteLog() {
        guard let log = ramWriteLog else { return }
        log.markAllClean()
        for h in harts { h.flushSoftTLB() }
    }
}
