// Page types with reference counts: the VMM's record of what every frame of a para-virtual guest's
// RAM is, so that direct paging stays safe (the model is Xen's [X03] §3.3.2, "Physical Memory"):
// a frame is either *untyped* (ordinary memory, which may be mapped writable) or a *page table of
// level L* (Sv39: 2 = root, 1, 0; an Sv48 root is level 3). A frame's type is held while something
// references it as a table — a validated non-leaf entry of a table one level up, or a pin of a root — and the VMM checks
// the invariants when a type is taken:
//
// - a frame becomes a page table only while no validated leaf maps it writable, and a leaf may
//   map a page table only read-only, so the guest can change its tables only through `mmu_update`;
// - a frame has one level at a time, which also rules out loops (a table that contains itself).
//
// Per frame this is a few small integers, in chunks indexed by frame number that are created as
// the guest first uses their RAM: no hashing, and a large RAM costs nothing it does not use.

/// What the VMM knows about one frame of guest RAM.
public enum FrameType: Equatable, Sendable, CustomStringConvertible {
    case untyped
    /// A page table of this level (2 = an Sv39 root, 3 = an Sv48 root).
    case pageTable(level: Int)

    public var description: String {
        switch self {
        case .untyped: "untyped"
        case .pageTable(let level): "page_table_l\(level)"
        }
    }
}

/// The frame table of one domain: type, type references, pin and writable-mapping count of each
/// 4 KiB frame of its RAM.
public struct FrameTable: Sendable, Codable {
    public let ramBase: UInt64
    public let frames: Int

    /// One frame's record; its initial value is an untyped frame nobody maps.
    struct Frame: Sendable, Codable {
        /// -1 untyped, else the page-table level.
        var level: Int8 = -1
        /// References holding the type: validated non-leaf entries pointing here, plus one for a pin.
        var typeReferences: UInt32 = 0
        var pinned = false
        /// Validated leaves mapping the frame writable.
        var writableMappings: UInt32 = 0
    }

    /// Frames in chunks of `chunkFrames` (16 MiB of RAM), each created when one of its frames is
    /// first written: a domain's page tables and writable mappings touch a few chunks, so a large
    /// RAM costs nothing until it is used (1 TiB would otherwise be 2^28 records up front).
    static let chunkFrames = 4096
    private var chunks: [[Frame]?]

    /// The chunks whose records exist: what the table holds beyond one optional per chunk.
    var chunksInUse: Int { chunks.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    public init(ramBase: UInt64, ramSize: UInt64) {
        self.ramBase = ramBase
        frames = Int(ramSize >> 12)
        chunks = Array(repeating: nil, count: (frames + Self.chunkFrames - 1) / Self.chunkFrames)
    }

    private func record(_ frame: Int) -> Frame {
        chunks[frame / Self.chunkFrames]?[frame % Self.chunkFrames] ?? Frame()
    }

    private mutating func update<T, E: Error>(_ frame: Int, _ body: (inout Frame) throws(E) -> T) throws(E) -> T {
        let c = frame / Self.chunkFrames
        if chunks[c] == nil { chunks[c] = Array(repeating: Frame(), count: Self.chunkFrames) }
        return try body(&chunks[c]![frame % Self.chunkFrames])
    }

    /// The frame index of guest-physical `address`, or nil outside RAM.
    public func frame(of address: UInt64) -> Int? {
        guard address >= ramBase else { return nil }
        let index = (address - ramBase) >> 12
        return index < UInt64(frames) ? Int(index) : nil
    }

    public func address(of frame: Int) -> UInt64 { ramBase + UInt64(frame) << 12 }

    public func type(of frame: Int) -> FrameType {
        let level = record(frame).level
        return level < 0 ? .untyped : .pageTable(level: Int(level))
    }

    public func references(of frame: Int) -> UInt32 { record(frame).typeReferences }
    public func isPinned(_ frame: Int) -> Bool { record(frame).pinned }
    public func writableMappings(of frame: Int) -> UInt32 { record(frame).writableMappings }

    /// Frames currently typed as page tables (for statistics).
    public var pageTableFrames: Int { count { $0.level >= 0 } }
    public var pinnedFrames: Int { count { $0.pinned } }

    private func count(_ matching: (Frame) -> Bool) -> Int {
        chunks.reduce(0) { total, chunk in total + (chunk?.reduce(0) { $0 + (matching($1) ? 1 : 0) } ?? 0) }
    }

    // MARK: mutation (MMUUpdate.swift keeps the invariants)

    /// Takes a type reference; `true` when this made the frame a page table (its entries must now
    /// be validated), `false` when it already was one of `newLevel`. Throws when the type conflicts.
    mutating func takeType(_ frame: Int, level newLevel: Int) throws(HypercallError) -> Bool {
        try update(frame) { (f: inout Frame) throws(HypercallError) -> Bool in
            if f.typeReferences > 0 {
                guard Int(f.level) == newLevel else { throw .invalidState }
                f.typeReferences &+= 1
                return false
            }
            // Becoming a page table while a writable mapping exists would let the guest write it
            // behind the VMM's back.
            guard f.writableMappings == 0 else { throw .denied }
            f.level = Int8(newLevel)
            f.typeReferences = 1
            return true
        }
    }

    /// Drops a type reference; `true` when it was the last (the frame is untyped again and its
    /// entries' references must be dropped).
    mutating func dropType(_ frame: Int) -> Bool {
        precondition(record(frame).typeReferences > 0, "dropping an untaken page type")
        return update(frame) { f in
            f.typeReferences &-= 1
            guard f.typeReferences == 0 else { return false }
            f.level = -1
            return true
        }
    }

    mutating func setPinned(_ frame: Int, _ value: Bool) { update(frame) { $0.pinned = value } }

    /// Whether a writable mapping of `frame` may be taken (it is not a page table).
    func mayMapWritable(_ frame: Int) -> Bool { record(frame).typeReferences == 0 }

    mutating func addWritableMapping(_ frame: Int) { update(frame) { $0.writableMappings &+= 1 } }
    mutating func removeWritableMapping(_ frame: Int) {
        update(frame) { if $0.writableMappings > 0 { $0.writableMappings &-= 1 } }
    }
}

extension FrameTable {
    /// Whether the table has this shape (a snapshot file's may not): its chunks cover `frames`,
    /// each is whole, and every level is a page table's (up to an Sv48 root) or untyped.
    var isWellFormed: Bool {
        chunks.count == (frames + Self.chunkFrames - 1) / Self.chunkFrames
            && chunks.allSatisfy { chunk in chunk.map { $0.count == Self.chunkFrames && $0.allSatisfy { (-1...3).contains($0.level) } } ?? true }
    }
}
