// The run loop of the native-code engine: the block engine's loop (BlockEngine.swift), with compiled
// code entered wherever a block has some and the budget covers the whole block. Everything that
// compiled code does not do — blocks not (yet) compiled, the rest of a block after an instruction
// the compiler does not handle, budget cuts, building blocks, leaving the page, the ends of slices —
// is done exactly as the block engine does it, with the same `execute`, `SliceCounts` and
// `continueTurn`; compiled code hands over the counts in the context at every exit. So instret,
// cycles, TLB counters, traps and slice ends are the block engine's, which are the interpreter's
// (the lockstep tests compare the three).

extension Hart {
    /// Sets up this hart's context in the machine's native-code engine (at the end of `init`).
    func attachJIT() {
        guard let j = jit else { return }
        let s = state
        (j.contexts + id).initialize(to: JITContext(
            regs: s.pointee.regs, loadTLB: s.pointee.soft, storeTLB: s.pointee.soft,
            hart: Unmanaged.passUnretained(self).toOpaque()))
    }

    /// Runs up to `limit` instructions with compiled code where there is some: the block engine's
    /// slices (`runSlices`), with chains run by `runJITChain`.
    @inline(never)
    func runJIT(limit: UInt64) -> UInt64 {
        guard let jit else { return runBlocks(limit: limit) }
        let ctx = jit.contexts + id
        return runSlices(limit: limit, startSlice: { loadTLB, storeTLB in
            ctx.pointee.loadTLB = loadTLB
            ctx.pointee.storeTLB = storeTLB
        }) { b, pc, fetchBase, table, x, loadTLB, storeTLB, c, remaining, chained in
            // Blocks left to Swift go straight to the Swift chain (the trap loops' path).
            guard b.pointee.jit == JIT.uncompilable else {
                return runJITChain(b, &pc, fetchBase, table, x, loadTLB, storeTLB, &c, &remaining, &chained, jit, ctx)
            }
            var resume: BlockRef? = nil
            let flow = runSwiftChain(b, 0, &resume, &pc, fetchBase, table, x, loadTLB, storeTLB, &c, &remaining, &chained)
            guard flow == .next, let r = resume else { return flow }
            return runJITChain(r, &pc, fetchBase, table, x, loadTLB, storeTLB, &c, &remaining, &chained, jit, ctx)
        }
    }

    /// `runChain` with compiled code: runs block `first` and its successors within the budget.
    /// A block with code (compiled now if it just became hot) is entered natively when the budget
    /// covers all of it; compiled code returns at a block boundary it cannot chain across (the
    /// jump is patched to chain next time), before an instruction it does not handle (the rest of
    /// that block runs here), or after an instruction that ended the slice.
    @inline(never)
    func runJITChain(_ first: BlockRef, _ pc: inout UInt64, _ fetchBase: UInt64, _ table: UnsafeMutablePointer<BlockRef?>,
                     _ x: UnsafeMutablePointer<UInt64>,
                     _ loadTLB: UnsafeMutablePointer<SoftTLBEntry>, _ storeTLB: UnsafeMutablePointer<SoftTLBEntry>,
                     _ c: inout SliceCounts, _ remaining: inout UInt64, _ chained: inout UInt64,
                     _ jit: JIT, _ ctx: UnsafeMutablePointer<JITContext>) -> Flow {
        var b = first
        var p = pc
        var counts = c
        var left = remaining
        var links: UInt64 = 0
        defer { pc = p; c = counts; remaining = left; chained &+= links }
        while true {
            let count = Int(b.pointee.count)
            var k = 0
            // (One compare for the blocks left to Swift: `uncompilable` marks them.)
            if b.pointee.jit != JIT.uncompilable, left &- counts.pending >= UInt64(count),
               let e = jit.index(b) ?? jit.consider(b, self, table: table) {
                ctx.pointee.fetchBase = fetchBase
                ctx.pointee.pending = counts.pending
                ctx.pointee.loadHits = counts.loadHits
                ctx.pointee.storeHits = counts.storeHits
                ctx.pointee.left = left
                let generation = jit.generation
                let started = ctx.pointee.nativeInstructions
                let status = jit.enter(UnsafeMutableRawPointer(ctx), UnsafeRawPointer(bitPattern: jit.entries[e].code).unsafelyUnwrapped)
                jit.counters.nativeEntries &+= 1
                if ctx.pointee.nativeInstructions &- started < JIT.shortRun {
                    jit.entries[e].shortRuns &+= 1
                    // Not worth entering from Swift any more (links from compiled code stay).
                    if jit.entries[e].shortRuns >= JIT.shortRunLimit { b.pointee.jit = JIT.uncompilable }
                }
                counts.pending = ctx.pointee.pending
                counts.loadHits = ctx.pointee.loadHits
                counts.storeHits = ctx.pointee.storeHits
                left = ctx.pointee.left
                switch JITExit(rawValue: status).unsafelyUnwrapped {
                case .boundary:
                    p = ctx.pointee.pc
                    guard counts.pending < left else { return .next }
                    let to = p &- fetchBase
                    guard to < 4096, let next = table[Int(truncatingIfNeeded: to >> 1)] else { return .next }
                    // Chain next time: the jump that led here goes straight to the successor.
                    let site = ctx.pointee.linkSite
                    if site != 0, let target = jit.code(next), generation == jit.generation {
                        jit.patch(site: UInt(site), to: target)
                    }
                    b = next
                    continue
                case .partial:
                    b = BlockRef(ctx.pointee.block.unsafelyUnwrapped.assumingMemoryBound(to: BlockHeader.self))
                    k = Int(ctx.pointee.index)
                    p = ctx.pointee.pc
                case .settledExit, .settledTrap:
                    // A helper settled it as `runChain` does (counts committed, `state.pc` set).
                    x[0] = 0
                    p = state.pointee.pc
                    return status == JITExit.settledExit.rawValue ? .exit : .trapped
                }
            }
            // The rest in Swift, as the block engine runs it, up to a block that may have code.
            var resume: BlockRef? = nil
            let flow = runSwiftChain(b, k, &resume, &p, fetchBase, table, x, loadTLB, storeTLB, &counts, &left, &links)
            guard flow == .next, let next = resume else { return flow }
            b = next
        }
    }

