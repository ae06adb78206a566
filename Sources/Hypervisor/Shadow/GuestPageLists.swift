// Lists of machine addresses kept per guest page: the shadow pages mirroring each guest table page
// (`ShadowPageTables.derived`), the shadow leaf entries mapping each guest page writable
// (`ShadowPageTables.writableMappings`). Both are looked up on every traced write and appended to
// on every shadow fill, a prefetch adding up to 512 at once: in a dictionary, hashing the page
// number and probing cost more than the rest of the work. Here a page of the guest's RAM, where
// every guest table and nearly every mapped page lies, indexes an array; a page outside it (a
// device's, a satp root outside RAM) falls back to a dictionary.

/// Lists of UInt64 by guest-physical page, each in the order appended.
struct GuestPageLists {
    /// The first guest-physical page number the array covers, and how many pages it does.
    let firstPage: UInt64
    let pageCount: UInt64
    private var inRAM: [[UInt64]]
    private var outside: [UInt64: [UInt64]] = [:]

    /// Covers the span from the lowest to the highest RAM page of `map`, as `ProtectedPages` does.
    init(map: GuestPhysicalMap) {
        let span = map.ramPages
        firstPage = span.lowerBound
        pageCount = UInt64(span.count)
        inRAM = Array(repeating: [], count: span.count)
    }

    /// The list of guest-physical page `page` (an address >> 12); empty when it has none.
    @inline(__always)
    subscript(page: UInt64) -> [UInt64] {
        let i = page &- firstPage
        return i < pageCount ? inRAM[Int(i)] : outside[page] ?? []
    }

    /// Whether page `page` has a list (nothing appended, or everything removed, is none).
    @inline(__always)
    func isEmpty(page: UInt64) -> Bool {
        let i = page &- firstPage
        return i < pageCount ? inRAM[Int(i)].isEmpty : outside[page]?.isEmpty != false
    }

    mutating func append(_ value: UInt64, page: UInt64) {
        let i = page &- firstPage
        if i < pageCount { inRAM[Int(i)].append(value) } else { outside[page, default: []].append(value) }
    }

    /// Removes every `value` from the list of `page`.
    mutating func remove(_ value: UInt64, page: UInt64) {
        let i = page &- firstPage
        if i < pageCount {
            inRAM[Int(i)].removeAll { $0 == value }
        } else {
            outside[page]?.removeAll { $0 == value }
            if outside[page]?.isEmpty == true { outside[page] = nil }
        }
    }

    /// Removes the list of `page` and returns it (empty when it had none).
    mutating func removeAll(page: UInt64) -> [UInt64] {
        let i = page &- firstPage
        guard i < pageCount else { return outside.removeValue(forKey: page) ?? [] }
        var list: [UInt64] = []
        swap(&list, &inRAM[Int(i)])
        return list
    }
}
