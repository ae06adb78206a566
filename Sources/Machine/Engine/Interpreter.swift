import RISCV

// The interpreter engine: a loop over pre-decoded instructions of the current code page. The
// semantics of every instruction live in `execute` (inlined here); slow paths (TLB misses, MMIO,
// CSRs, traps, atomics, floating point) are out of line. A block translator can call the same
// `execute` per instruction, so there is one definition of each instruction's meaning.
//
// Within a slice the fetch privilege, data privilege and translation regime are constant: every
// event that could change them (traps, xRET, CSR writes that matter, sfence.vma) ends the slice.
// Interrupts are therefore checked between slices, which is exactly after the instruction that
// could have made one pending or enabled.

// Measurements (labs/guests/bench, release build, `VMLAB_BENCH=1 swift test -c release
// -Xswiftc -enable-testing --filter benchmarkGuest`, thread CPU time on the shared, heavily loaded
// 2-core build machine; perf record for the profiles):
// - first version: cpu 225, paging 18, ecall 9 MIPS (wall, less load). perf: a third of the time in
//   swift_retain/release (side-table refcounts of Machine, reached through class properties on
//   the miss and trap paths) and swift_beginAccess (exclusivity checks).
// - Machine built with -enforce-exclusivity=unchecked: paging 15 → 27, ecall 13 → 29 (wall).
// - hot paths made object-free (plain copies of RAM/code-cache facts in Hart, costs in HartState,
//   TLB/PMP/counters in raw storage), device deadlines cached, a hart's turn spans slices:
//   cpu ≈ 230, paging ≈ 60, ecall ≈ 65 MIPS (CPU time).
// - superpage evictions visit only soft slots filled from superpages (paging: dropSoft 11% → 4%).
// - the slot's length made a constant behind a branch (two inlined copies of `execute`): cpu
//   5.0 → 4.2 s, mix 2.63 → 2.43 s for the same guest instructions (best of two, wall). `execute`
//   taking the length is `@_transparent` because `@inline(__always)` left the second copy a call.
// - the loop walks by slot pointer, with a sentinel slot at the page end (no page-bound test), a
//   jump table without a range test, and the in-flight fetch flag out of the loop's registers:
//   host instructions per guest instruction 30.1 → 24.6 (cpu), 34.1 → 27.4 (mix), wall time
//   unchanged on the bench guests (a loop of independent `addi`s: −35%). Their pace is set by
//   the dispatch jump's mispredictions: one jump site per length serves every guest
//   instruction, and a sequence of different operations runs 55% slower than a run of one
//   (Engine.md, "The interpreter's limit").
// - the register file allocated right after HartState, so the loop derives it from the state
//   pointer instead of reloading a spilled pointer for every instruction: host instructions per
//   guest instruction 24.6 → 23.6 (cpu), 27.4 → 25.6 (mix); cpu 4.62 → 4.44 s, mix 2.53 → 2.43 s,
//   bytecode 1.55 → 1.46 s (best of 3, interleaved).

/// What an instruction did.
enum Flow {
    /// Retired; continue with the next slot (pc + length).
    case next
    /// Retired and set the pc anywhere (jumps, and branches taken or not); continue at the pc.
    /// The interpreter finds the slot from the pc only after these (and after slow paths).
    case jumped
    /// Retired; the slice ends (something the loop caches may have changed).
    case exit
    /// Raised a trap (not retired); `state.pc` is the handler. Also after a translator's callout,
    /// which counted what it retired itself (TranslatorHook.swift); `state.pc` is where to go on.
    case trapped
    /// The slot was a marker (undecoded, crosses a page, refill): not an instruction yet.
    case marker
}

/// Counts the loop keeps in registers and commits to `HartState` before any slow path.
///
/// Every instruction the loop takes from the fetch cache is one fetch (a TLB lookup when
/// translation is on), so fetches are counted through `pending` rather than by a second counter:
/// a slow path commits the fetch of the instruction in flight too (a trap there folds counters),
/// and `HartState.prefetchedFetch` remembers that this fetch must not be counted again when it
/// retires.
struct SliceCounts {
    var pending: UInt64 = 0
    var loadHits: UInt64 = 0
    var storeHits: UInt64 = 0
}

extension Hart {
    /// Commits what retired (between instructions).
    @inline(__always)
    func commit(_ c: inout SliceCounts, _ remaining: inout UInt64) {
        let s = state
        s.pointee.instret &+= c.pending
        s.pointee.cycles &+= c.pending &* s.pointee.costs.instruction
        s.pointee.translatedFetches &+= c.pending &- s.pointee.prefetchedFetch
        s.pointee.prefetchedFetch = 0
        s.pointee.softLoadHits &+= c.loadHits
        s.pointee.softStoreHits &+= c.storeHits
        remaining &-= c.pending
        c = SliceCounts()
    }

