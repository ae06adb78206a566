import RISCV

/// A cached decoded instruction (the `RISCV` module's 16-byte record).
typealias DecodedOp = Instruction

/// Markers stored in `raw` of a `.illegal` slot with `length == 0`. Real illegal instructions have
/// length 2 or 4, so these never collide with a decoded encoding.
enum SlotMarker {
    /// Not decoded yet: decode on first execution.
    static let undecoded: UInt32 = 0
    /// A 32-bit instruction whose upper half lies on the next page: always taken on the slow path,
    /// because the next virtual page may map anywhere.
    static let crossesPage: UInt32 = 1
    /// The engine must refill its fetch page (used by the shared "no page" sentinel page).
    static let refill: UInt32 = 2
    /// The sentinel after a page's last slot (CodePageLayout): the pc is outside the page.
    static let pageEnd: UInt32 = 3
}

/// The pre-decoded instruction cache: for each RAM page that has been executed, 2048 slots (one per
/// halfword offset), decoded lazily, and the page's translated blocks (Block.swift). A store to a
/// page drops the slots and kills the blocks it overlaps, so the next execution decodes the new
/// bits (the unprivileged spec's Zifencei rules are thereby exceeded: code is always coherent with
/// memory, which is a legal implementation, and FENCE.I has nothing left to do).
final class DecodedCode {
    static let slotsPerPage = 2048
    let ramBase: UInt64
    let pages: UnsafeMutablePointer<UnsafeMutablePointer<DecodedOp>?>
    let pageCount: Int
    /// The indices of `pages` that hold a page, so that whole-cache work visits those alone.
    var decodedPages: [Int] = []
    /// A page of refill markers: the engine's fetch cache points here when it holds nothing.
    let refillPage: UnsafeMutablePointer<DecodedOp>

    static let undecodedOp = DecodedOp(opcode: .illegal, length: 0, raw: SlotMarker.undecoded)

    /// Arenas of dropped blocks, freed by `collect()` when no block is executing.
    private(set) var graveyard: [UnsafeMutableRawPointer] = []
    /// Block engine statistics.
    var blockCounters = BlockEngineCounters()
    /// The machine's binary translator (`Machine.translator` is stored here, next to the code it
    /// rewrites), and whether one was installed: a plain flag the decode path tests without a
    /// weak load (the translator may since have gone; the hooks then find nil and keep the code).
    weak var translator: (any CodeTranslator)? {
        didSet { translatorHolds.installed(translator) }
    }
    var translating = false
    /// While the machine runs, the translator is also held strongly (`RunHolds`): the callouts
    /// and decode hooks call it with no weak load. A weak load is an atomic retain of the
    /// translator, and its release an atomic decrement through the side table a weakly referenced
    /// object has (the runtime's slow path), on every callout: a twentieth of a `bt` guest's host
    /// time. So a translator whose owner lets it go in the middle of a run is let go when the run
    /// returns (nothing in vmlab does: a VM closes between runs); between runs the machine holds
    /// it only weakly.
    private var translatorHolds = RunHolds<any CodeTranslator>()
    /// `Machine.guardedStoresAlwaysCallOut`: the harts install no store entries in their soft
    /// TLBs, so that every store, guarded ones included, takes the slow path.
    var storesOffFastPath = false

    /// The machine starts running (`Machine.run`): the translator is held until it stops.
    func runStarted() { translatorHolds.runStarted(current: translator) }

    /// The machine stops running: the translator is held weakly again.
    func runEnded() { translatorHolds.runEnded() }

    /// `body` applied to the translator, or nil when none is installed (or it has gone).
    @inline(__always)
    func withTranslator<R>(_ body: (any CodeTranslator) -> R) -> R? {
        if let held = translatorHolds.held { return held._withUnsafeGuaranteedRef { body($0.value) } }
        guard translatorHolds.runs == 0, let t = translator else { return nil }
        return body(t)
    }

    init(ramBase: UInt64, ramSize: UInt64) {
        self.ramBase = ramBase
        pageCount = Int(ramSize / 4096)
        pages = ZeroedMapping.allocate(UnsafeMutablePointer<DecodedOp>?.self, count: pageCount, purpose: "the decoded-code page table")
        // The refill page has a block table too (always empty), so the engine needs no test for it.
        refillPage = CodePageLayout.allocate(fill: DecodedOp(opcode: .illegal, length: 0, raw: SlotMarker.refill))
    }

    deinit {
        for i in decodedPages {
            if let p = pages[i] { CodePageLayout.arena(p).pointee.chunk?.deallocate(); p.deallocate() }
        }
        ZeroedMapping.deallocate(pages, count: pageCount)
        refillPage.deallocate()
        collect()
    }

    /// The slots of the RAM page at physical `page` (page-aligned, in RAM), and whether they are new.
    func page(_ page: UInt64) -> (UnsafeMutablePointer<DecodedOp>, Bool) {
        let i = Int((page &- ramBase) >> 12)
        if let p = pages[i] { return (p, false) }
        let p = CodePageLayout.allocate(fill: DecodedCode.undecodedOp)
        pages[i] = p
        decodedPages.append(i)
        return (p, true)
    }

