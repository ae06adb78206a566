#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The native-code engine's machine-wide part (`ExecutionEngine.jit`): an executable code arena,
// the table of compiled blocks, and the entry trampoline generated code runs under. The block
// engine's blocks (Block.swift) are compiled to x86-64 once they are hot (JITCompiler.swift); the
// run loop (Hart+JIT.swift) enters them and follows what they return.
//
// Where compiled code lives: a block's `jit` field (Block.swift) holds its JIT state — below
// `JIT.uncompilable` a count of executions in Swift, `JIT.uncompilable` when its first
// instruction cannot be compiled (or its code is not worth entering from Swift), and `0x8000 | index` once compiled, `index` naming an entry of
// `entries` that records the block's address and its code. The entry is valid only while it still
// names the block (the table is reset when the arena fills), so a stale index is harmless. The
// state dies with the block: a block built again after a store starts at 0.
//
// Safety: generated code reads and writes only the hart's register file, the context below, the
// soft TLB entries and guest RAM through a soft-TLB hit
// (tag compare + addend, exactly as `Hart.load`/`store`); everything else is a call into Swift.

/// What generated code and the Swift side exchange (one per hart). Generated code addresses the
/// fields at their `MemoryLayout.offset`, so the layout is whatever Swift chooses.
struct JITContext {
    var regs: UnsafeMutablePointer<UInt64>
    /// Virtual base of the page the compiled blocks belong to (constant during a native run).
    var fetchBase: UInt64 = 0
    /// `SliceCounts` and the slice's `remaining`, handed over on entry and exit.
    var pending: UInt64 = 0
    var left: UInt64 = 0
    var loadHits: UInt64 = 0
    var storeHits: UInt64 = 0
    var loadTLB: UnsafeMutablePointer<SoftTLBEntry>
    var storeTLB: UnsafeMutablePointer<SoftTLBEntry>
    /// On exit: the next pc; for `partial`, the block and the index of the instruction to run in
    /// Swift; for `boundary`, the address of the rel32 of the jump that led out (0 if none).
    var pc: UInt64 = 0
    var block: UnsafeMutableRawPointer? = nil
    var index: UInt64 = 0
    var linkSite: UInt64 = 0
    /// The hart (unretained), for the slow-path helpers.
    var hart: UnsafeMutableRawPointer
    /// Instructions of compiled code entered (statistics).
    var nativeInstructions: UInt64 = 0
    /// `jalr`s that went straight to their target's compiled code (statistics).
    var indirectLinks: UInt64 = 0
    /// Blocks executed in compiled code, and of those the ones reached through a patched jump
    /// from the block before: the block cache's entries and chained entries, as
    /// `BlockEngineCounters` counts them for blocks run in Swift.
    var nativeBlocks: UInt64 = 0
    var nativeLinks: UInt64 = 0

    static func offset(_ k: PartialKeyPath<JITContext>) -> Int32 {
        Int32(MemoryLayout<JITContext>.offset(of: k)!)
    }
}

/// How a native run ended (the value generated code returns).
enum JITExit: UInt64 {
    /// At a block boundary: every block entered ran to its end; `pc` is where to go on.
    case boundary = 0
    /// Before instruction `index` of `block`, which compiled code does not handle.
    case partial = 1
    /// An instruction ended the slice on a slow path, counts committed and `state.pc` set.
    case settledExit = 2
    /// An instruction trapped on a slow path, settled.
    case settledTrap = 3
}

/// Statistics of the native-code engine (host-side, not architectural).
public struct JITCounters: Sendable, Equatable {
    /// Blocks compiled to host code.
    public var blocksCompiled: UInt64 = 0
    /// Guest instructions compiled.
    public var instructionsCompiled: UInt64 = 0
    /// Hot blocks whose first instruction cannot be compiled (they stay with the block engine).
    public var blocksNotCompilable: UInt64 = 0
    /// Entries into compiled code from Swift.
    public var nativeEntries: UInt64 = 0
    /// Guest instructions started in compiled code (those before an early exit or a partial end).
    public var nativeInstructions: UInt64 = 0
    /// Jumps between compiled blocks patched to go directly (no return to Swift).
    public var linksPatched: UInt64 = 0
    /// `jalr`s (returns, indirect calls and jumps) that found their target's compiled code in
    /// the page's block table and went there without returning to Swift.
    public var indirectLinks: UInt64 = 0
    /// Times the code arena or the block table filled and everything compiled was dropped.
    public var flushes: UInt64 = 0
    public init() {}
}

