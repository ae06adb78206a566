import RISCV

// The engines' side of `CodeTranslator` (CodeTranslator.swift): showing decoded instructions to
// the translator, the callout slot that replaces an instruction in the decoded-code cache, and
// executing one. Everything here is off the hot path: the decode path runs once per slot, the
// callout is reached through the `.illegal` case of `execute`, which real code only reaches to
// trap. The per-instruction loops of both engines compile to the same machine code as without
// the hook (checked with callgrind and the disassembly: see `illegalOrCallout`).

/// The form of a callout in the decoded-code cache: an `.illegal` slot with the replaced
/// instruction's length and bits (so the engines step over it and `.native` can re-decode it),
/// `rs3 == tag` (the decoder leaves rs3 zero in every `.illegal` it makes), and the callout id in
/// `imm`.
enum CalloutSlot {
    static let tag: UInt8 = 0xCA

    /// The slot replacing `op` by callout `id`.
    static func make(_ id: UInt32, replacing op: DecodedOp) -> DecodedOp {
        DecodedOp(opcode: .illegal, rs3: tag, length: op.length, imm: Int32(bitPattern: id), raw: op.raw)
    }
}

/// The form of a `CodeRewrite.calloutOnMiss` store in the decoded-code cache: the store itself,
/// which every engine runs as it runs the plain store (its execution reads the opcode, rs1, rs2,
/// imm and length only), with `rs3 == tag` and the callout id in `rd` (low byte) and `rm` (high
/// byte) — fields a store does not have, which the decoder leaves zero. Only its slow path looks
/// at them: `storeSlow` finds the slot at `state.pc` and calls out first (`guardedStoreCallout`).
enum GuardedStoreSlot {
    static let tag: UInt8 = 0xCB

    /// Whether `.calloutOnMiss(id)` keeps `op` as a guarded store (rather than a callout slot).
    static func applies(to op: DecodedOp, id: UInt32) -> Bool {
        id <= 0xFFFF && size(op.opcode) != 0
    }

    /// The bytes a guardable store writes; 0 for any other opcode.
    static func size(_ opcode: Opcode) -> UInt64 {
        switch opcode {
        case .sb: 1
        case .sh: 2
        case .sw: 4
        case .sd: 8
        default: 0
        }
    }

    static func make(_ id: UInt32, replacing op: DecodedOp) -> DecodedOp {
        var slot = op
        slot.rs3 = tag
        slot.rd = UInt8(truncatingIfNeeded: id)
        slot.rm = UInt8(truncatingIfNeeded: id >> 8)
        return slot
    }

    static func isGuarded(_ op: DecodedOp) -> Bool { op.rs3 == tag && size(op.opcode) != 0 }

    static func id(_ op: DecodedOp) -> UInt32 { UInt32(op.rd) | UInt32(op.rm) << 8 }
}

extension Hart {
    /// `op`, decoded at physical `physical`, as the installed translator wants it run: itself, a
    /// guarded store, or a callout slot. (Called only while a translator is installed.)
    @inline(never)
    func rewritten(_ op: DecodedOp, physical: UInt64) -> DecodedOp {
        let id = self.id
        // Through an unmanaged reference, as `nextSlice` does: no retain of the machine.
        let rewrite = Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef {
            $0.translatorRewrite(op, physical: physical, hart: id)
        }
        return DecodedCode.slot(op, rewrite: rewrite)
    }

    /// The start of a store's slow path (`storeSlow`, with `state.pc` at the store and the counts
    /// of what retired before it committed, as for any slow path): when the slot executing is a
    /// guarded store (`CodeRewrite.calloutOnMiss`) writing `size` bytes at `va`, runs its callout
    /// before anything else. Returns nil to go on with the slow path (not such a store, or the
    /// callout said `.native`), or false when the callout retired or abandoned the store: the
    /// caller then ends as after a trap (`.trapped`: `state.pc` is where the hart goes on), with
    /// what it retired counted here, as `runCallout` counts it for a callout slot.
    ///
    /// The slot is found as `illegalOrCallout` finds a callout slot: the current fetch page's slot
    /// at `state.pc` (see there why that is the slot executing). It must also be the store at
    /// hand: a guarded store of `size` bytes whose address, from the registers (which a store does
    /// not change), is `va`. A store executed outside the cache is never taken for it: it finds
    /// its own callout (`executeUncached`).
    @inline(never)
    func guardedStoreCallout(_ va: UInt64, size: UInt64) -> Bool? {
        let s = state
        let off = s.pointee.pc &- s.pointee.fetchBase
        guard off < 4096 else { return nil }
        let slot = s.pointee.fetchOps[Int(truncatingIfNeeded: off >> 1)]
        guard GuardedStoreSlot.isGuarded(slot), GuardedStoreSlot.size(slot.opcode) == size,
              s.pointee.regs[Int(slot.rs1)] &+ UInt64(bitPattern: Int64(slot.imm)) == va else { return nil }
        let original = Decoder.decode(slot.raw)
        switch callTranslator(GuardedStoreSlot.id(slot), original) {
        case .native:
            return nil
        case .retired:
            retireOne()
            return false
        case .abandoned:
            s.pointee.exceptionsTaken &+= 1   // budget, as for a trap the hardware takes
            return false
        }
    }