    /// Commits before an instruction's slow path: what retired, plus this instruction's fetch.
    @inline(__always)
    func commitInFlight(_ c: inout SliceCounts, _ remaining: inout UInt64) {
        commit(&c, &remaining)
        state.pointee.translatedFetches &+= 1
        state.pointee.prefetchedFetch = 1
    }

    /// Runs up to `limit` instructions of this hart. Returns the number retired.
    @inline(never)
    func runSlice(limit: UInt64) -> UInt64 {
        let s = state
        let x = Hart.registers(of: s)
        let dp = Hart.privIndex(s.pointee.dataPriv)
        let loadTLB = s.pointee.soft + dp * 3 * softTLBSize
        let storeTLB = loadTLB + softTLBSize
        var pc = s.pointee.pc
        var fetchBase = s.pointee.fetchBase
        var ops = s.pointee.fetchOps
        // The loop walks the decoded page by slot pointer: sequential flow steps `p` by the
        // length and never recomputes it from the pc. Leaving the page sequentially lands on the
        // page's sentinel slot (a marker, CodePageLayout); a jump or branch finds its slot from
        // the pc, or the sentinel when the target is elsewhere. Either way the marker path
        // (`fetchSlow`) moves the fetch cache.
        @inline(__always) func slot(_ pc: UInt64) -> UnsafePointer<DecodedOp> {
            let off = pc &- fetchBase
            return UnsafePointer(ops + (off < 4096 ? Int(truncatingIfNeeded: off &>> 1) : DecodedCode.slotsPerPage))
        }
        var p = slot(pc)
        var remaining = limit
        var c = SliceCounts()
        s.pointee.exitSlice = .none
        var trapped = false
        while c.pending < remaining {
            let flow: Flow
            // Two copies of `execute`, each with its length a constant: the next pc is then
            // pc + 4 or pc + 2 behind a predicted branch, instead of waiting for this slot's
            // length to load. That load, on the chain pc → slot → length → pc, bounded the
            // loop at one instruction per ~7 host cycles however simple the instruction.
            // Sequential flow is finished inside each copy, where the step is a constant.
            if p.pointee.length == 4 {
                flow = execute(p, &pc, x, loadTLB, storeTLB, &c, &remaining, length: 4)
                if flow == .next { c.pending &+= 1; p += 2; continue }
            } else {
                // 2, or a marker (length 0), which only the `.illegal` case sees and which
                // never uses the length.
                flow = execute(p, &pc, x, loadTLB, storeTLB, &c, &remaining, length: 2)
                if flow == .next { c.pending &+= 1; p += 1; continue }
            }
            switch flow {
            case .next:
                preconditionFailure("sequential flow is handled above")
            case .jumped:
                c.pending &+= 1
                p = slot(pc)
            case .exit:
                x[0] = 0
                c.pending &+= 1
                s.pointee.pc = pc
                commit(&c, &remaining)
                return limit &- remaining
            case .trapped:
                x[0] = 0
                s.pointee.prefetchedFetch = 0   // its fetch was committed; nothing retires
                trapped = true
            case .marker:
                commit(&c, &remaining)
                s.pointee.pc = pc
                let before = s.pointee.instret
                let slow = fetchSlow()
                // An instruction executed outside the cache counts against the budget too.
                remaining &-= min(remaining, s.pointee.instret &- before)
                switch slow {
                case .next, .jumped:
                    fetchBase = s.pointee.fetchBase
                    ops = s.pointee.fetchOps
                    pc = s.pointee.pc
                    p = slot(pc)
                    x[0] = 0
                    continue
                case .exit:
                    return limit &- remaining
                default:
                    trapped = true
                }
            }
            if trapped { break }
        }
        if !trapped { s.pointee.pc = pc }
        commit(&c, &remaining)
        return limit &- remaining
    }