    /// `runChain` from instruction `start` of block `first`, following successors only while they
    /// are left to Swift (`JIT.uncompilable`); a successor that has code or may get some is
    /// returned in `resume` (flow `.next`). A function of its own, like `runChain`, so that
    /// `execute` is inlined into its loop (inside `runJITChain` it was not: callgrind, ecall
    /// bench, 12% more host instructions than the block engine). While `JIT.countsBlocks`, counts
    /// its blocks in `BlockEngineCounters.entered` (`first` too when it starts at the top: from
    /// instruction `start` > 0 it is the rest of a block compiled code entered and counted), as
    /// compiled code counts the blocks it runs in its context (`JIT.blockEntries`).
    @inline(never)
    func runSwiftChain(_ first: BlockRef, _ start: Int, _ resume: inout BlockRef?, _ pc: inout UInt64, _ fetchBase: UInt64,
                       _ table: UnsafeMutablePointer<BlockRef?>, _ x: UnsafeMutablePointer<UInt64>,
                       _ loadTLB: UnsafeMutablePointer<SoftTLBEntry>, _ storeTLB: UnsafeMutablePointer<SoftTLBEntry>,
                       _ c: inout SliceCounts, _ remaining: inout UInt64, _ links: inout UInt64) -> Flow {
        var entered: UInt64 = start == 0 ? 1 : 0
        defer { if jit?.countsBlocks == true { code.blockCounters.entered &+= entered } }
        return chainLoop(first, start, &resume, &pc, fetchBase, table, x, loadTLB, storeTLB, &c, &remaining, &links, &entered) {
            $0.pointee.jit == JIT.uncompilable
        }
    }
}

extension JIT {
    /// Counts one more execution of block `b` (of the page whose block table is `table`) outside
    /// compiled code and compiles it when that makes it hot. Returns its code, or nil.
    @inline(never)
    func consider(_ b: BlockRef, _ hart: Hart, table: UnsafeMutablePointer<BlockRef?>) -> Int? {
        let tag = b.pointee.jit
        guard tag < JIT.uncompilable else { return nil }
        if tag &+ 1 < threshold {
            b.pointee.jit = tag &+ 1
            return nil
        }
        let origin = reserve()
        let lookup = JITCompiler.Lookup(table: UInt(bitPattern: table), entries: UInt(bitPattern: entries))
        guard let r = JITCompiler.compile(b, origin: origin, epilogue: epilogue, helpers: JITHelpers.addresses,
                                          lookup: lookup, record: hart.recordBlockEnds, countBlocks: countsBlocks) else {
            b.pointee.jit = JIT.uncompilable
            counters.blocksNotCompilable &+= 1
            return nil
        }
        return install(b, r.bytes, instructions: r.instructions)
    }
}
