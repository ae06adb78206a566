// The guest RAM window that boot images must land in. Images are loaded through the machine's
// `DMAMemory`, which refuses anything but RAM; checking against this region first is what turns a
// misplaced segment into an error naming the addresses instead of a bare "write failed".

/// A contiguous range of guest physical RAM: `[base, base + size)`.
public struct RAMRegion: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let base: UInt64
    public let size: UInt64

    public init(base: UInt64, size: UInt64) {
        self.base = base
        self.size = size
    }

    /// One past the last byte, saturated at 2^64 (a region may end exactly at the top of memory).
    public var end: UInt64 {
        let (sum, overflow) = base.addingReportingOverflow(size)
        return overflow ? UInt64.max : sum
    }

    /// Whether `[address, address + length)` lies wholly inside the region.
    public func contains(_ address: UInt64, length: UInt64) -> Bool {
        guard address >= base else { return false }
        let offset = address - base
        return offset <= size && length <= size - offset
    }

    /// "0x80000000-0x87ffffff", the form error messages use (inclusive last byte).
    public var description: String {
        size == 0 ? "empty at \(hex(base))" : "\(hex(base))-\(hex(base &+ size &- 1))"
    }
}
