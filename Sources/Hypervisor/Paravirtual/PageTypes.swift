// Page types with reference counts: the VMM's record of what every frame of a para-virtual guest's
// RAM is, so that direct paging stays safe (the model is Xen's [X03] §3.3.2, "Physical Memory"):
// a frame is either *untyped* (ordinary memory, which may be mapped writable) or a *page table of
// level L* (Sv39: 2 = root, 1, 0). A frame's type is held while something references it as a table
// — a validated non-leaf entry of a table one level up, or a pin of a root — and the VMM checks
// the invariants when a type is taken:
//
// - a frame becomes a page table only while no validated leaf maps it writable, and a leaf may
//   map a page table only read-only, so the guest can change its tables only through `mmu_update`;
// - a frame has one level at a time, which also rules out loops (a table that contains itself).
//
// Per frame this is three small integers in flat arrays indexed by frame number: no hashing, no
// allocation after the domain is built.

/// What the VMM knows about one frame of guest RAM.
public enum FrameType: Equatable, Sendable, CustomStringConvertible {
    case untyped
    /// A page table of this Sv39 level (2 = root).
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
public struct FrameTable: Sendable {
    public let ramBase: UInt64
    public let frames: Int
    /// -1 untyped, else the page-table level.
    private var level: [Int8]
    /// References holding the type: validated non-leaf entries pointing here, plus one for a pin.
    private var typeReferences: [UInt32]
    private var pinned: [Bool]
    /// Validated leaves mapping the frame writable.
    private var writableMappings: [UInt32]

    public init(ramBase: UInt64, ramSize: UInt64) {
        self.ramBase = ramBase
        frames = Int(ramSize >> 12)
        level = Array(repeating: -1, count: frames)
        typeReferences = Array(repeating: 0, count: frames)
        pinned = Array(repeating: false, count: frames)
        writableMappings = Array(repeating: 0, count: frames)
    }

    /// The frame index of guest-physical `address`, or nil outside RAM.
    public func frame(of address: UInt64) -> Int? {
        guard address >= ramBase else { return nil }
        let index = (address - ramBase) >> 12
        return index < UInt64(frames) ? Int(index) : nil
    }

    public func address(of frame: Int) -> UInt64 { ramBase + UInt64(frame) << 12 }

    public func type(of frame: Int) -> FrameType {
        level[frame] < 0 ? .untyped : .pageTable(level: Int(level[frame]))
    }

    public func references(of frame: Int) -> UInt32 { typeReferences[frame] }
    public func isPinned(_ frame: Int) -> Bool { pinned[frame] }
    public func writableMappings(of frame: Int) -> UInt32 { writableMappings[frame] }

    /// Frames currently typed as page tables (for statistics).
    public var pageTableFrames: Int { level.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }
    public var pinnedFrames: Int { pinned.reduce(0) { $0 + ($1 ? 1 : 0) } }

    // MARK: mutation (MMUUpdate.swift keeps the invariants)

    /// Takes a type reference; `true` when this made the frame a page table (its entries must now
    /// be validated), `false` when it already was one of `newLevel`. Throws when the type conflicts.
    mutating func takeType(_ frame: Int, level newLevel: Int) throws(HypercallError) -> Bool {
        if typeReferences[frame] > 0 {
            guard Int(level[frame]) == newLevel else { throw .invalidState }
            typeReferences[frame] &+= 1
            return false
        }
        // Becoming a page table while a writable mapping exists would let the guest write it
        // behind the VMM's back.
        guard writableMappings[frame] == 0 else { throw .denied }
        level[frame] = Int8(newLevel)
        typeReferences[frame] = 1
        return true
    }

    /// Drops a type reference; `true` when it was the last (the frame is untyped again and its
    /// entries' references must be dropped).
    mutating func dropType(_ frame: Int) -> Bool {
        precondition(typeReferences[frame] > 0, "dropping an untaken page type")
        typeReferences[frame] &-= 1
        if typeReferences[frame] == 0 {
            level[frame] = -1
            return true
        }
        return false
    }

    mutating func setPinned(_ frame: Int, _ value: Bool) { pinned[frame] = value }

    /// Whether a writable mapping of `frame` may be taken (it is not a page table).
    func mayMapWritable(_ frame: Int) -> Bool { typeReferences[frame] == 0 }

    mutating func addWritableMapping(_ frame: Int) { writableMappings[frame] &+= 1 }
    mutating func removeWritableMapping(_ frame: Int) {
        if writableMappings[frame] > 0 { writableMappings[frame] &-= 1 }
    }
}
