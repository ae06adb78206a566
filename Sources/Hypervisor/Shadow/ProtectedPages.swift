// Which guest pages the shadows write-protect, as a bitmap indexed by guest-physical page number.
// `ShadowPageTables.derived` says which shadow pages mirror each guest table page (lists, which
// the shadow pager needs to drop them); whether a page is protected at all is asked far
// more often — at every call of a store a `bt` translator adapted (while those were callouts at
// every execution, about a million times in tinyos's `pagefault` benchmark for 2000 pages) and
// at every shadow fill — and a dictionary lookup (hashing the page number, probing, then the
// set) cost about 180 host instructions of each. This answers it with one load and a shift.

/// A bit per guest page of the VM's RAM: set while some shadow table mirrors the page.
struct ProtectedPages: Codable {
    /// The first guest-physical page number covered, and how many pages are.
    let firstPage: UInt64
    let pageCount: UInt64
    private var bits: [UInt64]

    /// Covers the span from the lowest to the highest RAM page of `map`: every guest table the
    /// walker reads is in RAM. (A satp root outside RAM is the one table page a shadow may mirror
    /// outside it; `ShadowPageTables` looks such pages up in `derived`.)
    init(map: GuestPhysicalMap) {
        let span = map.ramPages
        firstPage = span.lowerBound
        pageCount = UInt64(span.count)
        bits = [UInt64](repeating: 0, count: Int((pageCount + 63) / 64))
    }

    /// Whether guest-physical page `page` (an address >> 12) is protected; nil when it lies
    /// outside the span covered.
    @inline(__always)
    func contains(page: UInt64) -> Bool? {
        let i = page &- firstPage
        guard i < pageCount else { return nil }
        return bits.withUnsafeBufferPointer { ($0[Int(i >> 6)] >> (i & 63)) & 1 != 0 }
    }

    /// Marks `page` protected or not; false (nothing recorded) when it lies outside the span.
    @discardableResult
    mutating func set(page: UInt64, _ on: Bool) -> Bool {
        let i = page &- firstPage
        guard i < pageCount else { return false }
        let bit = UInt64(1) << (i & 63)
        if on { bits[Int(i >> 6)] |= bit } else { bits[Int(i >> 6)] &= ~bit }
        return true
    }
}

extension ProtectedPages {
    /// Whether its bitmap covers its span (a snapshot file's may not).
    var isWellFormed: Bool { bits.count == Int((pageCount + 63) / 64) }
}