    /// Calls the translator's callout `id` for `original` at `state.pc` (`.native` when it has gone).
    @inline(__always)
    func callTranslator(_ id: UInt32, _ original: DecodedOp) -> CalloutOutcome {
        let hart = self.id
        let pc = state.pointee.pc
        return Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef {
            $0.translatorCallout(id, instruction: original, pc: pc, hart: hart)
        }
    }

    /// The `.illegal` case of `execute` for a slot that is not a marker, with the counts of what
    /// retired before it committed, this fetch counted, and `state.pc` at the instruction: runs
    /// the callout the slot is, or raises illegal-instruction. The engine then ends the slice as
    /// after a trap (flow `.trapped`: nothing more to count, `state.pc` is where to go on).
    ///
    /// Why the slot is found again here rather than passed: the case in `execute` must keep the
    /// exact shape it had as a plain trap (one call taking the raw bits). Any other shape (a
    /// test of rs3 there, a returned flow, the slot's pointer as argument) changed the register
    /// allocation of the inlined hot loops: measured with callgrind on the cpu bench, 0.9 to 2.9
    /// more host instructions per guest instruction in the interpreter (a reload of the register
    /// file or page pointer per instruction). The slot executing is the current fetch page's
    /// slot at `state.pc`: the interpreter runs the page's slots, and the block engine copies of
    /// them that die with them (a write or `retranslate` that drops a slot kills its blocks), and
    /// whatever drops slots or the fetch page mid-slice (a store, a callout, a CSR write, an
    /// MMIO access) ends the slice after its instruction. Should the slot not be found there
    /// all the same, the original runs (as for `.native`), never a spurious trap.
    @inline(never)
    func illegalOrCallout(tval: UInt64) {
        let s = state
        let off = s.pointee.pc &- s.pointee.fetchBase
        if off < 4096 {
            let slot = s.pointee.fetchOps[Int(truncatingIfNeeded: off >> 1)]
            if slot.opcode == .illegal && slot.rs3 == CalloutSlot.tag && UInt64(slot.raw) == tval {
                runCallout(slot)
                return
            }
        }
        let op = Decoder.decode(UInt32(truncatingIfNeeded: tval))
        guard op.opcode != .illegal else {
            raise(.illegalInstruction, tval: tval)
            return
        }
        // Bits of a legal instruction in an `.illegal` slot: a callout, though not found where
        // the fetch page says.
        settle(executeNative(op))
    }

    /// Runs callout slot `slot` at `state.pc` and counts what retired.
    @inline(never)
    func runCallout(_ slot: DecodedOp) {
        settle(executeCallout(slot))
    }

    /// Counts the retirement of the instruction at hand when `flow` says it retired (`.next`,
    /// `.exit`), as `commit` counts one: instret and one instruction's cycles. Its fetch is
    /// already counted (`commitInFlight` before the slow path).
    @inline(__always)
    func settle(_ flow: Flow) {
        guard flow == .next || flow == .exit else { return }
        retireOne()
    }

    /// Counts one instruction retired outside the loop: instret and one instruction's cycles, as
    /// `commit` counts each (a callout's, or one a VMM emulated after its trap).
    @inline(__always)
    func retireOne() {
        let s = state
        s.pointee.instret &+= 1
        s.pointee.cycles &+= s.pointee.costs.instruction
    }

    /// Executes the callout slot `slot` at `state.pc` and returns whether the instruction
    /// retired (`.exit`: the callout retired it, or the original ran without a trap; `state.pc`
    /// is where the hart goes on) or not (`.trapped`: an abandoned callout, which counts no
    /// exception either and leaves the hart at the pc the callout set; or the original
    /// trapped). Nothing is counted here. Either way the slice ends, so whatever the callout
    /// changed (privilege, CSRs, mappings, code) is seen.
    @inline(never)
    func executeCallout(_ slot: DecodedOp) -> Flow {
        let s = state
        // The slot is copied: the callout may drop it (a write, `retranslate`).
        let original = Decoder.decode(slot.raw)
        switch callTranslator(UInt32(bitPattern: slot.imm), original) {
        case .retired:
            return .exit
        case .abandoned:
            s.pointee.exceptionsTaken &+= 1   // budget, as for a trap the hardware takes
            return .trapped
        case .native:
            // An original that is itself illegal (a callout made of an illegal encoding, e.g. an
            // afterburner's patch word) traps as the hardware would: executing it would find this
            // callout slot again, and again.
            if original.opcode == .illegal {
                raise(.illegalInstruction, tval: UInt64(slot.raw))
                return .trapped
            }
            return executeNative(original)
        }
    }

