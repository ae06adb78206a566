// The `bt` mode's translator: VMware-style binary translation of the guest kernel [AA06, §3]. The
// machine's decoded-code cache (and the block engine's blocks built from it) is the translation
// cache: every instruction the guest kernel executes is shown to `translate` the first time it is
// decoded, which charges the translation and replaces each sensitive instruction by a callout
// (CalloutKind.swift); the rest of the kernel's code runs as it is. Guest user code is not
// translated — it runs directly, as under VMware's BT, whose user mode ran on the hardware — and
// whatever it does that the hardware refuses traps into the TrapMonitor as under `trap`.
//
// Adaptive translation [AA06, §3.3]: the monitor tells the translator of every trapped store to a
// traced page-table page; once one store instruction (by physical pc) has faulted
// `policy.adaptThreshold` times, it is retranslated into a callout that emulates it with no trap
// (`traced_write_inline`): a guarded store (`CodeRewrite.calloutOnMiss`), which calls out only
// when it leaves the hart's fast path, as every store to a traced page does (`settleGuards`).
// A kernel load or store that reaches a device is learnt on its first (trapped) access and
// retranslated into a callout that performs the access on the device model.

import Machine
import RISCV

/// What the translator has done.
public struct BinaryTranslationCounters: Sendable, Equatable, Codable {
    /// Guest kernel instructions translated (each charged `translation`).
    public var translatedInstructions: UInt64 = 0
    /// Blocks the block engine built from translated kernel code.
    public var blocksTranslated: UInt64 = 0
    /// Ranges of translated code dropped because the guest (or a device) wrote them.
    public var invalidations: UInt64 = 0
    /// Calls into the VMM from translated code (each charged `bt_callout`).
    public var callouts: UInt64 = 0
    /// Instructions emulated inline in translated code (`bt_inline_csr`, `bt_inline`, `traced_write_inline`).
    public var inline: UInt64 = 0
    /// CSR accesses emulated inline (`bt_inline_csr`).
    public var inlineCSR: UInt64 = 0
    /// Stores retranslated after `adaptThreshold` traced-write faults.
    public var adaptations: UInt64 = 0
    /// Traced stores emulated by adapted code without a trap (`traced_write_inline`).
    public var tracedWriteInline: UInt64 = 0
    /// Adapted stores that called into the VMM and found no traced page there, so the hart
    /// completed them itself (not charged: the guest sees a store). A guarded store calls in only
    /// when it leaves the hart's fast path (a TLB refill, a first write to a page, a fault).
    public var tracedStoreNative: UInt64 = 0
    /// Times the adapted stores were made to call in at every execution for a while, because the
    /// monitor's view of the external interrupt was behind the PLIC's (see `settleGuards`).
    public var guardSuspensions: UInt64 = 0
    /// Device register accesses performed by translated code (`bt_inline`).
    public var deviceInline: UInt64 = 0
    /// Device register accesses that trapped (the monitor denies the guest the devices) and were
    /// emulated by the monitor (`device_emulated`, which the monitor counts and charges too): a
    /// kernel instruction's first, and guest user code's.
    public var deviceEmulated: UInt64 = 0
    /// Kernel instructions learnt to access devices and retranslated.
    public var devicesLearnt: UInt64 = 0
    /// Indirect jumps executed in translated code (each charged `bt_indirect_jump`).
    public var indirectJumps: UInt64 = 0
    /// Callouts executed (emulated, not sent back to the hardware), by `CalloutKind` raw value:
    /// counted on every callout, so by number rather than by name.
    var calloutsByKind = [UInt64](repeating: 0, count: 16)
    /// Callouts executed (emulated, not sent back to the hardware), by kind name; only the kinds
    /// that happened.
    public var byKind: [String: UInt64] {
        var named: [String: UInt64] = [:]
        for kind in CalloutKind.allCases where calloutsByKind[Int(kind.rawValue)] != 0 {
            named[kind.name] = calloutsByKind[Int(kind.rawValue)]
        }
        return named
    }

