// Lists of machine addresses kept per guest page: the shadow pages mirroring each guest table page
// (`ShadowPageTables.derived`), the shadow leaf entries mapping each guest page writable
// (`ShadowPageTables.writableMappings`). Both are looked up on every traced write and appended to
// on every shadow fill, a prefetch adding up to 512 at once: in a dictionary, hashing the page
// number and probing cost more than the rest of the work. Here a page of the guest's RAM, where
// every guest table and nearly every mapped page lies, indexes an array; a page outside it (a
// device's, a satp root outside RAM) falls back to a dictionary.

import Machine

/// Lists of UInt64 by guest-physical page, each in the order appended.
struct GuestPageLists: Codable {
    /// The first guest-physical page number the array covers, and how many pages it does.
    let firstPage: UInt64
    let pageCount: UInt64
    private var inRAM: [[UInt64]]
    @SortedKeysCoding private var outside: [UInt64: [UInt64]] = [:]

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

    /// Whether the list of `page` holds 64 or more and is full (appending would grow its
    /// storage): when a list whose values go stale without being removed drops them
    /// (`sortDroppingRepeats(page:andStale:)`) before the next append.
    @inline(__always)
    func isFull(page: UInt64) -> Bool {
        let i = page &- firstPage
        guard i < pageCount else { return outside[page].map { $0.count >= 64 && $0.count == $0.capacity } ?? false }
        let list = inRAM[Int(i)]
        return list.count >= 64 && list.count == list.capacity
    }

    /// Sorts the list of `page` and drops the values `isStale` names and the repeats; if fewer
    /// than half of them went, makes room for twice as many as it held. Called when `isFull`, each
    /// value is then examined a bounded number of times on average, and a list holds at most
    /// about twice the values that are not stale. (For a list whose order does not matter.)
    mutating func sortDroppingRepeats(page: UInt64, andStale isStale: (UInt64) -> Bool) {
        let i = page &- firstPage
        if i < pageCount {
            Self.sortDroppingRepeats(&inRAM[Int(i)], andStale: isStale)
        } else if outside[page] != nil {
            Self.sortDroppingRepeats(&outside[page]!, andStale: isStale)
        }
    }

    private static func sortDroppingRepeats(_ list: inout [UInt64], andStale isStale: (UInt64) -> Bool) {
        let held = list.count
        list.sort()
        var kept = 0
        list.withUnsafeMutableBufferPointer { values in
            for j in values.indices where (kept == 0 || values[j] != values[kept - 1]) && !isStale(values[j]) {
                values[kept] = values[j]
                kept += 1
            }
        }
        list.removeLast(held - kept)
        if kept > held / 2 { list.reserveCapacity(2 * held) }
    }

    /// How many values the list of `page` holds.
    func count(page: UInt64) -> Int {
        let i = page &- firstPage
        return i < pageCount ? inRAM[Int(i)].count : outside[page]?.count ?? 0
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

extension GuestPageLists {
    /// Whether it has a list for every page of its span (a snapshot file's may not).
    var isWellFormed: Bool { UInt64(inRAM.count) == pageCount }
}
