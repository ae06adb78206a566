// The architectural TLB: a teaching object whose geometry, tagging and counters a lab can see.
//
// Unified (fetches and data share it), `sets × ways`, FIFO replacement within a set. A hit changes no
// state, so the counters do not depend on the host-side soft TLB in front of it: every soft TLB hit
// mirrors an entry present here and is counted here as a hit. Superpage entries are indexed by their
// own page number at their size; a lookup probes each size that currently has entries, smallest
// first, which is how split-size TLBs are often modelled.

/// One TLB entry as plain data (for the Lua layer).
public struct TLBEntry: Sendable, Equatable {
    /// Virtual address of the page's first byte.
    public var virtualAddress: UInt64
    /// Physical address of the page's first byte.
    public var physicalAddress: UInt64
    /// 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB, 3 = 512 GiB.
    public var level: Int
    public var asid: UInt16
    public var global: Bool
    /// The VMID of a guest's translation (guest virtual to host physical, both stages combined;
    /// the hypervisor extension), nil for the host's own.
    public var vmid: UInt16?
    /// PTE permission and status bits R, W, X, U, A, D as in the PTE (bits 1...7).
    public var readable: Bool, writable: Bool, executable: Bool, user: Bool, accessed: Bool, dirty: Bool
    /// Set index and way it occupies.
    public var set: Int, way: Int
}

/// One nested TLB entry as plain data: a G-stage translation of one VMID.
public struct NestedTLBEntryView: Sendable, Equatable {
    public var vmid: UInt16
    /// The guest physical and host physical addresses of the page's first byte.
    public var guestPhysical: UInt64
    public var physical: UInt64
    /// 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB.
    public var level: Int
}

/// TLB event counters. Loads and stores from the fast path are included.
public struct TLBCounters: Sendable, Equatable, Codable {
    public var fetchHits: UInt64 = 0, loadHits: UInt64 = 0, storeHits: UInt64 = 0
    public var fetchMisses: UInt64 = 0, loadMisses: UInt64 = 0, storeMisses: UInt64 = 0
    /// sfence.vma x0, x0 (or an untagged TLB's satp write, counted in `satpFlushes` instead).
    public var fullFlushes: UInt64 = 0
    /// sfence.vma x0, asid.
    public var asidFlushes: UInt64 = 0
    /// sfence.vma addr, x0 and sfence.vma addr, asid.
    public var addressFlushes: UInt64 = 0
    /// Whole-TLB flushes caused by satp writes on an untagged TLB (and, with the hypervisor
    /// extension, by vsatp and hgatp writes and by every switch between a guest and its host:
    /// an untagged TLB has no VMIDs either, as VT-x without VPIDs flushed on every VM entry and exit).
    public var satpFlushes: UInt64 = 0
    /// Flushes requested by the host (`Machine.flushTLB`).
    public var hostFlushes: UInt64 = 0
    /// Page-walk memory references: each PTE read counts one, and each PTE written back to set A
    /// or D counts one more.
    public var walkReferences: UInt64 = 0
    /// Entries evicted to make room (capacity or conflict misses follow these).
    public var evictions: UInt64 = 0
    /// The nested TLB (`TLBConfiguration.nestedEntries`): G-stage translations of a two-stage
    /// walk found there (each saves that G walk's references) or walked and then cached.
    public var nestedHits: UInt64 = 0
    public var nestedMisses: UInt64 = 0
    /// The page-walk cache (`TLBConfiguration.walkCacheEntries`): two-stage walks that started
    /// below the root at a table it knew, and walks it knew nothing for.
    public var walkCacheHits: UInt64 = 0
    public var walkCacheMisses: UInt64 = 0

    public var hits: UInt64 { fetchHits &+ loadHits &+ storeHits }
    public var misses: UInt64 { fetchMisses &+ loadMisses &+ storeMisses }
    public var flushes: UInt64 { fullFlushes &+ asidFlushes &+ addressFlushes &+ satpFlushes &+ hostFlushes }
}