    /// The counters under their snake_case names, for `vm:stats()`.
    public var dictionary: [String: UInt64] {
        ["translated_instructions": translatedInstructions, "blocks_translated": blocksTranslated,
         "invalidations": invalidations, "callouts": callouts, "inline": inline, "inline_csr": inlineCSR,
         "adaptations": adaptations, "traced_write_inline": tracedWriteInline, "traced_store_native": tracedStoreNative,
         "guard_suspensions": guardSuspensions, "device_inline": deviceInline,
         "device_emulated": deviceEmulated, "devices_learnt": devicesLearnt, "indirect_jumps": indirectJumps]
    }
}

/// Modelled cycles of the translator's work, charged to the hart's clock as it happens.
public struct BinaryTranslationPrices: Sendable, Equatable {
    public var translation: UInt64 = 0
    public var callout: UInt64 = 0
    public var inline: UInt64 = 0
    public var inlineCSR: UInt64 = 0
    public var tracedWriteInline: UInt64 = 0
    public var indirectJump: UInt64 = 0

    public init() {}
}

/// The binary translator of one `bt` VM (one vCPU on hart 0, like the monitor it extends).
public final class BinaryTranslator: CodeTranslator {
    /// The machine holds the monitor, the technique holds the translator; the machine's
    /// reference to the translator is weak. Unchecked, as the monitor's is: the translator runs
    /// only in the machine's callouts or through its guest, which holds the machine.
    public unowned(unsafe) let machine: Machine
    public let monitor: TrapMonitor
    public let policy: BinaryTranslationPolicy
    public var prices = BinaryTranslationPrices()
    /// Called with the pc and bits of each SYSTEM-class instruction a callout emulates, before
    /// its effect: the machine reports those it executes itself (`privileged` events), and a
    /// callout replaced this one.
    public var onPrivileged: ((UInt64, UInt32) -> Void)? { didSet { eventHooks = nil } }
    /// The hooks `onPrivileged` reports to, when the closure does no more than that
    /// (`BinaryTranslationTechnique`'s; setting `onPrivileged` clears this): while none watches
    /// `privileged`, the closure is not called, as calling it retained and released its context.
    var eventHooks: EventHub?
    public internal(set) var counters = BinaryTranslationCounters()
    /// Traced-write faults so far, by the physical pc of the store.
    var tracedFaults: [UInt64: Int] = [:]
    /// Physical pcs of stores adapted into traced-store callouts.
    public internal(set) var adaptedStores: Set<UInt64> = []
    /// Physical pcs of kernel loads and stores learnt to access devices.
    public internal(set) var deviceAccesses: Set<UInt64> = []
    /// Device register accesses translated code performed on the device model (inline or by
    /// callout, as the policy says): the hardware never saw them.
    public internal(set) var deviceAccessesInTranslatedCode: UInt64 = 0
    /// Physical pages holding translated kernel code.
    var translatedPages: Set<UInt64> = []
    /// Set while the translator drops code itself (retranslation is not an invalidation).
    var retranslating = false
    /// What `settleGuards` last decided (the machine's switch is the authority: see there).
    var guardsSuspended = false
    /// Under `policy.afterburn`, the load-time patcher whose patch words are this translator's
    /// only callouts (Afterburner+BinaryTranslator.swift): nothing is translated then.
    public internal(set) var afterburner: Afterburner?

    public init(machine: Machine, monitor: TrapMonitor, policy: BinaryTranslationPolicy) {
        self.machine = machine
        self.monitor = monitor
        self.policy = policy
    }

    /// `body` applied to the machine without a retain, as `TrapMonitor.withMachine` (every
    /// callout makes a few calls).
    @inline(__always) @discardableResult
    func withMachine<R>(_ body: (Machine) -> R) -> R {
        Unmanaged.passUnretained(machine)._withUnsafeGuaranteedRef(body)
    }

    /// The guest kernel is running (virtual S-mode), so decoded code is kernel code.
    var inKernel: Bool { monitor.vcpu.privilege == .supervisor }

    // MARK: CodeTranslator

