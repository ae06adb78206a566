// The VMM's own page frames for shadow tables: a range of machine RAM outside every guest region,
// handed out a page at a time. Pages return to a free list when their table is dropped; a fresh
// page is zeroed (an all-invalid table) before use.

import Machine

/// A fixed pool of 4 KiB machine pages.
struct ShadowPool: Codable {
    let base: UInt64
    let pages: Int
    private var next = 0
    private var free: [UInt64] = []

    init(base: UInt64, size: UInt64) {
        self.base = (base + Sv39.pageSize - 1) & ~(Sv39.pageSize - 1)
        pages = Int((size - (self.base - base)) / Sv39.pageSize)
    }

    var inUse: Int { next - free.count }

    func contains(_ ma: UInt64) -> Bool { ma >= base && ma - base < UInt64(pages) * Sv39.pageSize }

    /// The position of pool page `ma` (0 to `pages` - 1): an array index for what is kept per
    /// shadow page, where a dictionary would hash the address on every look-up.
    @inline(__always)
    func index(of ma: UInt64) -> Int? {
        let i = (ma &- base) >> 12
        return i < UInt64(pages) ? Int(i) : nil
    }

    /// A zeroed page, or nil when the pool is exhausted.
    mutating func allocate(in machine: Machine) -> UInt64? {
        let page: UInt64
        if let p = free.popLast() {
            page = p
        } else if next < pages {
            page = base + UInt64(next) * Sv39.pageSize
            next += 1
        } else {
            return nil
        }
        machine.loadPhysical(ShadowPool.zeroPage, at: page)
        return page
    }

    mutating func release(_ page: UInt64) { free.append(page) }

    static let zeroPage = [UInt8](repeating: 0, count: Int(Sv39.pageSize))
}

extension ShadowPool {
    /// Whether every page it would hand out is one of its own (a snapshot file's pool may not be).
    var isWellFormed: Bool {
        (0...pages).contains(next) && free.count <= next
            && free.allSatisfy { $0 >= base && ($0 - base) % Sv39.pageSize == 0 && ($0 - base) / Sv39.pageSize < UInt64(next) }
    }
}