/// The machine-wide native-code engine: code arena, compiled-block table, entry trampoline.
final class JIT {
    typealias Entry = @convention(c) (UnsafeMutableRawPointer, UnsafeRawPointer) -> UInt64

    /// Executions in Swift after which a block is compiled (tests set 1).
    var threshold: UInt16 = 16
    /// Whether block executions are counted (`Machine.blockEngineCounters`), in compiled code
    /// and in Swift: while a translator is installed, whose translation cache the block cache
    /// is (`bt`). Two memory increments per compiled block cost a tight loop a fifth of its
    /// speed, so other runs leave them out. Set with the translator, which drops every block.
    var countsBlocks = false
    /// Compiled blocks held before everything is flushed (at most `maxEntries`; tests set a few,
    /// so that flushes happen all the time).
    var entryLimit = JIT.maxEntries
    static let uncompilable: UInt16 = 0x7FFF
    static let compiledBit: UInt16 = 0x8000
    static let maxEntries = 0x7FFF

    let arena: UnsafeMutableRawPointer
    let capacity: Int
    /// Bytes used; the trampoline occupies the start.
    var used: Int = 0
    /// Bumped on every flush, so a link site read before a flush is never patched after it.
    var generation: UInt64 = 0
    /// A compiled block: its address, its code, and how many of its entries from Swift ran only
    /// a few instructions natively (see `worthEntering`).
    struct Compiled {
        var block: UnsafeMutableRawPointer?
        var code: UInt
        var shortRuns: UInt32
    }
    let entries: UnsafeMutablePointer<Compiled>
    /// Entries from Swift that ran fewer than `shortRun` instructions natively after which a
    /// block is no longer entered from Swift (its `jit` field becomes `uncompilable`; it still runs
    /// natively where compiled code already jumps to it). Leaving
    /// Swift for native code and coming back costs about as much as a few instructions run by
    /// `execute`, so a block that always returns at once — two instructions between two traps,
    /// as in a trap loop — is faster left to the block engine.
    static let shortRun: UInt64 = 4
    static let shortRunLimit: UInt32 = 64
    var entryCount = 0
    let enter: Entry
    let epilogue: UInt
    var counters = JITCounters()
    /// Per-hart contexts (64 at most: the machine's limit).
    let contexts: UnsafeMutablePointer<JITContext>
    let contextCount: Int

    /// A native-code engine, or nil on a host that is not x86-64 or cannot map executable memory
    /// (the machine then runs the block engine).
    static func make(harts: Int) -> JIT? {
        #if arch(x86_64)
        let size = 32 << 20
        // Readable, writable and executable at once: the arena is patched while linking blocks.
        // MAP_NORESERVE: only the pages written take memory.
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE | PROT_EXEC,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              p != MAP_FAILED else { return nil }
        return JIT(arena: p, capacity: size, harts: harts)
        #else
        return nil
        #endif
    }

    private init(arena: UnsafeMutableRawPointer, capacity: Int, harts: Int) {
        self.arena = arena
        self.capacity = capacity
        entries = .allocate(capacity: JIT.maxEntries)
        entries.initialize(repeating: Compiled(block: nil, code: 0, shortRuns: 0), count: JIT.maxEntries)
        contextCount = harts
        contexts = .allocate(capacity: harts)
        // The trampoline: enter(ctx, code) saves the callee-saved registers (System V AMD64 ABI),
        // loads the pinned ones — rbx = x registers, r12 = context, rbp = fetch page base,
        // r14 = pending, r15 = slice budget left — and jumps to `code`. Generated code leaves
        // through `epilogue` with the JITExit in eax. The stack stays 16-byte aligned inside (the
        // return address and five pushes), so generated code may call Swift directly.
        var a = X86Assembler(origin: UInt(bitPattern: arena))
        for r in [X86Reg.rbx, .rbp, .r12, .r14, .r15] { a.push(r) }
        a.mov(.r12, .rdi)
        a.load(.rbx, X86Mem(.r12, JITContext.offset(\.regs)))
        a.load(.rbp, X86Mem(.r12, JITContext.offset(\.fetchBase)))
        a.load(.r14, X86Mem(.r12, JITContext.offset(\.pending)))
        a.load(.r15, X86Mem(.r12, JITContext.offset(\.left)))
        a.jmp(.rsi)
        let epilogueAt = a.position
        for r in [X86Reg.r15, .r14, .r12, .rbp, .rbx] { a.pop(r) }
        a.ret()
        a.finish()
        arena.copyMemory(from: a.bytes, byteCount: a.bytes.count)
        used = (a.bytes.count + 63) & ~63
        epilogue = UInt(bitPattern: arena) + UInt(epilogueAt)
        enter = unsafeBitCast(arena, to: Entry.self)
    }