    public func translate(_ instruction: Instruction, physical: UInt64, hart: Int) -> CodeRewrite {
        // Afterburnt: patch words call out (in any mode, for every hart: the callout checks),
        // nothing else changes.
        if let afterburner { return afterburner.rewrite(instruction, physical: physical) }
        guard hart == monitor.hart, inKernel else { return .keep }
        counters.translatedInstructions &+= 1
        charge(prices.translation)
        translatedPages.insert(physical >> 12)
        return rewrite(of: instruction, at: physical)
    }

    /// What translating kernel `instruction` at `physical` makes of it now (nothing counted).
    func rewrite(of instruction: Instruction, at physical: UInt64) -> CodeRewrite {
        // Learnt kinds first: an adapted instruction is a load or store, never sensitive itself.
        // An adapted store calls out only where it could hit a traced page (`guardedStores`).
        if adaptedStores.contains(physical) {
            let id = CalloutKind.tracedStore.id
            return policy.guardedStores ? .calloutOnMiss(id) : .callout(id)
        }
        if deviceAccesses.contains(physical) { return .callout(CalloutKind.device.id) }
        if let kind = CalloutKind.classify(instruction) { return .callout(kind.id) }
        if instruction.opcode == .jalr && !isDirect(jalrAt: physical, base: instruction.rs1) {
            return .callout(CalloutKind.indirectJump.id)
        }
        return .keep
    }

    /// Whether the `jalr` at `physical` is the second half of a direct call or jump: `auipc`
    /// (or `lui`) into its base register just before it, the pair every RISC-V code model emits
    /// for `call` and `tail` beyond `jal`'s reach. Its target is then known at translation time,
    /// as an x86 `call rel32`'s is, and the translator links it in place. (Read as the word
    /// before it, on the same page. A compressed instruction after the upper half of a 32-bit
    /// one could in principle look like such a word; the price would then be missed, no more.)
    func isDirect(jalrAt physical: UInt64, base: UInt8) -> Bool {
        guard base != 0, physical & 0xFFF >= 4,
              let before = machine.hostPointer(physical: physical - 4, count: 4) else { return false }
        let word = before.loadUnaligned(as: UInt32.self)
        let opcode = word & 0x7F
        return (opcode == 0x17 || opcode == 0x37) && (word >> 7) & 31 == UInt32(base)
    }

    public func callout(_ id: UInt32, instruction: Instruction, pc: UInt64, hart: Int) -> CalloutOutcome {
        if let afterburner, Afterburner.isPatchCallout(id) {
            return afterburner.callout(id, pc: pc, hart: hart, emulation: self)
        }
        guard hart == monitor.hart, let kind = CalloutKind(id: id) else { return .native }
        return emulate(kind, instruction: instruction, pc: pc)
    }

    public func blockBuilt(physical: UInt64, instructions: Int, hart: Int) {
        if hart == monitor.hart && inKernel && afterburner == nil { counters.blocksTranslated &+= 1 }
    }

    public func codeInvalidated(physical: UInt64, count: UInt64) {
        guard !retranslating, count > 0, !translatedPages.isEmpty else { return }
        let first = physical >> 12
        let last = (physical &+ (count - 1)) >> 12
        guard last >= first else { return }
        var hit = false
        if last - first < UInt64(translatedPages.count) {
            for page in first...last where translatedPages.contains(page) {
                hit = true
                // A page the range covers whole holds no translated code any more.
                if page << 12 >= physical && (page + 1) << 12 <= physical &+ count { translatedPages.remove(page) }
            }
        } else {
            for page in translatedPages where page >= first && page <= last {
                hit = true
                if page << 12 >= physical && (page + 1) << 12 <= physical &+ count { translatedPages.remove(page) }
            }
        }
        if hit { counters.invalidations &+= 1 }
    }

    /// An indirect jump in translated kernel code: charged, then run by the hardware as it is
    /// (traps included). The same physical code run by guest user code is not translated code.
    func indirectJump() -> CalloutOutcome {
        guard inKernel else { return .native }
        counters.indirectJumps &+= 1
        charge(prices.indirectJump)
        return .native
    }

    // MARK: adaptation