    /// Handles what the fetch cache cannot: leaving the cached page, undecoded slots, 32-bit
    /// instructions split across pages, and pages PMP splits. `.next` when the loop may go on
    /// (`state.pc` and the fetch cache are current; an instruction may have retired, which is
    /// already counted), `.exit` after an instruction that ends the slice, `.trapped` after a trap.
    @inline(never)
    func fetchSlow() -> Flow {
        let s = state
        let pc = s.pointee.pc
        if pc &- s.pointee.fetchBase >= 4096 || s.pointee.fetchOps == refillPage {
            switch refillFetch(pc) {
            case .cached: break
            case .trapped: return .trapped
            case .uncached: return executeUncached(pc)
            }
        }
        let slot = Int((pc & 0xFFF) >> 1)
        let op = s.pointee.fetchOps[slot]
        guard op.opcode == .illegal && op.length == 0 else { return .next }
        switch op.raw {
        case SlotMarker.refill:
            invalidateFetch()
            s.pointee.exitSlice = .none
            return refillFetch(pc) == .trapped ? .trapped : .next
        case SlotMarker.crossesPage:
            return executeUncached(pc)
        default:
            return decodeSlot(s.pointee.fetchOps, phys: s.pointee.fetchPhys, offset: Int(pc & 0xFFE))
                ? .next : executeUncached(pc)
        }
    }

    /// Decodes the slot at page offset `offset` of decoded page `ops` (physical page `phys`) from
    /// RAM. False when it holds a 32-bit instruction whose upper half is on the next page (the slot
    /// then holds the `crossesPage` marker). Shared by the interpreter and the block builder.
    /// An installed translator is shown the instruction and may have a callout stored instead.
    @inline(never)
    func decodeSlot(_ ops: UnsafeMutablePointer<DecodedOp>, phys: UInt64, offset: Int) -> Bool {
        guard let op = DecodedCode.decode(host(phys | UInt64(offset)), pageOffset: offset) else {
            ops[offset >> 1] = DecodedOp(opcode: .illegal, length: 0, raw: SlotMarker.crossesPage)
            return false
        }
        ops[offset >> 1] = Hart.cacheable(code.translating ? rewritten(op, physical: phys | UInt64(offset)) : op)
        return true
    }

    /// The form of a decoded instruction kept in the cache: an integer instruction whose rd is x0
    /// writes the scratch slot `sinkRegister` instead, so the loop need not re-zero x0 after every
    /// instruction. (Slow paths that write x[rd] themselves still zero x0.)
    static func cacheable(_ op: DecodedOp) -> DecodedOp {
        guard op.rd == 0 else { return op }
        switch op.opcode {
        case .lui, .auipc, .jal, .jalr, .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu,
             .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai, .addiw, .slliw, .srliw, .sraiw,
             .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and, .addw, .subw, .sllw, .srlw, .sraw,
             .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu, .mulw, .divw, .divuw, .remw, .remuw:
            var o = op
            o.rd = UInt8(sinkRegister)
            return o
        default:
            return op
        }
    }

    /// Fetches (with full checks) and executes one instruction outside the fetch cache.
    @inline(never)
    func executeUncached(_ pc: UInt64) -> Flow {
        let s = state
        guard let low = fetchParcel(pc) else { return .trapped }
        var bits = UInt32(low)
        if low & 3 == 3 {
            guard let high = fetchParcel(pc &+ 2) else { return .trapped }
            bits |= UInt32(high) << 16
        }
        var op = Decoder.decode(bits)
        // Not cached, so shown to a translator at every execution, and a callout runs from here
        // (not through `execute`, whose callouts are found in the fetch page).
        if code.translating {
            op = rewritten(op, physical: fetchedPhysical(pc))
            if op.opcode == .illegal && op.rs3 == CalloutSlot.tag { return executeUncachedCallout(op) }
            // A guarded store, whose slow path finds its callout in the fetch page, which does not
            // hold this one: it calls out at every execution, as a callout slot would.
            if GuardedStoreSlot.isGuarded(op) {
                return executeUncachedCallout(CalloutSlot.make(GuardedStoreSlot.id(op), replacing: op))
            }
        }
        let x = s.pointee.regs
        let dp = Hart.privIndex(s.pointee.dataPriv)
        let loadTLB = s.pointee.soft + dp * 3 * softTLBSize
        var newPC = pc
        var c = SliceCounts()
        var remaining: UInt64 = 1
        let flow = withUnsafePointer(to: op) {
            execute($0, &newPC, x, loadTLB, loadTLB + softTLBSize, &c, &remaining)
        }
        x[0] = 0
        switch flow {
        case .next, .jumped, .exit:
            c.pending &+= 1
            s.pointee.pc = newPC
            commit(&c, &remaining)
            invalidateFetch()
            s.pointee.exitSlice = .none
            return flow == .exit ? .exit : .next
        default:
            commit(&c, &remaining)
            return .trapped
        }
    }
}