    deinit {
        munmap(arena, capacity)
        entries.deallocate()
        contexts.deallocate()
    }

    /// Drops all compiled code (the arena or the table is full). Only between native runs.
    func flush() {
        for i in 0..<entryCount { entries[i] = Compiled(block: nil, code: 0, shortRuns: 0) }
        entryCount = 0
        used = JIT.trampolineBytes(self)
        generation &+= 1
        counters.flushes &+= 1
    }

    private static func trampolineBytes(_ j: JIT) -> Int {
        (Int(j.epilogue - UInt(bitPattern: j.arena)) + 16 + 63) & ~63
    }

    /// The index in `entries` of live block `b`'s compiled code, if it has some.
    @inline(__always)
    func index(_ b: BlockRef) -> Int? {
        let tag = b.pointee.jit
        guard tag & JIT.compiledBit != 0 else { return nil }
        let i = Int(tag & ~JIT.compiledBit)
        guard entries[i].block == UnsafeMutableRawPointer(b) else {
            b.pointee.jit = 0   // compiled before a flush: count again from zero
            return nil
        }
        return i
    }

    /// The compiled code of live block `b`, if it has some.
    @inline(__always)
    func code(_ b: BlockRef) -> UInt? { index(b).map { entries[$0].code } }

    /// Installs code for `b` (bytes assembled at the arena's current end).
    func install(_ b: BlockRef, _ bytes: [UInt8], instructions: Int) -> Int {
        let at = arena + used
        at.copyMemory(from: bytes, byteCount: bytes.count)
        used = (used + bytes.count + 15) & ~15
        entries[entryCount] = Compiled(block: UnsafeMutableRawPointer(b), code: UInt(bitPattern: at), shortRuns: 0)
        b.pointee.jit = JIT.compiledBit | UInt16(entryCount)
        entryCount += 1
        counters.blocksCompiled &+= 1
        counters.instructionsCompiled &+= UInt64(instructions)
        return entryCount - 1
    }

    /// Room for one more block: flushes when the table or the arena (with a margin larger than
    /// any block's code) is full. Returns the address the next block's code will start at.
    func reserve() -> UInt {
        if entryCount >= min(entryLimit, JIT.maxEntries) || capacity - used < 256 << 10 { flush() }
        return UInt(bitPattern: arena) + UInt(used)
    }

    /// Makes the jump whose rel32 is at `site` go to `target` (both in the arena).
    func patch(site: UInt, to target: UInt) {
        let rel = Int64(bitPattern: UInt64(target)) &- Int64(bitPattern: UInt64(site &+ 4))
        UnsafeMutableRawPointer(bitPattern: site)!.storeBytes(of: Int32(truncatingIfNeeded: rel), as: Int32.self)
        counters.linksPatched &+= 1
    }
}

extension JIT {
    /// A statistic compiled code keeps per hart in its context, summed over the harts (read
    /// for reports, not on a hot path).
    func contextTotal(_ counter: KeyPath<JITContext, UInt64>) -> UInt64 {
        (0..<contextCount).reduce(0) { $0 &+ contexts[$1][keyPath: counter] }
    }

    /// The block executions compiled code counted, and of those the ones through a patched link.
    var blockEntries: (entered: UInt64, chained: UInt64) {
        (contextTotal(\.nativeBlocks), contextTotal(\.nativeLinks))
    }
}

extension Machine {
    /// Statistics of the native-code engine (nil unless the machine runs `ExecutionEngine.jit`
    /// on a host where it is available).
    public var jitCounters: JITCounters? {
        guard let j = harts.first?.jit else { return nil }
        var c = j.counters
        c.nativeInstructions &+= j.contextTotal(\.nativeInstructions)
        c.indirectLinks &+= j.contextTotal(\.indirectLinks)
        return c
    }

    /// The engine that actually runs: `.jit` falls back to `.blocks` where native code is not
    /// available.
    public var effectiveEngine: ExecutionEngine {
        switch configuration.engine {
        case .jit: harts.first?.jit != nil ? .jit : .blocks
        case let e: e
        }
    }
}
