#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RISCV

// The block engine: runs translated blocks (Block.swift) instead of locating every instruction in
// the fetch page. Per instruction it does only what the instruction means (`execute`, the same
// inlined function the interpreter runs, so both engines share one definition of every
// instruction) plus the loop test and count; the page bound, the budget and the next-instruction lookup are
// paid once per block. Blocks are chained: the end of a block follows a direct link to the block
// at its fall-through or static branch target (validated by one load of the target's `count`),
// falling back to the page's block table, then to building the block.
//
// Exactness: a block ends after every control transfer and every SYSTEM instruction that always
// ends the slice; a block is entered only for as many instructions as the budget allows (the rest
// run from the same block next slice); every instruction's flow (`.exit`, `.trapped`) is handled
// as the interpreter handles it and the counts are committed by the same `SliceCounts`, so
// interrupt points, device deadlines and breakpoints (limit 1) fall on the same instructions in
// both engines. Where a slice ends and the run loop would only start the next one, the engine goes
// on itself (`Machine.continueTurn`, which applies the run loop's rules). A store that overwrites
// bytes of a live block kills it (`count = 0`) and ends the slice after that store
// (`Hart.noteWrite`), so the next instruction is decoded from the new bytes, as in the
// interpreter. The lockstep tests compare both engines at every block end.

/// Which engine runs guest code.
public enum ExecutionEngine: Sendable, Equatable {
    /// One instruction at a time from the pre-decoded page cache.
    case interpreter
    /// Translated blocks, chained.
    case blocks
    /// Translated blocks compiled to host code once hot (x86-64 hosts; elsewhere, or when no
    /// executable memory can be mapped, the machine runs `.blocks`). See Engine/JIT.
    case jit

    /// The default engine: `.jit` (which runs `.blocks` where it cannot compile), unless the
    /// environment variable `VMLAB_ENGINE` says `interpreter` or `blocks` (so `scripts/bench` can
    /// time every engine with the same `vmlab` binary, and a user can rule the compiler out). The
    /// native-code engine is the default because it is exact — the lockstep tests compare it with
    /// the interpreter at every block end, and the whole test suite and every lab pass under it —
    /// and about nine times the interpreter's speed on CPU-bound code (see the Engine article).
    public static let standard: ExecutionEngine = {
        guard let v = getenv("VMLAB_ENGINE") else { return .jit }
        switch String(cString: v) {
        case "interpreter": return .interpreter
        case "blocks": return .blocks
        default: return .jit
        }
    }()
}

extension Hart {
    /// Longest block: long enough that the per-block costs vanish, short enough that a budget cut
    /// mid-block is rare.
    static let maxBlockLength = 128

    /// Instructions after which a block ends: control transfers, the SYSTEM instructions that
    /// always end the slice (what follows them is reached by a new lookup anyway), and `.illegal`
    /// (an illegal instruction always traps; a translator's callout always ends the slice). CSR accesses
    /// do not end a block: the engine leaves it when one returns `.exit` (measured on the ecall
    /// bench: 7 blocks per iteration → 4, host instructions 5.09 G → 4.48 G).
    @inline(__always)
    static func endsBlock(_ op: Opcode) -> Bool {
        switch op {
        case .jal, .jalr, .beq, .bne, .blt, .bge, .bltu, .bgeu,
             .ecall, .ebreak, .mret, .sret, .wfi, .sfence_vma, .illegal:
            true
        default:
            false
        }
    }

