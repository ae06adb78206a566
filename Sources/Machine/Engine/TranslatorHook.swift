import RISCV

// The engines' side of `CodeTranslator` (CodeTranslator.swift): showing decoded instructions to
// the translator, the callout slot that replaces an instruction in the decoded-code cache, and
// executing one. Everything here is off the hot path: the decode path runs once per slot, the
// callout is reached through the `.illegal` case of `execute`, which real code only reaches to
// trap. The per-instruction loops of both engines are unchanged (no new load, no new test).

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

extension Hart {
    /// `op`, decoded at physical `physical`, as the installed translator wants it run: itself, or
    /// a callout slot. (Called only while a translator is installed.)
    @inline(never)
    func rewritten(_ op: DecodedOp, physical: UInt64) -> DecodedOp {
        let id = self.id
        // Through an unmanaged reference, as `nextSlice` does: no retain of the machine.
        let rewrite = Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef {
            $0.translatorRewrite(op, physical: physical, hart: id)
        }
        switch rewrite {
        case .keep: return op
        case .callout(let n): return CalloutSlot.make(n, replacing: op)
        }
    }

    /// Executes the callout slot `slot` at `state.pc`, called from `execute` with the counts of
    /// what retired before it committed and this instruction's fetch counted. Returns the flow
    /// for the engine: `.exit` when the instruction retired (`state.pc` is where the hart goes
    /// on; the engine counts the retirement, once, as for any instruction), `.trapped` when it
    /// did not retire (an abandoned callout: no exception is counted either, the hart goes on at
    /// the pc the callout set; or the original instruction trapped). Either way the slice ends,
    /// so whatever the callout changed (privilege, CSRs, mappings, code) is seen.
    @inline(never)
    func executeCallout(_ slot: DecodedOp) -> Flow {
        let s = state
        // The slot is copied: the callout may drop it (a write, `retranslate`).
        let original = Decoder.decode(slot.raw)
        let id = self.id
        let pc = s.pointee.pc
        let outcome = Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef {
            $0.translatorCallout(UInt32(bitPattern: slot.imm), instruction: original, pc: pc, hart: id)
        }
        switch outcome {
        case .retired:
            return .exit
        case .abandoned:
            return .trapped
        case .native:
            return executeNative(original)
        }
    }

    /// Executes `op` (a callout's original instruction) at `state.pc` as the hardware would,
    /// traps included; `state.pc` is set to the next pc unless it trapped. The caller counts the
    /// retirement; this instruction's fetch is already counted (hence `prefetched`, which makes
    /// a slow path's `commitInFlight` count it once, not twice).
    @inline(never)
    func executeNative(_ op: DecodedOp) -> Flow {
        let s = state
        let x = s.pointee.regs
        let dp = Hart.privIndex(s.pointee.dataPriv)
        let loadTLB = s.pointee.soft + dp * 3 * softTLBSize
        var pc = s.pointee.pc
        var c = SliceCounts()
        c.prefetched = 1
        var remaining: UInt64 = 1
        let flow = withUnsafePointer(to: op) {
            execute($0, &pc, x, loadTLB, loadTLB + softTLBSize, &c, &remaining)
        }
        // Nothing retired through `c` (the loop, not `execute`, counts retirements): only the
        // fast path's TLB hits are left to fold in.
        s.pointee.softLoadHits &+= c.loadHits
        s.pointee.softStoreHits &+= c.storeHits
        switch flow {
        case .next, .exit:
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
        let priv = state.pointee.priv
        if translationLevels == 0 || priv == 3 { return pc }
        if let i = tlb.lookup(pc, asid: asid) {
            let e = tlb.entries[i]
            return e.physical | (pc & ((1 << (12 + 9 * UInt64(e.level))) - 1))
        }
        let id = self.id
        let found = Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef { $0.translate(pc, hart: id, access: .fetch) }
        if case .physical(let pa) = found { return pa }
        return pc
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
        guard let t = code.translator else { return .keep }
        return t.translate(op, physical: physical, hart: hart)
    }

    /// Runs callout `id` (`.native` when the translator has gone: the original runs).
    func translatorCallout(_ id: UInt32, instruction: Instruction, pc: UInt64, hart: Int) -> CalloutOutcome {
        guard let t = code.translator else { return .native }
        return t.callout(id, instruction: instruction, pc: pc, hart: hart)
    }

    func translatorBlockBuilt(physical: UInt64, instructions: Int, hart: Int) {
        code.translator?.blockBuilt(physical: physical, instructions: instructions, hart: hart)
    }
}
