import RISCV

// The hook a binary-translating VMM uses to rewrite guest code as the engines decode it. Both
// engines take every instruction from the decoded-code cache, which is filled lazily, one slot at
// a time, the first time a hart executes the bytes there (and again after they are written). A
// `CodeTranslator` installed on the machine is shown each instruction at that moment and may
// replace it by a *callout*: a cache slot that, when executed, calls the translator's `callout`
// instead of executing the instruction, with no trap taken. Guest memory is never changed: the
// rewrite lives in the cache only, as a translation cache holds rewritten copies of guest code.
// Rewriting costs nothing on the hot path: a callout is an `.illegal` slot with a tag, and the
// illegal-instruction case is already a slow path.

/// What a translator does with one instruction it is shown.
public enum CodeRewrite: Sendable, Equatable {
    /// Run the instruction as decoded.
    case keep
    /// Replace it, in the cache only, by callout `id`: executing it calls `CodeTranslator.callout`.
    case callout(UInt32)
    /// For a plain integer store (`sb`, `sh`, `sw`, `sd`, compressed forms included): keep it, and
    /// call out (`id`, exactly as `.callout(id)` would) only when it leaves the hart's fast path.
    /// A store that hits the hart's soft TLB — a page the hart's TLB maps writable, where PMP
    /// allows the store, plain RAM holding no decoded code and no watchpoint — completes as the
    /// plain store does, with no callout; any other (a TLB miss, a page walk, a fault, a device,
    /// a misaligned address) calls out before the hart does anything else about it, and `.native`
    /// then goes on with the hart's own slow path. For any other instruction, or an id above
    /// 0xFFFF, it is `.callout(id)`. A translator that only needs to see the stores that cannot
    /// complete on the fast path (a VMM whose traced pages are never writable in the tables the
    /// hart walks) gets them with no callout on the others. See "Translators and callouts" in the
    /// Engine article.
    case calloutOnMiss(UInt32)
}

/// What a callout did with the instruction it replaced. The slice ends after a callout whatever
/// the outcome.
public enum CalloutOutcome: Sendable, Equatable {
    /// It did the instruction's work and set the hart's pc (usually to pc + length): the
    /// instruction retires (instret and one instruction's cycles, as for any instruction).
    case retired
    /// It did not complete the instruction and sent the hart elsewhere (a trap delivered in
    /// software, a restart): the instruction does not retire; the hart goes on at the pc the
    /// callout set. Nothing is counted: no instret, no cycles (a callout charges its own work
    /// with `Machine.charge`), and no exception, since the hardware took none.
    case abandoned
    /// The rewrite does not apply now (say, the guest is not in the context it was made for):
    /// execute the original instruction as the hardware would, traps included. Also what a
    /// callout slot does once its translator has gone (the machine holds it weakly, and strongly
    /// only while it runs).
    case native
}

/// A binary translator: shown every instruction a hart decodes, called for every callout it
/// installed. Its methods run on the engines' slow paths, between instructions; the hart's
/// registers and pc (the callout's own pc) are current in the machine when `callout` runs, and
/// the slice ends after a callout (so the callout may change privilege, CSRs or mappings).
public protocol CodeTranslator: AnyObject {
    /// Hart `hart` decodes `instruction` at physical address `physical` (its first execution
    /// since the bytes there were last written, retranslated, or the translator installed).
    ///
    /// `instruction` is as `Decoder` decodes the bits (illegal encodings included, so a
    /// translator may emulate them). The cache is the machine's, shared by its harts: the
    /// rewrite applies to every hart that executes these bytes (`hart` is the one that decoded
    /// them first; `callout` is told which hart runs it). An instruction the cache cannot hold (a 32-bit instruction
    /// crossing a page end, code on a page PMP splits) is shown at every execution instead, its
    /// callout run all the same. Called while the engine decodes: it must not write guest memory,
    /// call `Machine.retranslate` or change the translator (do that from a callout).
    func translate(_ instruction: Instruction, physical: UInt64, hart: Int) -> CodeRewrite
    /// Callout `id`, which replaced `instruction`, executes at virtual `pc` on `hart`.
    ///
    /// The counts of what retired before it are committed and `Machine.pc(hart:)` is `pc`; the
    /// callout uses the machine's API (`setRegister`, `setPC`, `writeCSR`, `charge`...) and, for
    /// `.retired` and `.abandoned`, sets the pc the hart goes on at. It may write memory and call
    /// `Machine.retranslate` (its own slot included: it was copied before the call).
    func callout(_ id: UInt32, instruction: Instruction, pc: UInt64, hart: Int) -> CalloutOutcome
    /// The block engine built a block of `instructions` instructions at `physical` on `hart`
    /// (every slot of it already shown to `translate`). The interpreter builds no blocks.
    /// Same restrictions as `translate`.
    func blockBuilt(physical: UInt64, instructions: Int, hart: Int)
    /// Decoded code overlapping [physical, physical + count) was dropped because the bytes were
    /// written (a store, DMA, a host write) or `retranslate` was called. The range is the one
    /// written (or retranslated); the dropped slots are those of the instructions overlapping it,
    /// which includes a 32-bit instruction starting two bytes before it. Called only when slots
    /// that had been decoded were dropped.
    func codeInvalidated(physical: UInt64, count: UInt64)
}

extension CodeTranslator {
    public func blockBuilt(physical: UInt64, instructions: Int, hart: Int) {}
    public func codeInvalidated(physical: UInt64, count: UInt64) {}
}