    /// Builds the block starting at page offset `offset` of decoded page `page` (physical `phys`),
    /// or nil when the slot there cannot start one (a marker: refill, or a 32-bit instruction
    /// crossing the page end), which the interpreter's `fetchSlow` handles.
    @inline(never)
    func buildBlock(_ page: UnsafeMutablePointer<DecodedOp>, phys: UInt64, offset: Int) -> BlockRef? {
        var n = 0
        var o = offset
        var last = offset
        while o < 4096 && n < Hart.maxBlockLength {
            var op = page[o >> 1]
            if op.opcode == .illegal && op.length == 0 {
                guard op.raw == SlotMarker.undecoded, decodeSlot(page, phys: phys, offset: o) else { break }
                op = page[o >> 1]
            }
            n += 1
            last = o
            o += Int(op.length)
            if Hart.endsBlock(op.opcode) { break }
        }
        guard n > 0 else { return nil }
        let b = code.allocateBlock(page, count: n)
        let ops = b.ops
        var at = offset
        for i in 0..<n {
            let op = page[at >> 1]
            (ops + i).initialize(to: op)
            at += Int(op.length)
        }
        let lastOp = page[last >> 1]
        var target = BlockHeader.noTarget
        switch lastOp.opcode {
        case .jal, .beq, .bne, .blt, .bge, .bltu, .bgeu:
            let t = last + Int(lastOp.imm)
            if t >= 0 && t < 4096 { target = UInt16(t) }
        default:
            break
        }
        b.initialize(to: BlockHeader(count: Int32(n), built: Int32(n), start: UInt16(offset), end: UInt16(o),
                                     target: target, fall: nil, taken: nil))
        CodePageLayout.table(page)[offset >> 1] = b
        if code.translating {
            noteBlockBuilt(physical: phys | UInt64(offset), instructions: n)
            // Should the translator have dropped it at once, its slots are decoded afresh.
            if b.pointee.count == 0 { return nil }
        }
        return b
    }

    /// The live block at page offset `offset` of the current fetch page, built if need be.
    @inline(__always)
    func block(_ table: UnsafeMutablePointer<BlockRef?>, _ page: UnsafeMutablePointer<DecodedOp>, _ offset: UInt64) -> BlockRef? {
        if let b = table[Int(truncatingIfNeeded: offset >> 1)] { return b }
        return buildBlock(page, phys: state.pointee.fetchPhys, offset: Int(truncatingIfNeeded: offset))
    }

    /// Runs up to `limit` instructions of this hart from translated blocks. Returns the number
    /// retired. Same contract as `runSlice`, except that after an instruction that ends the slice
    /// the engine asks the run loop (`Machine.continueTurn`) whether the next slice may start at
    /// once, and if so goes on with the new limit instead of returning.
    @inline(never)
    func runBlocks(limit: UInt64) -> UInt64 {
        runSlices(limit: limit, startSlice: { _, _ in }) { b, pc, fetchBase, table, x, loadTLB, storeTLB, c, remaining, chained in
            runChain(b, &pc, fetchBase, table, x, loadTLB, storeTLB, &c, &remaining, &chained)
        }
    }

    /// The block engine's slices, shared with the native-code engine (`runJIT`): finds the block
    /// at pc (built if need be) and hands it to `chain`, which runs it and its successors (as
    /// `runChain` does); everything outside blocks goes through the interpreter's slow path.
    /// `startSlice` is told each slice's soft-TLB views. Inlined into both engines, so each has
    /// its own loop with its chain call direct.
    @inline(__always)
    func runSlices(limit: UInt64,
                   startSlice: (UnsafeMutablePointer<SoftTLBEntry>, UnsafeMutablePointer<SoftTLBEntry>) -> Void,
                   chain: (BlockRef, inout UInt64, UInt64, UnsafeMutablePointer<BlockRef?>, UnsafeMutablePointer<UInt64>,
                           UnsafeMutablePointer<SoftTLBEntry>, UnsafeMutablePointer<SoftTLBEntry>,
                           inout SliceCounts, inout UInt64, inout UInt64) -> Flow) -> UInt64 {
        // No block is executing now: arenas retired since the last slice can go.
        if !code.graveyard.isEmpty { Unmanaged.passUnretained(code)._withUnsafeGuaranteedRef { $0.collect() } }
        let s = state
        let x = s.pointee.regs
        var limit = limit
        var retired: UInt64 = 0
        var remaining = limit
        var c = SliceCounts()
        var chained: UInt64 = 0
        defer { code.blockCounters.chained &+= chained }
        // Each pass of `slice` is one slice: the state it caches is constant within a slice.
        slice: while true {
            let dp = Hart.privIndex(s.pointee.dataPriv)
            let loadTLB = s.pointee.soft + dp * 3 * softTLBSize
            let storeTLB = loadTLB + softTLBSize
            startSlice(loadTLB, storeTLB)
            var pc = s.pointee.pc
            var fetchBase = s.pointee.fetchBase
            var page = s.pointee.fetchOps
            var table = CodePageLayout.table(page)
            s.pointee.exitSlice = .none
            while c.pending < remaining {
                let off = pc &- fetchBase
                guard off < 4096, let b = block(table, page, off) else {
                    // Not in the page, or a slot no block can start at: the interpreter's slow path.
                    // (Nothing to commit right after a slice restart; skipping it avoids reloading
                    // counts runChain just stored.)
                    if c.pending != 0 || c.loadHits != 0 || c.storeHits != 0 || s.pointee.prefetchedFetch != 0 { commit(&c, &remaining) }
                    s.pointee.pc = pc
                    let before = s.pointee.instret
                    let slow = fetchSlow()
                    remaining &-= min(remaining, s.pointee.instret &- before)
                    if slow != .next {
                        if nextSlice(&limit, &remaining, &retired) != nil { continue slice }
                        return retired &+ limit &- remaining
                    }
                    fetchBase = s.pointee.fetchBase
                    page = s.pointee.fetchOps
                    table = CodePageLayout.table(page)
                    pc = s.pointee.pc
                    x[0] = 0
                    continue
                }
                switch chain(b, &pc, fetchBase, table, x, loadTLB, storeTLB, &c, &remaining, &chained) {
                case .next, .jumped:
                    break
                case .exit, .trapped:
                    // The chain committed the counts and set `state.pc`.
                    if nextSlice(&limit, &remaining, &retired) != nil { continue slice }
                    return retired &+ limit &- remaining
                case .marker:
                    // Blocks hold no markers; should one appear, the slice ends before it.
                    s.pointee.pc = pc
                    commit(&c, &remaining)
                    return retired &+ limit &- remaining
                }
            }
            s.pointee.pc = pc
            commit(&c, &remaining)
            return retired &+ limit &- remaining
        }
    }