    /// Executes `op` (a callout's original instruction) at `state.pc` as the hardware would,
    /// traps included; `state.pc` is set to the next pc unless it trapped (`.exit` / `.trapped`).
    /// The caller counts the retirement; this instruction's fetch is already counted (hence
    /// `HartState.prefetchedFetch`, which makes a slow path's `commitInFlight` count it once, not
    /// twice; the caller's value is restored after, as this instruction's counts are private).
    @inline(never)
    func executeNative(_ op: DecodedOp) -> Flow {
        let s = state
        let x = s.pointee.regs
        let dp = Hart.privIndex(s.pointee.dataPriv)
        let loadTLB = s.pointee.soft + dp * 3 * softTLBSize
        var pc = s.pointee.pc
        var c = SliceCounts()
        let callersPrefetch = s.pointee.prefetchedFetch
        s.pointee.prefetchedFetch = 1
        var remaining: UInt64 = 1
        let flow = withUnsafePointer(to: op) {
            execute($0, &pc, x, loadTLB, loadTLB + softTLBSize, &c, &remaining)
        }
        s.pointee.prefetchedFetch = callersPrefetch
        // Nothing retired through `c` (the loop, not `execute`, counts retirements): only the
        // fast path's TLB hits are left to fold in.
        s.pointee.softLoadHits &+= c.loadHits
        s.pointee.softStoreHits &+= c.storeHits
        switch flow {
        case .next, .jumped, .exit:
            s.pointee.pc = pc
            return .exit
        default:
            return .trapped
        }
    }

    /// The physical address instruction fetch at `pc` just used (for an instruction executed
    /// outside the cache, right after `fetchParcel`): from the TLB entry the fetch used, or, if
    /// the second parcel's fetch evicted it, from the page tables.
    func fetchedPhysical(_ pc: UInt64) -> UInt64 {
        if !fetchTranslated { return pc }
        let virt = state.pointee.virt
        if let i = tlb.lookup(pc, asid: virt ? guestASID : asid, space: virt ? guestSpace : 0) {
            let e = tlb.entries[i]
            return e.physical | (pc & ((1 << (12 + 9 * UInt64(e.level))) - 1))
        }
        let id = self.id
        let found = Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef { $0.translate(pc, hart: id, access: .fetch) }
        if case .physical(let pa) = found { return pa }
        return pc
    }

    /// Runs the callout that replaced an instruction executed outside the cache (at `state.pc`),
    /// counting as `executeUncached` counts the instruction it replaced: the fetch once, the
    /// retirement if it retired. The slice ends either way.
    func executeUncachedCallout(_ slot: DecodedOp) -> Flow {
        let s = state
        let flow = executeCallout(slot)
        guard flow != .trapped else { return .trapped }
        // It retired: counted, and the fetch cache refilled, as after an uncached instruction.
        s.pointee.translatedFetches &+= 1
        settle(flow)
        invalidateFetch()
        s.pointee.exitSlice = .none
        return .exit
    }

    /// Tells the translator that a block of `instructions` instructions was built at `physical`.
    @inline(never)
    func noteBlockBuilt(physical: UInt64, instructions: Int) {
        let id = self.id
        Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef {
            $0.translatorBlockBuilt(physical: physical, instructions: instructions, hart: id)
        }
    }
}

extension Machine {
    /// The translator's rewrite of `op` (`.keep` when it has gone).
    func translatorRewrite(_ op: Instruction, physical: UInt64, hart: Int) -> CodeRewrite {
        code.withTranslator { $0.translate(op, physical: physical, hart: hart) } ?? .keep
    }

    /// Runs callout `id` (`.native` when the translator has gone: the original runs).
    func translatorCallout(_ id: UInt32, instruction: Instruction, pc: UInt64, hart: Int) -> CalloutOutcome {
        code.withTranslator { $0.callout(id, instruction: instruction, pc: pc, hart: hart) } ?? .native
    }

    func translatorBlockBuilt(physical: UInt64, instructions: Int, hart: Int) {
        code.withTranslator { $0.blockBuilt(physical: physical, instructions: instructions, hart: hart) }
    }
}
