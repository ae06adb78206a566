// `bt`: VMware-style binary translation of the guest kernel [AA06]. As under `trap` the guest
// kernel runs deprivileged (U-mode) on shadow page tables under a TrapMonitor, which handles all
// that still traps: guest user code runs directly (its ecalls, faults and interrupts trap and are
// reflected), page faults fill shadows, traced page-table stores are emulated, interrupts are
// injected, the virtual SBI serves the kernel. What changes is the kernel's own code: it runs
// translated (BinaryTranslator), its sensitive instructions rewritten into inline emulation or
// callouts, so they never trap — which is also why `bt` is correct on a machine with holes
// (sensitive instructions that do not trap, `Machine.holes`), where `trap` is not [RI00].
// The translation cache is the block cache: a `bt` guest runs on the block engine or on the
// native-code engine built on it (`ExecutionMode.engine(given:)`), never on the interpreter.
//
// Costs: the machine charges guest instructions and the traps into the monitor; the monitor
// charges its work as under `trap`; the translator charges `translation` per kernel instruction
// translated, `bt_callout`, `bt_inline_csr`, `bt_inline`, `traced_write_inline`,
// `device_emulated` and `bt_indirect_jump` (BinaryTranslator.swift). All of them reach the
// hart's clock as they happen, so the account reproduces the clock.

import Boot
import Devices
import Machine
import RISCV

public final class BinaryTranslationTechnique: ShadowingTechnique {
    public let policy: BinaryTranslationPolicy
    /// The trap-and-emulate machinery `bt` shares with `trap` (monitor, shadows, virtual SBI).
    /// Afterburnt code leaves device accesses to the hardware (no learning at load time).
    let base: TrapTechnique
    /// Held strongly here: the machine's reference is weak.
    public private(set) var translator: BinaryTranslator?

    public init(policy: BinaryTranslationPolicy = BinaryTranslationPolicy(), shadowPolicy: ShadowPolicy = ShadowPolicy()) {
        self.policy = policy
        base = TrapTechnique(emulatesDevices: !policy.afterburn, shadowPolicy: shadowPolicy)
    }

    public var mode: ExecutionMode { .bt }
    public var monitor: TrapMonitor? { base.monitor }

    public func install(on guest: Guest) throws(GuestBuildError) {
        do {
            try base.install(on: guest)
        } catch {
            // Same requirements as trap's (hidden memory for shadows, the built-in SBI), named for bt.
            throw GuestBuildError(error.description.replacingOccurrences(of: "trap mode", with: "bt mode"))
        }
        guard let monitor = base.monitor else { throw GuestBuildError("bt mode: the monitor did not start") }
        if let translator {   // re-pricing only
            price(translator, guest.profile)
            return
        }
        let translator = BinaryTranslator(machine: guest.machine, monitor: monitor, policy: policy)
        price(translator, guest.profile)
        if policy.afterburn {
            // Load-time patching instead (Afterburner.swift): no adaptation, no learnt devices.
            translator.afterburn(guest)
        } else {
            monitor.tracedWriteEmulated = { [unowned translator] pc in translator.tracedWriteTrapped(pc: pc) }
            monitor.deviceAccessEmulated = { [unowned translator] pc, retired in translator.deviceAccessTrapped(pc: pc, retired: retired) }
        }
        self.translator = translator
        guest.machine.translator = translator
        reportPrivileged(translator, to: guest)
    }

    /// System instructions emulated by callouts reach the guest's hooks as `privileged` events,
    /// as those the machine executes do.
    func reportPrivileged(_ translator: BinaryTranslator, to guest: Guest) {
        let monitor = translator.monitor
        // The hub is held, as the monitor's `onEvent` holds it: with no hook watching, the closure
        // touches nothing else (a checked unowned reference is an atomic retain on each use).
        translator.onPrivileged = { [events = guest.events, unowned guest, unowned monitor] pc, bits in
            guard events.observes(.privileged) else { return }
            var event = GuestEvent(kind: .privileged, vcpu: monitor.hart, pc: pc, privilege: monitor.vcpu.privilege,
                                   instructions: guest.instructions, cycles: guest.machine.cycles)
            event.value = UInt64(bits)
            guest.events.dispatch(event)
        }
        translator.eventHooks = guest.events
    }

    func price(_ t: BinaryTranslator, _ p: CostProfile) {
        var prices = BinaryTranslationPrices()
        prices.translation = p.cycles(.translation)
        prices.callout = p.cycles(.btCallout)
        prices.inline = p.cycles(.btInline)
        prices.inlineCSR = p.cycles(.btInlineCSR)
        prices.tracedWriteInline = p.cycles(.tracedWriteInline)
        prices.indirectJump = p.cycles(.btIndirectJump)
        t.prices = prices
    }

    /// Every shadow entry that disagrees with the guest's tables now (empty when coherent).
    public func checkCoherence() -> [ShadowIncoherence] { base.checkCoherence() }

    public func account(_ guest: Guest, vcpu: Int) -> CycleAccount {
        var a = base.account(guest, vcpu: vcpu)
        if vcpu == 0, let c = translator?.counters {
            a.record(.translation, count: c.translatedInstructions)
            a.record(.btCallout, count: c.callouts)
            a.record(.btInlineCSR, count: c.inlineCSR)
            a.record(.btInline, count: c.deviceInline)
            a.record(.tracedWriteInline, count: c.tracedWriteInline)
            a.record(.btIndirectJump, count: c.indirectJumps)
            a.settleWaitedCycles(clock: guest.machine.counters(hart: vcpu).cycles)
        }
        return a
    }

    /// The monitor's (an instruction's first access) and translated code's.
    public func deviceAccessesPerformed(_ guest: Guest) -> UInt64 {
        base.deviceAccessesPerformed(guest) &+ (translator?.deviceAccessesInTranslatedCode ?? 0)
    }

    /// Traps into the monitor, by cause (translated kernel code no longer traps on its sensitive
    /// instructions; what remains is user code's traps, faults, and first device accesses).
    public func exits(_ guest: Guest) -> [String: UInt64] { base.exits(guest) }

    public func counters(_ guest: Guest) -> [String: [String: UInt64]] {
        var groups = base.counters(guest)
        if let t = translator {
            groups["bt"] = t.counters.dictionary
            groups["callouts_by_kind"] = t.counters.byKind
            if let a = t.afterburner { groups.merge(a.counterGroups) { $1 } }
        }
        // The translation cache as the block engine keeps it: one cache for the translated kernel
        // and the guest's directly executed user code alike (both run from blocks), so its hits
        // are the whole guest's.
        let cache = guest.machine.blockEngineCounters
        groups["block_cache"] = ["entries": cache.entered, "built": cache.blocksBuilt,
                                 "hits": cache.entered &- min(cache.entered, cache.blocksBuilt),
                                 "chained": cache.chained, "invalidated": cache.blocksInvalidated]
        return groups
    }
}