    /// Runs block `first` and the blocks it chains to, within the slice's budget, until an
    /// instruction does not simply go on (its flow is returned: `.exit`, `.trapped`, with the
    /// counts committed and `state.pc` set as the interpreter does), the budget
    /// is used up, or the successor is not translated yet (`.next`; `pc` is where to go on). The
    /// hot loop of the engine, in a function of its own so that `execute` is inlined into it
    /// (inlined into `runBlocks` it was not) and its state stays in registers.
    @inline(never)
    func runChain(_ first: BlockRef, _ pc: inout UInt64, _ fetchBase: UInt64, _ table: UnsafeMutablePointer<BlockRef?>,
                  _ x: UnsafeMutablePointer<UInt64>,
                  _ loadTLB: UnsafeMutablePointer<SoftTLBEntry>, _ storeTLB: UnsafeMutablePointer<SoftTLBEntry>,
                  _ c: inout SliceCounts, _ remaining: inout UInt64, _ chained: inout UInt64) -> Flow {
        var resume: BlockRef? = nil
        var links: UInt64 = 0
        // Blocks entered from the cache: this one and every successor (a link or a table lookup).
        var entered: UInt64 = 1
        defer { chained &+= links; code.blockCounters.entered &+= entered }
        return chainLoop(first, 0, &resume, &pc, fetchBase, table, x, loadTLB, storeTLB, &c, &remaining, &links, &entered) { _ in true }
    }

