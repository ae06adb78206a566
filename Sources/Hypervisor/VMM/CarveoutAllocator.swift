// Host RAM handed out to VMs: first fit over page-aligned ranges. A VM's guest-physical RAM is
// exactly its carve-out (its machine's RAM is backed by these host bytes and by nothing else), so
// a VM can never reach a byte outside its window: there is no guest-physical address that maps there.

/// A VM's window of host RAM.
public struct Carveout: Sendable, Equatable {
    /// Host-physical address of the window's first byte.
    public var hostBase: UInt64
    public var size: UInt64

    public init(hostBase: UInt64, size: UInt64) {
        self.hostBase = hostBase
        self.size = size
    }

    public var end: UInt64 { hostBase + size }

    public func overlaps(_ other: Carveout) -> Bool { hostBase < other.end && other.hostBase < end }
}

/// First-fit allocation of page-aligned windows in `[base, base + size)`.
struct CarveoutAllocator {
    static let pageSize: UInt64 = 4096
    let base: UInt64
    let size: UInt64
    /// Allocated windows, sorted by address.
    private(set) var allocated: [Carveout] = []

    init(base: UInt64, size: UInt64) {
        self.base = base
        self.size = size
    }

    /// The lowest free window of `bytes` (rounded up to whole pages), or nil when none is large enough.
    mutating func allocate(_ bytes: UInt64) -> Carveout? {
        guard bytes > 0, bytes <= size else { return nil }
        let need = (bytes + Self.pageSize - 1) / Self.pageSize * Self.pageSize
        var cursor = base
        for (i, used) in allocated.enumerated() {
            if used.hostBase - cursor >= need {
                let c = Carveout(hostBase: cursor, size: need)
                allocated.insert(c, at: i)
                return c
            }
            cursor = used.end
        }
        guard base + size - cursor >= need else { return nil }
        let c = Carveout(hostBase: cursor, size: need)
        allocated.append(c)
        return c
    }

    mutating func free(_ c: Carveout) {
        allocated.removeAll { $0 == c }
    }

    var freeBytes: UInt64 { size - allocated.reduce(0) { $0 + $1.size } }
}