    /// The monitor emulated a trapped store at the guest's `pc` to a traced page: count it
    /// against the store, and adapt the store once it reaches the threshold.
    func tracedWriteTrapped(pc: UInt64) {
        guard policy.adaptThreshold > 0, inKernel, let (physical, length) = physicalInstruction(at: pc) else { return }
        let n = (tracedFaults[physical] ?? 0) + 1
        tracedFaults[physical] = n
        guard n == policy.adaptThreshold, !adaptedStores.contains(physical) else { return }
        adaptedStores.insert(physical)
        counters.adaptations &+= 1
        retranslate(physical, length)
        settleGuards()
    }

    /// Suspends the guarded stores' fast path while a callout would not be a plain look: every
    /// traced-store callout begins as every callout does, with the monitor following the PLIC's
    /// pin (`TrapMonitor.syncExternalInterrupt`), and a guarded store that completes on the fast
    /// path makes no callout. The two agree whenever that step would change nothing
    /// (`TrapMonitor.externalInterruptSettled`), which only a guest access to the PLIC (a claim)
    /// can undo between the monitor's steps: a device access, performed by a callout or after a
    /// trap, both here, or the virtual SBI's own use of a device (an `ecall` callout). So after
    /// each of those the fast path is suspended while it is so
    /// (`Machine.guardedStoresAlwaysCallOut`: every adapted store calls out, as it did before
    /// guarded stores existed), and while suspended, every callout (whose first step settles it)
    /// looks again to restore it. (A pin that rises while the real enable is on is not a window:
    /// the hart takes the interrupt into the monitor before its next instruction.)
    func settleGuards() {
        guard policy.guardedStores, !adaptedStores.isEmpty else { return }
        let suspend = !monitor.externalInterruptSettled
        guardsSuspended = suspend
        guard suspend != withMachine({ $0.guardedStoresAlwaysCallOut }) else { return }
        if suspend { counters.guardSuspensions &+= 1 }
        withMachine { $0.guardedStoresAlwaysCallOut = suspend }
    }

    /// `settleGuards` after callout `kind`: only a kind that may reach a device can suspend the
    /// guards, and only while they are suspended can a callout restore them; the other callouts
    /// (CSR accesses, sret, fences, adapted stores: most of them) skip the look.
    @inline(__always)
    func settleGuards(after kind: CalloutKind) {
        if guardsSuspended || kind == .device || kind == .ecall { settleGuards() }
    }

    /// Drops the decoded code of one instruction so that `translate` sees it again.
    func retranslate(_ physical: UInt64, _ length: UInt64) {
        retranslating = true
        machine.retranslate(physical: physical, count: length)
        retranslating = false
    }

    /// The machine-physical address and length of the instruction at the guest's virtual `pc`
    /// (through the guest's own tables in the current view), or nil when it cannot be fetched.
    func physicalInstruction(at pc: UInt64) -> (UInt64, UInt64)? {
        let shadow = monitor.shadow
        guard let gpa = monitor.guestPhysical(pc, .fetch, asGuestAccess: false), let (ma, isRAM) = shadow.map.machineAddress(gpa), isRAM,
              let inst = shadow.fetchInstruction(at: pc) else { return nil }
        return (ma, UInt64(inst.length))
    }

    func charge(_ cycles: UInt64) {
        if cycles != 0 { withMachine { $0.charge(cycles, hart: monitor.hart) } }
    }

    /// Counts and charges one callout.
    func chargeCallout() {
        counters.callouts &+= 1
        charge(prices.callout)
    }

    /// What an emulation in translated code emulated, for its counter and price.
    enum InlineEmulation { case csr, device }

    /// Counts and charges one emulation in translated code: inline (counted also under `kind`,
    /// at its price) when the policy emulates inline, else a callout. (Not a key path: one is
    /// instantiated by the runtime at each use, a tenth of a CSR callout's host time.)
    func chargeEmulation(_ kind: InlineEmulation) {
        guard policy.inlineEmulation else { return chargeCallout() }
        counters.inline &+= 1
        switch kind {
        case .csr:
            counters.inlineCSR &+= 1
            charge(prices.inlineCSR)
        case .device:
            counters.deviceInline &+= 1
            charge(prices.inline)
        }
    }
}
