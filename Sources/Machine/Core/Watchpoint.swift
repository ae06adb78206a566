// Watchpoints: physical address ranges whose data accesses by harts stop the run.
//
// The fast path never checks anything: a RAM page holding a watchpoint is kept out of every hart's
// soft TLB for the watched access kind, so each such access takes the slow path, which compares it
// with the watchpoints after the access completed and requests a stop. The run then returns
// `StopReason.watchpoint` right after the accessing instruction (it retired; the pc is the next one).
//
// What counts as an access: loads, stores, the A extension (LR reads; SC and AMOs write, AMOs also
// read; an SC counts as a write attempt even when it fails), float loads/stores, misaligned accesses
// (each byte), and MMIO accesses by harts. Not counted: instruction fetches, page-walk PTE reads and
// A/D write-backs, device DMA, and the host's own `loadPhysical`/`readPhysical`.

/// Which accesses a watchpoint catches.
public enum WatchAccess: Sendable, Hashable {
    case read, write, readWrite

    var mask: UInt8 {
        switch self {
        case .read: 1
        case .write: 2
        case .readWrite: 3
        }
    }
}

/// A physical address range `[base, base + size)` watched for `access`.
public struct Watchpoint: Hashable, Sendable {
    public var base: UInt64
    public var size: UInt64
    public var access: WatchAccess

    /// A `size` of 0 watches one byte.
    public init(base: UInt64, size: UInt64, access: WatchAccess) {
        self.base = base
        self.size = max(1, size)
        self.access = access
    }

    /// True when `[address, address + count)` meets the range for an access of this direction.
    func catches(_ address: UInt64, count: UInt64, isWrite: Bool) -> Bool {
        guard access.mask & (isWrite ? 2 : 1) != 0 else { return false }
        return address < base &+ size && base < address &+ count
    }
}

/// Per-RAM-page flags: bit 0 a read watchpoint meets the page, bit 1 a write watchpoint.
let watchReadBit: UInt8 = 1
let watchWriteBit: UInt8 = 2

extension Machine {
    /// Recomputes the per-page flags from `watchpoints` and drops every soft TLB entry, so watched
    /// pages take the slow path from now on (and unwatched ones may take the fast path again).
    func watchpointsChanged() {
        let ram = bus.ram
        for i in watchedPages { watchPages[i] = 0 }
        watchedPages.removeAll(keepingCapacity: true)
        for w in watchpoints {
            let lo = max(w.base, ram.base)
            let hi = min(w.base &+ w.size, ram.base &+ ram.size)
            guard lo < hi else { continue }
            var p = Int((lo - ram.base) >> 12)
            let last = Int((hi - 1 - ram.base) >> 12)
            while p <= last {
                if watchPages[p] == 0 { watchedPages.append(p) }
                watchPages[p] |= w.access.mask
                p += 1
            }
        }
        for h in harts { h.flushSoftTLB() }
    }

    /// Checks a completed access by hart `h` (physical `address`, `count` bytes) against the
    /// watchpoints; a hit requests the stop (the first hit of an instruction wins).
    @inline(never)
    func checkWatchpoints(_ address: UInt64, count: UInt64, isWrite: Bool, hart h: Hart) {
        guard let hit = watchpoints.first(where: { $0.catches(address, count: count, isWrite: isWrite) }) else { return }
        tally.watchpointHits &+= 1
        guard pendingStop == nil else { return }
        let first = max(address, hit.base)
        requestStop(.watchpoint(hart: h.id, pc: h.state.pointee.pc, address: first, isWrite: isWrite))
        h.state.pointee.exitSlice = .stop
    }

}

extension Hart {
    /// Whether a data access of `count` bytes at physical `address` may meet a watchpoint (the
    /// caller checked `state.watching`): a filter on the per-page flags, exact checks follow.
    /// Addresses outside RAM are left to the MMIO path, which checks every access itself.
    @inline(__always)
    func mayWatch(_ address: UInt64, count: UInt64, isWrite: Bool) -> Bool {
        let bit = isWrite ? watchWriteBit : watchReadBit
        guard inRAM(address, count: 1), let pages = state.pointee.watchPages else { return false }
        let last = min(address &+ count &- 1, ramBase &+ ramSize &- 1)
        return (pages[Int((address &- ramBase) >> 12)] | pages[Int((last &- ramBase) >> 12)]) & bit != 0
    }
}