struct ArchTLBEntry: Codable {
    var valid = false
    /// Virtual page number at the entry's size: vaddr >> (12 + 9 * level), masked to the VA width.
    var tag: UInt64 = 0
    var level: UInt8 = 0
    var global = false
    var asid: UInt16 = 0
    /// 0 for the host's translations; `0x8000 | VMID` for a guest's (both stages combined).
    var space: UInt16 = 0
    /// The leaf PTE's low 8 bits (V R W X U G A D); for a guest's entry, the VS-stage leaf's, or
    /// 0 when the VS stage is Bare.
    var flags: UInt8 = 0
    /// A guest's entry: the G-stage leaf's low 8 bits (all set when the G stage is Bare).
    var guestFlags: UInt8 = 0
    /// Physical address of the page's first byte.
    var physical: UInt64 = 0
    /// Virtual address of the page's first byte (canonical).
    var virtual: UInt64 = 0
}

/// A page-table entry's bits and the walk's checks of one entry (privileged spec,
/// "Virtual-Address Translation Process"), shared by the one-stage walk, the VS stage of the
/// two-stage one and the IOMMU's second stage (Devices).
public enum PTE {
    public static let v: UInt64 = 1, r: UInt64 = 2, w: UInt64 = 4, x: UInt64 = 8
    public static let u: UInt64 = 16, g: UInt64 = 32, a: UInt64 = 64, d: UInt64 = 128

    /// V clear, the reserved W-without-R encoding, or reserved high bits (N, PBMT and bits 60:54
    /// are not implemented): a page fault.
    @inline(__always)
    public static func isInvalid(_ pte: UInt64) -> Bool {
        pte & v == 0 || (pte & r == 0 && pte & w != 0) || pte >> 54 != 0
    }

    /// A leaf (R or X set); otherwise a pointer to the next level.
    @inline(__always)
    public static func isLeaf(_ pte: UInt64) -> Bool { pte & (r | x) != 0 }

    /// A pointer that cannot be one: D, A or U set (reserved in non-leaf entries), or at level 0.
    @inline(__always)
    public static func isBadPointer(_ pte: UInt64, level: Int) -> Bool { pte & (d | a | u) != 0 || level == 0 }

    /// The status bits an access of `type` needs set in its leaf: A, and D for a store.
    @inline(__always)
    static func accessedDirty(for type: AccessType) -> UInt64 { a | (type == .store ? d : 0) }

    /// A superpage leaf whose physical page number is not aligned to its size.
    @inline(__always)
    public static func isMisalignedSuperpage(_ pte: UInt64, level: Int) -> Bool {
        let ppn: UInt64 = (pte >> 10) & ((1 << 44) - 1)
        let low: UInt64 = (1 << (9 * UInt64(level))) - 1
        return ppn & low != 0
    }
}

/// One G-stage translation the nested TLB holds: a guest physical page (at the G leaf's size) of
/// one VMID, its host physical base and the G leaf's low bits.
struct NestedTLBEntry: Codable {
    var valid = false
    var space: UInt16 = 0
    var level: UInt8 = 0
    /// Guest physical page number at the entry's size: gpa >> (12 + 9 * level).
    var tag: UInt64 = 0
    var base: UInt64 = 0
    var flags: UInt8 = 0
}

/// Which translations a flush reaches: the host's, one guest's (`0x8000 | VMID`), every guest's,
/// or all.
enum TLBSpace: Equatable {
    case host, guest(UInt16), allGuests, all

    @inline(__always)
    func contains(_ space: UInt16) -> Bool {
        switch self {
        case .host: space == 0
        case .guest(let g): space == g
        case .allGuests: space != 0
        case .all: true
        }
    }
}