    /// The chain loop of the block engine (`runChain`) and of the native-code engine's Swift part
    /// (`runSwiftChain`): runs block `first` from instruction `start`, then each successor
    /// `follow` accepts (counted in `entered`); one it refuses is returned in `resume`, flow
    /// `.next`. Inlined into each, so that `execute` is inlined into a loop of its own.
    @inline(__always)
    func chainLoop(_ first: BlockRef, _ start: Int, _ resume: inout BlockRef?, _ pc: inout UInt64, _ fetchBase: UInt64,
                   _ table: UnsafeMutablePointer<BlockRef?>, _ x: UnsafeMutablePointer<UInt64>,
                   _ loadTLB: UnsafeMutablePointer<SoftTLBEntry>, _ storeTLB: UnsafeMutablePointer<SoftTLBEntry>,
                   _ c: inout SliceCounts, _ remaining: inout UInt64, _ links: inout UInt64, _ entered: inout UInt64,
                   follow: (BlockRef) -> Bool) -> Flow {
        var b = first
        var k = start
        var p = pc
        var counts = c
        var left = remaining
        defer { pc = p; c = counts; remaining = left }
        while true {
            // (After a partial native run, b is the block compiled code stopped in, which may be
            // a successor of the one entered; the budget covers the rest of it.)
            let count = Int(b.pointee.count)
            let budget = left &- counts.pending
            let rest = UInt64(count &- k)
            let n = budget < rest ? k &+ Int(truncatingIfNeeded: budget) : count
            // A store that kills this block (or any translated code) ends the slice after it
            // (`Hart.noteWrite`, flow `.exit`), so the loop need not re-read `count`.
            let ops = b.ops
            repeat {
                let flow = execute(ops + k, &p, x, loadTLB, storeTLB, &counts, &left)
                // (`.jumped` only ends a block; the chain finds the successor from the pc.)
                guard flow == .next || flow == .jumped else {
                    // Settle here, while the counts are in registers (committing them in the
                    // caller reloaded them with a wide load right after this function's narrow
                    // stores: a store-forwarding stall, 40% of `runBlocks`' samples on the ecall bench).
                    switch flow {
                    case .exit:
                        x[0] = 0
                        counts.pending &+= 1
                        state.pointee.pc = p
                        commit(&counts, &left)
                    case .trapped:
                        x[0] = 0
                        state.pointee.prefetchedFetch = 0   // its fetch was committed; nothing retires
                        commit(&counts, &left)
                    default:
                        break
                    }
                    return flow
                }
                counts.pending &+= 1
                k &+= 1
            } while k < n
            if recordBlockEnds { noteBlockEnd(counts.pending) }
            // Chain when the whole block ran, is still alive, and budget is left.
            guard k == Int(b.pointee.built) && b.pointee.count != 0 && counts.pending < left else { return .next }
            guard let next = Hart.successor(of: b, at: p &- fetchBase, table, &links) else { return .next }
            guard follow(next) else {
                resume = next
                return .next
            }
            entered &+= 1
            b = next
            k = 0
        }
    }

    /// The block to chain to after block `b` ran whole and left the pc at page offset `to`: its
    /// fall-through or static target through the link (counted in `links`) or, the first time,
    /// through the page's table (which sets the link); a dynamic target (jalr) through the table.
    /// Nil when the successor is not translated yet or lies in another page. Shared by the block
    /// engine's and the native-code engine's chain loops, inlined into each.
    @inline(__always)
    static func successor(of b: BlockRef, at to: UInt64, _ table: UnsafeMutablePointer<BlockRef?>,
                          _ links: inout UInt64) -> BlockRef? {
        if to == UInt64(b.pointee.end) {
            if let f = b.pointee.fall, f.pointee.count != 0 {
                links &+= 1
                return f
            }
            guard to < 4096, let t = table[Int(truncatingIfNeeded: to >> 1)] else { return nil }
            b.pointee.fall = t
            return t
        }
        if to == UInt64(b.pointee.target) {
            if let t = b.pointee.taken, t.pointee.count != 0 {
                links &+= 1
                return t
            }
            guard let t = table[Int(truncatingIfNeeded: to >> 1)] else { return nil }
            b.pointee.taken = t
            return t
        }
        return to < 4096 ? table[Int(truncatingIfNeeded: to >> 1)] : nil
    }

    /// After an instruction that ended the slice (counts committed, `state.pc` current): the next
    /// slice's limit when the run loop lets the engine go on (then `limit`/`remaining` are reset
    /// for it), or nil when the engine must return.
    @inline(__always)
    func nextSlice(_ limit: inout UInt64, _ remaining: inout UInt64, _ retired: inout UInt64) -> UInt64? {
        guard state.pointee.exitSlice != .stop else { return nil }
        // Through an unmanaged reference: calling a method on the unowned(unsafe) `machine`
        // retained and released it around the call (callgrind: 4 M retains in the ecall bench).
        let more = Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef { $0.continueTurn(self) }
        guard more != 0 else { return nil }
        retired &+= limit &- remaining
        limit = more
        remaining = more
        return more
    }

    /// Records a block end for the lockstep test: instructions retired or trapped so far,
    /// counting the `pending` not yet committed.
    @inline(never)
    func noteBlockEnd(_ pending: UInt64) {
        blockEnds.append(state.pointee.instret &+ state.pointee.exceptionsTaken &+ pending)
    }
}

extension Machine {
    /// Statistics of the block engine (zero under the interpreter).
    public var blockEngineCounters: BlockEngineCounters {
        var c = code.blockCounters
        if let native = harts.first?.jit?.blockEntries {
            c.entered &+= native.entered
            c.chained &+= native.chained
        }
        return c
    }
}
