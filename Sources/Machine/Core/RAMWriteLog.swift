// Which pages of RAM were written since the log was last cleared, as an interpreting VMM finds
// them for pre-copy migration (QEMU's dirty bitmap under TCG, whose TLB marks clean pages
// "not dirty"): the harts' soft TLBs keep no store entry for a clean page, so the first store to
// one takes the slow path, which notes the page written; its later stores are fast again. That
// needs no check where entries are made: only a store's slow path makes a store entry, after it
// noted the page, and making the log or clearing it drops every entry. Every
// other write to RAM — an AMO, a page walk's A/D update, a device's DMA, a tool's or a VMM's —
// passes through the machine's coherence calls (`Hart.noteWrite`, `invalidateWritten`), which
// note it too. The soft TLB is the host's cache, seen by neither the guest nor any count: the
// log costs host time only.

/// A bit per page of the machine's RAM, set while the page is clean (not written since the log
/// was last cleared).
public final class RAMWriteLog {
    /// The first page's address and how many pages are covered: the machine's RAM.
    public let base: UInt64
    public let pageCount: Int
    private(set) var clean: [UInt64]
    /// Clean pages written by a hart's store (their first, by the slow path), and by anything
    /// else (DMA, a tool, a VMM), since the log was made.
    public internal(set) var pagesWrittenByHarts: UInt64 = 0
    public internal(set) var pagesWrittenOtherwise: UInt64 = 0

    /// A log over `size` bytes of RAM at `base`, every page clean.
    public init(base: UInt64, size: UInt64) {
        self.base = base
        pageCount = Int((size + 0xFFF) >> 12)
        clean = [UInt64](repeating: 0, count: (pageCount + 63) / 64)
        markAllClean()
    }

    /// Every page clean again.
    func markAllClean() {
        for i in clean.indices { clean[i] = ~0 }
        let spare = clean.count * 64 - pageCount
        if spare > 0 { clean[clean.count - 1] = ~0 >> UInt64(spare) }
    }

    /// Whether the page of physical `pa` is clean (false outside RAM).
    @inline(__always)
    public func isClean(_ pa: UInt64) -> Bool {
        let i = (pa &- base) >> 12
        guard i < UInt64(pageCount) else { return false }
        return clean[Int(i >> 6)] >> (i & 63) & 1 != 0
    }

    /// `count` bytes at physical `pa` were written: their pages are no longer clean. How many were.
    @discardableResult
    func noteWrite(_ pa: UInt64, count: UInt64) -> UInt64 {
        guard count > 0 else { return 0 }
        var newly: UInt64 = 0
        var page = pa & ~0xFFF
        while page < pa &+ count {
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

    /// The clean bits, for a snapshot, and their return (false, changing nothing, for bits of
    /// another size).
    public var cleanBits: [UInt64] { clean }
    public func restore(cleanBits: [UInt64], writtenByHarts: UInt64, writtenOtherwise: UInt64) -> Bool {
        guard cleanBits.count == clean.count else { return false }
        clean = cleanBits
        pagesWrittenByHarts = writtenByHarts
        pagesWrittenOtherwise = writtenOtherwise
        return true
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