    /// True when the RAM page at physical address `address` holds decoded code.
    @inline(__always)
    func isCode(_ address: UInt64) -> Bool {
        pages[Int((address &- ramBase) >> 12)] != nil
    }

    /// Drops the decoded slots a write of `[address, address + count)` (within RAM) overlaps,
    /// including a 32-bit instruction starting two bytes before it. When slots that had been
    /// decoded were dropped, the translator hears of it (`CodeTranslator.codeInvalidated`).
    func invalidate(_ address: UInt64, count: UInt64) {
        guard count > 0 else { return }
        var a = address &- 2
        let end = address &+ count
        if address < ramBase + 2 { a = ramBase }
        var dropped = false
        while a < end {
            let pageIndex = Int((a &- ramBase) >> 12)
            if pageIndex >= 0 && pageIndex < pageCount, let p = pages[pageIndex] {
                let first = Int((a & 0xFFF) >> 1)
                let pageEnd = (a & ~0xFFF) &+ 4096
                let stop = min(end, pageEnd)
                let last = Int(((stop &- 1) & 0xFFF) >> 1)
                for k in first...last {
                    // Anything but the undecoded marker was a decode (an instruction, a callout,
                    // or the crosses-page marker).
                    if p[k].length != 0 || p[k].raw != SlotMarker.undecoded { dropped = true }
                    p[k] = DecodedCode.undecodedOp
                }
                // Blocks hold copies of the bytes [address, end) exactly, so they are killed by an
                // exact overlap (the slot widening by 2 above is for the slot decoded two bytes earlier).
                let pageStart = a & ~0xFFF
                let lo = max(address, pageStart) &- pageStart, hi = stop &- pageStart
                if CodePageLayout.arena(p).pointee.used != 0 && lo < hi {
                    killBlocks(p, from: Int(lo), to: Int(hi))
                }
                a = pageEnd
            } else {
                a = (a & ~0xFFF) &+ 4096
            }
        }
        if dropped && translating { withTranslator { $0.codeInvalidated(physical: address, count: count) } }
    }

    /// Drops every decoded slot and block but keeps the pages (harts' fetch caches and soft TLB
    /// entries point at them), so that every instruction is decoded, and shown to a new
    /// translator, again. Blocks go to the graveyard: one may be executing.
    func dropAll() {
        for i in decodedPages {
            guard let p = pages[i] else { continue }
            p.update(repeating: DecodedCode.undecodedOp, count: DecodedCode.slotsPerPage)
            dropBlocks(p)
            CodePageLayout.table(p).update(repeating: nil, count: DecodedCode.slotsPerPage)
        }
    }

    /// Kills the blocks of page `p` that overlap the page offsets [from, to).
    private func killBlocks(_ p: UnsafeMutablePointer<DecodedOp>, from: Int, to: Int) {
        let arena = CodePageLayout.arena(p)
        let table = CodePageLayout.table(p)
        guard let chunk = arena.pointee.chunk else { return }
        var at = 0
        while at < arena.pointee.used {
            let b = (chunk + at).assumingMemoryBound(to: BlockHeader.self)
            if b.pointee.count != 0 && Int(b.pointee.start) < to && from < Int(b.pointee.end) {
                b.pointee.count = 0
                let slot = Int(b.pointee.start >> 1)
                if table[slot] == b { table[slot] = nil }
                blockCounters.blocksInvalidated &+= 1
            }
            at += BlockHeader.size(Int(b.pointee.built))
        }
    }

    /// Kills every block of page `p` and retires its arena (a full arena, or a reset).
    func dropBlocks(_ p: UnsafeMutablePointer<DecodedOp>) {
        let arena = CodePageLayout.arena(p)
        guard let chunk = arena.pointee.chunk else { return }
        killBlocks(p, from: 0, to: 4096)
        graveyard.append(chunk)
        arena.pointee = BlockArena()
    }

    /// Space for a block of `n` instructions in page `p`'s arena; a full arena is retired with its
    /// blocks first (they are rebuilt on demand), so the result is always valid.
    func allocateBlock(_ p: UnsafeMutablePointer<DecodedOp>, count n: Int) -> BlockRef {
        let arena = CodePageLayout.arena(p)
        let size = BlockHeader.size(n)
        if arena.pointee.used + size > arena.pointee.capacity {
            let capacity = min(max(2 * arena.pointee.capacity, 8192), 256 << 10)
            dropBlocks(p)
            arena.pointee.chunk = .allocate(byteCount: capacity, alignment: 16)
            arena.pointee.capacity = capacity
        }
        let b = (arena.pointee.chunk! + arena.pointee.used).bindMemory(to: BlockHeader.self, capacity: 1)
        arena.pointee.used += size
        blockCounters.blocksBuilt &+= 1
        return b
    }

    /// Frees retired arenas. Only when no block is executing (the engine calls it at slice start).
    func collect() {
        for chunk in graveyard { chunk.deallocate() }
        graveyard.removeAll(keepingCapacity: true)
    }

    /// Drops every decoded page (fence.i is not needed for that; used on reset).
    func clear() {
        for i in decodedPages {
            if let p = pages[i] {
                dropBlocks(p)
                p.deallocate()
                pages[i] = nil
            }
        }
        decodedPages.removeAll()
    }
}
