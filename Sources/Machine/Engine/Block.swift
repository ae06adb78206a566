import RISCV

// Translated blocks for the block engine (`ExecutionEngine.blocks`): a straight run of decoded
// instructions of one physical code page, copied into a compact array so the engine executes it
// without re-locating each instruction, checking the page bound or the budget per instruction.
//
// Blocks depend only on the bytes of their physical page (every instruction's meaning is fixed by
// its bits; pc-relative operands are applied to the virtual pc at run time), so a block serves
// every virtual mapping, privilege and satp under which its page is fetched. The fetch path that
// finds the page (`refillFetch`: translation, PMP, fetch counters) is the interpreter's, unchanged.
//
// Memory: each decoded page carries a block table (one entry per halfword offset: the live block
// starting there) and an arena the page's blocks are bump-allocated in. Blocks are never freed one
// by one: an invalidated block is marked dead (`count == 0`), so a chain link to it sees the
// change with one load; whole arenas are retired to a graveyard that
// the engine empties when no block is executing (at the start of a slice).

/// The header of a block; `count` decoded instructions follow it in the arena.
struct BlockHeader {
    /// Live instructions; 0 once the block is invalidated (a chain link to it is then not taken).
    /// A store that kills the running block ends the slice after it (`Hart.noteWrite`).
    var count: Int32
    /// Instructions the block was built with (the arena space it uses).
    var built: Int32
    /// Page offset of the first instruction and of the byte after the last one.
    var start: UInt16
    var end: UInt16
    /// Page offset of the last instruction's static target (branch or jal), or `noTarget`.
    var target: UInt16
    /// The native-code engine's state of this block (JIT.swift): a count of executions in Swift,
    /// `JIT.uncompilable`, or `JIT.compiledBit | index` of its compiled code. 0 for the others.
    var jit: UInt16 = 0
    /// Chain links: the block at `end` (fall-through) and the block at `target`, when known.
    var fall: UnsafeMutablePointer<BlockHeader>?
    var taken: UnsafeMutablePointer<BlockHeader>?

    static let noTarget: UInt16 = 0xFFFF
    /// Bytes of a block with `n` instructions.
    static func size(_ n: Int) -> Int { MemoryLayout<BlockHeader>.stride + n * MemoryLayout<DecodedOp>.stride }
}

typealias BlockRef = UnsafeMutablePointer<BlockHeader>

extension UnsafeMutablePointer where Pointee == BlockHeader {
    /// The block's instructions.
    @inline(__always)
    var ops: UnsafeMutablePointer<DecodedOp> {
        UnsafeMutableRawPointer(self).advanced(by: MemoryLayout<BlockHeader>.stride)
            .assumingMemoryBound(to: DecodedOp.self)
    }
}

/// The arena of one page's blocks (stored after the page's block table).
struct BlockArena {
    var chunk: UnsafeMutableRawPointer? = nil
    var used: Int = 0
    var capacity: Int = 0
}

/// Layout of a decoded page: 2048 decoded slots, the sentinel slot, 2048 block-table entries, the
/// arena header.
///
/// The sentinel (slot 2048, never written after allocation) is a marker: the interpreter steps its
/// slot pointer past the page's last instruction onto it, and so leaves the page through its slow
/// path without testing the page bound on every instruction.
enum CodePageLayout {
    static let slots = DecodedCode.slotsPerPage
    static let tableOffset = (slots + 1) * MemoryLayout<DecodedOp>.stride
    static let arenaOffset = tableOffset + slots * MemoryLayout<BlockRef?>.stride
    static let bytes = arenaOffset + MemoryLayout<BlockArena>.stride
    static let alignment = 16

    @inline(__always)
    static func table(_ ops: UnsafeMutablePointer<DecodedOp>) -> UnsafeMutablePointer<BlockRef?> {
        UnsafeMutableRawPointer(ops).advanced(by: tableOffset).assumingMemoryBound(to: BlockRef?.self)
    }

    @inline(__always)
    static func arena(_ ops: UnsafeMutablePointer<DecodedOp>) -> UnsafeMutablePointer<BlockArena> {
        UnsafeMutableRawPointer(ops).advanced(by: arenaOffset).assumingMemoryBound(to: BlockArena.self)
    }

    /// A new page: every slot `fill`, an empty block table and arena.
    static func allocate(fill: DecodedOp) -> UnsafeMutablePointer<DecodedOp> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: alignment)
        let ops = raw.bindMemory(to: DecodedOp.self, capacity: slots + 1)
        ops.initialize(repeating: fill, count: slots)
        (ops + slots).initialize(to: DecodedOp(opcode: .illegal, length: 0, raw: SlotMarker.pageEnd))
        raw.advanced(by: tableOffset).bindMemory(to: BlockRef?.self, capacity: slots)
            .initialize(repeating: nil, count: slots)
        raw.advanced(by: arenaOffset).bindMemory(to: BlockArena.self, capacity: 1).initialize(to: BlockArena())
        return ops
    }
}

/// Statistics of the block engine (host-side, not architectural).
public struct BlockEngineCounters: Sendable, Equatable {
    /// Blocks built (translated).
    public var blocksBuilt: UInt64 = 0
    /// Blocks invalidated by stores to their bytes (or dropped with a full arena or a reset).
    public var blocksInvalidated: UInt64 = 0
    /// Block entries through a chain link (no table lookup).
    public var chained: UInt64 = 0
    /// Block executions (entries through links, through the page's table, and of blocks just
    /// built); `entered - blocksBuilt` are the cache hits. The native-code engine counts them,
    /// compiled code's included (and its patched jumps taken in `chained`), only while a
    /// translator is installed: its translation cache is the block cache.
    public var entered: UInt64 = 0
    public init() {}
}
