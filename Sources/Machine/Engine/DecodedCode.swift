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
}

/// The pre-decoded instruction cache: for each RAM page that has been executed, 2048 slots (one per
/// halfword offset), decoded lazily. A store to a page drops the slots it overlaps, so the next
/// execution decodes the new bits (privileged spec's FENCE.I/SMC rules are thereby exceeded: code
/// is always coherent with memory, which is a legal implementation).
final class DecodedCode {
    static let slotsPerPage = 2048
    let ramBase: UInt64
    let pages: UnsafeMutablePointer<UnsafeMutablePointer<DecodedOp>?>
    let pageCount: Int
    /// A page of refill markers: the engine's fetch cache points here when it holds nothing.
    let refillPage: UnsafeMutablePointer<DecodedOp>

    static let undecodedOp = DecodedOp(opcode: .illegal, length: 0, raw: SlotMarker.undecoded)

    init(ramBase: UInt64, ramSize: UInt64) {
        self.ramBase = ramBase
        pageCount = Int(ramSize / 4096)
        pages = .allocate(capacity: pageCount)
        pages.initialize(repeating: nil, count: pageCount)
        refillPage = .allocate(capacity: DecodedCode.slotsPerPage)
        refillPage.initialize(repeating: DecodedOp(opcode: .illegal, length: 0, raw: SlotMarker.refill),
                              count: DecodedCode.slotsPerPage)
    }

    deinit {
        for i in 0..<pageCount { pages[i]?.deallocate() }
        pages.deallocate()
        refillPage.deallocate()
    }

    /// The slots of the RAM page at physical `page` (page-aligned, in RAM), and whether they are new.
    func page(_ page: UInt64) -> (UnsafeMutablePointer<DecodedOp>, Bool) {
        let i = Int((page &- ramBase) >> 12)
        if let p = pages[i] { return (p, false) }
        let p = UnsafeMutablePointer<DecodedOp>.allocate(capacity: DecodedCode.slotsPerPage)
        p.initialize(repeating: DecodedCode.undecodedOp, count: DecodedCode.slotsPerPage)
        pages[i] = p
        return (p, true)
    }

    /// True when the RAM page at physical address `address` holds decoded code.
    @inline(__always)
    func isCode(_ address: UInt64) -> Bool {
        pages[Int((address &- ramBase) >> 12)] != nil
    }

    /// Drops the decoded slots a write of `[address, address + count)` (within RAM) overlaps,
    /// including a 32-bit instruction starting two bytes before it.
    func invalidate(_ address: UInt64, count: UInt64) {
        guard count > 0 else { return }
        var a = address &- 2
        let end = address &+ count
        if address < ramBase + 2 { a = ramBase }
        while a < end {
            let pageIndex = Int((a &- ramBase) >> 12)
            if pageIndex >= 0 && pageIndex < pageCount, let p = pages[pageIndex] {
                let first = Int((a & 0xFFF) >> 1)
                let pageEnd = (a & ~0xFFF) &+ 4096
                let stop = min(end, pageEnd)
                let last = Int(((stop &- 1) & 0xFFF) >> 1)
                for k in first...last { p[k] = DecodedCode.undecodedOp }
                a = pageEnd
            } else {
                a = (a & ~0xFFF) &+ 4096
            }
        }
    }

    /// Drops every decoded page (fence.i is not needed for that; used on reset).
    func clear() {
        for i in 0..<pageCount {
            if let p = pages[i] { p.deallocate(); pages[i] = nil }
        }
    }
}
