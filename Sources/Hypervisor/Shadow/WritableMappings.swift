// Which shadow leaf entries map each guest page writable, so that a page which becomes a page-table
// page can be made read-only in every shadow at once (`ShadowPageTables.writeProtect`). Every fill
// of a writable entry records one, and a prefetch records hundreds: a dictionary keyed by the page
// hashed the page number for each (about 150 host instructions, a tenth of a `trap` fork run's host
// time went into the prefetches). Pages of the VM's RAM span are kept in an array by page number;
// anything else (never a page-table page the walker can read) in a dictionary.

/// Guest page → the machine addresses of shadow entries that mapped it writable. Checked lazily by
/// the reader: an entry that no longer maps the page writable is skipped.
struct WritableMappings {
    private let firstPage: UInt64
    private var inSpan: [[UInt64]]
    private var outside: [UInt64: [UInt64]] = [:]

    /// Covers the same span as `ProtectedPages`: the lowest to the highest RAM page of `map`.
    init(map: GuestPhysicalMap) {
        let span = map.ramPages
        firstPage = span.lowerBound
        inSpan = Array(repeating: [], count: span.count)
    }

    /// Records that the shadow entry at machine address `entry` maps guest page `frame` writable.
    mutating func append(_ entry: UInt64, frame: UInt64) {
        let i = (frame >> 12) &- firstPage
        if i < UInt64(inSpan.count) {
            inSpan[Int(i)].append(entry)
        } else {
            outside[frame, default: []].append(entry)
        }
    }

    /// The entries recorded for guest page `frame`, forgotten.
    mutating func removeAll(frame: UInt64) -> [UInt64] {
        let i = (frame >> 12) &- firstPage
        if i < UInt64(inSpan.count) {
            defer { inSpan[Int(i)] = [] }
            return inSpan[Int(i)]
        }
        return outside.removeValue(forKey: frame) ?? []
    }
}