/// The TLB's storage is raw memory owned by its hart (freed in `deallocate`), so lookups and
/// updates on the miss path cost no reference counting.
struct TLB {
    let sets: Int
    let ways: Int
    let tagged: Bool
    /// Untagged: a satp write spares global entries (`TLBConfiguration.keepsGlobalEntries`).
    let keepsGlobal: Bool
    let entries: UnsafeMutablePointer<ArchTLBEntry>
    /// Next way to replace, per set.
    let fifo: UnsafeMutablePointer<Int>
    /// Valid entries per level, so lookups skip sizes not present.
    let perLevel: UnsafeMutablePointer<Int>
    var counters = TLBCounters()
    /// The nested TLB: fully associative, FIFO (`nestedNext` is the next victim); none when
    /// `nestedCount` is 0.
    let nestedCount: Int
    let nested: UnsafeMutablePointer<NestedTLBEntry>
    var nestedNext = 0
    /// The page-walk cache (TLB+WalkCache.swift): fully associative, FIFO; none when
    /// `walkCacheCount` is 0.
    let walkCacheCount: Int
    let walkCache: UnsafeMutablePointer<WalkCacheEntry>
    var walkCacheNext = 0

    var count: Int { sets * ways }
    /// `sets - 1` when `sets` is a power of two (the usual case), so indexing is a mask.
    let setMask: UInt64?

    @inline(__always)
    func setIndex(_ tag: UInt64) -> Int {
        if let m = setMask { return Int(truncatingIfNeeded: tag & m) }
        return Int(tag % UInt64(sets))
    }

    init(_ c: TLBConfiguration) {
        ways = c.ways
        sets = max(1, c.entries / c.ways)
        tagged = c.asidTagged
        keepsGlobal = c.keepsGlobalEntries
        setMask = sets & (sets - 1) == 0 ? UInt64(sets - 1) : nil
        entries = .allocate(capacity: sets * ways)
        entries.initialize(repeating: ArchTLBEntry(), count: sets * ways)
        fifo = .allocate(capacity: sets)
        fifo.initialize(repeating: 0, count: sets)
        perLevel = .allocate(capacity: 5)
        perLevel.initialize(repeating: 0, count: 5)
        nestedCount = max(0, c.nestedEntries)
        nested = .allocate(capacity: max(1, nestedCount))
        nested.initialize(repeating: NestedTLBEntry(), count: max(1, nestedCount))
        walkCacheCount = max(0, c.walkCacheEntries)
        walkCache = .allocate(capacity: max(1, walkCacheCount))
        walkCache.initialize(repeating: WalkCacheEntry(), count: max(1, walkCacheCount))
    }

    func deallocate() {
        entries.deallocate()
        fifo.deallocate()
        perLevel.deallocate()
        nested.deallocate()
        walkCache.deallocate()
    }

    // MARK: the nested TLB

    /// The cached G-stage translation of guest physical `gpa` in `space`, if any.
    @inline(__always)
    func nestedLookup(_ gpa: UInt64, space: UInt16) -> NestedTLBEntry? {
        for i in 0..<nestedCount {
            let e = nested[i]
            if e.valid && e.space == space && gpa >> (12 + 9 * UInt64(e.level)) == e.tag { return e }
        }
        return nil
    }

    mutating func nestedInsert(_ e: NestedTLBEntry) {
        guard nestedCount > 0 else { return }
        nested[nestedNext] = e
        nestedNext = (nestedNext + 1) % nestedCount
    }

    /// Drops the nested entries of `space` (hfence.gvma, an hgatp write).
    mutating func flushNested(_ space: TLBSpace) {
        for i in 0..<nestedCount where nested[i].valid && space.contains(nested[i].space) { nested[i].valid = false }
        if space == .all || space == .allGuests { nestedNext = 0 }
    }

    /// Index of a valid entry translating `vaddr` for `asid` in `space`, or nil.
    @inline(__always)
    func lookup(_ vaddr: UInt64, asid: UInt16, space: UInt16 = 0) -> Int? {
        for level in 0..<5 where perLevel[level] > 0 {
            let tag = vaddr >> (12 + 9 * UInt64(level))
            let base = setIndex(tag) * ways
            for w in 0..<ways {
                let e = entries[base + w]
                if e.valid && e.level == level && e.tag == tag && e.space == space
                    && (e.global || !tagged || e.asid == asid) {
                    return base + w
                }
            }
        }
        return nil
    }

    /// Inserts an entry, returning the evicted one if a valid entry was replaced.
    mutating func insert(_ e: ArchTLBEntry) -> ArchTLBEntry? {
        let set = setIndex(e.tag)
        let base = set * ways
        // An invalid way is used first; otherwise FIFO.
        var way = -1
        for w in 0..<ways where !entries[base + w].valid { way = w; break }
        var victim: ArchTLBEntry? = nil
        if way < 0 {
            way = fifo[set]
            fifo[set] = (way + 1) % ways
            let v = entries[base + way]
            perLevel[Int(v.level)] -= 1
            counters.evictions &+= 1
            victim = v
        }
        entries[base + way] = e
        perLevel[Int(e.level)] += 1
        return victim
    }

    func invalidate(_ i: Int) {
        guard entries[i].valid else { return }
        entries[i].valid = false
        perLevel[Int(entries[i].level)] -= 1
    }

    func flushAll() {
        for i in 0..<count { entries[i].valid = false }
        for l in 0..<5 { perLevel[l] = 0 }
        for s in 0..<sets { fifo[s] = 0 }
        for i in 0..<nestedCount { nested[i].valid = false }
        flushWalkCache(.all, asid: nil)
    }

    /// sfence.vma semantics (privileged spec, "Supervisor Memory-Management Fence Instruction"):
    /// `vaddr` nil = all addresses; `asid` nil = all address spaces; global entries are spared by an
    /// ASID-specific flush. Only entries of `space` are touched: sfence.vma in HS-mode leaves the
    /// guests' translations alone, in VS-mode (and hfence.vvma) it reaches the current VMID's.
    func flush(vaddr: UInt64?, asid: UInt16?, space: TLBSpace = .host) {
        if vaddr == nil && asid == nil && space == .all { flushAll(); return }
        flushWalkCache(space, asid: asid)
        for i in 0..<count where entries[i].valid && space.contains(entries[i].space) {
            let e = entries[i]
            if let va = vaddr, (va >> (12 + 9 * UInt64(e.level))) != e.tag { continue }
            // An untagged TLB cannot tell address spaces apart: an ASID flush drops every
            // non-global entry.
            if let a = asid, e.global || (tagged && e.asid != a) { continue }
            invalidate(i)
        }
    }

    func publicNestedEntries() -> [NestedTLBEntryView] {
        (0..<nestedCount).compactMap { i in
            let e = nested[i]
            guard e.valid else { return nil }
            return NestedTLBEntryView(vmid: e.space & 0x7FFF, guestPhysical: e.tag << (12 + 9 * UInt64(e.level)),
                                      physical: e.base, level: Int(e.level))
        }
    }

    func publicEntries() -> [TLBEntry] {
        var out: [TLBEntry] = []
        for i in 0..<count where entries[i].valid {
            let e = entries[i]
            let f = UInt64(e.flags)
            out.append(TLBEntry(virtualAddress: e.virtual, physicalAddress: e.physical, level: Int(e.level),
                                asid: e.asid, global: e.global, vmid: e.space == 0 ? nil : e.space & 0x7FFF,
                                readable: f & PTE.r != 0, writable: f & PTE.w != 0, executable: f & PTE.x != 0,
                                user: f & PTE.u != 0, accessed: f & PTE.a != 0, dirty: f & PTE.d != 0,
                                set: i / ways, way: i % ways))
        }
        return out
    }
}
