// A guest's hooks. The hub is the guest machine's `MachineObserver`: it turns machine events into
// `GuestEvent`s, counts them, filters them in Swift and runs the handlers. It asks the machine only
// for the kinds some hook, `until` condition or fault trigger needs, so a run without hooks pays
// nothing (the machine's observer mask is empty).
//
// Timing (what a handler sees): a trap after it was delivered (pc = the trapping instruction, the
// guest's registers and CSRs already those of the handler's entry); an MMIO access or DMA after it
// completed; a page walk after it finished; a privileged instruction before its effect. A handler may
// read and write registers, CSRs and memory; the machine resumes after the current instruction and
// sees the changes.
import Boot
import Machine
import RISCV

public final class EventHub {
    struct Hook {
        let id: Int
        let kind: GuestEventKind
        let filter: EventFilter
        let handler: (GuestEvent) -> HookAction
        /// Internal consumers (until conditions, fault triggers) are not counted as hooks.
        let isInternal: Bool
    }

    unowned let machine: Machine
    let mode: ExecutionMode
    private var hooks: [Hook] = []
    /// The kinds some hook watches, as `GuestEventKind.bit`s (kept by `refresh`): what `observes`
    /// reads, which the trap monitor asks on every exit.
    private var observedMask: UInt32 = 0
    private var nextID = 1
    /// Kinds observed, and how many were seen while observed.
    public private(set) var counts: [GuestEventKind: UInt64] = [:]
    /// Machine kinds other parts of the VMM need (the fault injector watches `.pin` and `.mmio`).
    var extraMachineKinds: MachineEventKinds = [] { didSet { refresh() } }
    /// Raw machine events for those parts, before any mapping.
    var rawListener: ((MachineEvent) -> Void)?
    /// Set when a handler asked to stop; the guest's run loop reads and clears it.
    var stopRequested = false
    /// Supplies the guest's instruction count (retired, all vCPUs) for event timestamps.
    var instructionCount: () -> UInt64 = { 0 }

    init(machine: Machine, mode: ExecutionMode) {
        self.machine = machine
        self.mode = mode
    }

    // MARK: hooks

    /// Calls `handler` for every event of `kind` that `filter` matches, until removed.
    @discardableResult
    public func add(_ kind: GuestEventKind, filter: EventFilter = .any, _ handler: @escaping (GuestEvent) -> HookAction) -> HookID {
        add(kind, filter: filter, internal: false, handler)
    }

    func add(_ kind: GuestEventKind, filter: EventFilter, internal isInternal: Bool, _ handler: @escaping (GuestEvent) -> HookAction) -> HookID {
        let id = nextID
        nextID += 1
        hooks.append(Hook(id: id, kind: kind, filter: filter, handler: handler, isInternal: isInternal))
        refresh()
        return HookID(value: id)
    }

    /// Removes a hook; removing one twice (or one already gone) does nothing.
    public func remove(_ id: HookID) {
        hooks.removeAll { $0.id == id.value }
        refresh()
    }

    /// Every hook's id (the user's and the VMM's own).
    var allHookIDs: [HookID] { hooks.map { HookID(value: $0.id) } }

    /// Hooks added by the user (not the VMM's own triggers).
    public var hookCount: Int { hooks.filter { !$0.isInternal }.count }

    /// The kinds some hook or trigger currently observes.
    public var observedKinds: Set<GuestEventKind> { Set(hooks.map(\.kind)) }

    /// Makes the machine report exactly the kinds someone needs.
    private func refresh() {
        var kinds = extraMachineKinds
        for h in hooks { kinds.formUnion(h.kind.machineKinds) }
        observedMask = hooks.reduce(0) { $0 | $1.kind.bit }
        machine.observedEvents = kinds
        machine.observer = kinds.isEmpty ? nil : self
    }

    // MARK: dispatch

    /// Whether any hook (a lab's or the VMM's own) watches `kind`: what an event of that kind
    /// would carry need not be worked out otherwise.
    @inline(__always)
    func observes(_ kind: GuestEventKind) -> Bool { observedMask & kind.bit != 0 }

    /// Counts `event` and runs the matching handlers (a snapshot of them: a handler may add or
    /// remove hooks).
    func dispatch(_ event: GuestEvent) {
        var observed = false
        for h in hooks where h.kind == event.kind { observed = true; break }
        guard observed else { return }
        counts[event.kind, default: 0] &+= 1
        let current = hooks
        for h in current where h.kind == event.kind && h.filter.matches(event) {
            guard hooks.contains(where: { $0.id == h.id }) else { continue }   // removed by an earlier handler
            if h.handler(event) == .stop && !stopRequested {
                stopRequested = true
                if !stopsTheMachineItself(event) { machine.requestStop(.hostStop("a hook stopped the run")) }
            }
        }
    }

    /// Whether `event` is an SBI call that already stopped the run with a power-off or reset, which
    /// a host stop requested now would replace (the machine keeps one pending stop): a successful
    /// SRST call (SBI v2.0 §10: it returns only on failure, a0 = error) or the legacy shutdown.
    func stopsTheMachineItself(_ event: GuestEvent) -> Bool {
        guard event.kind == .hypercall, let eid = event.causeCode else { return false }
        if eid == SBIExtension.legacyShutdown.rawValue { return true }
        return eid == SBIExtension.systemReset.rawValue && machine.register(10, hart: event.vcpu) == 0
    }

    private func stamp(_ kind: GuestEventKind, hart: Int, pc: UInt64, privilege: PrivilegeMode) -> GuestEvent {
        GuestEvent(kind: kind, vcpu: hart, pc: pc, privilege: privilege,
                   instructions: instructionCount(), cycles: machine.cycles)
    }

    /// An event of `kind` on vCPU `hart` at `pc`, stamped now as the machine's own are: the
    /// hart's privilege, the guest's instruction count, the clock (for a VMM whose vCPUs are the
    /// machine's harts).
    func stamp(_ kind: GuestEventKind, hart: Int, pc: UInt64) -> GuestEvent {
        stamp(kind, hart: hart, pc: pc, privilege: machine.privilege(hart: hart))
    }

    /// The `GuestEvent`s one machine event stands for.
    func translate(_ event: MachineEvent) -> [GuestEvent] {
        switch event {
        case .exception(let hart, let cause, let tval, let pc, let from, let handledByFirmware):
            if handledByFirmware && cause == RISCV.ExceptionCause.ecallS.rawValue {
                // The firmware (the VMM's virtual SBI) consumed an SBI call; a7 still holds its
                // extension ID (SBI v2.0, "Binary Encoding": a7 = EID).
                var e = stamp(.hypercall, hart: hart, pc: pc, privilege: from)
                let eid = machine.register(17, hart: hart)
                if eid == HypercallABI.extensionID {
                    // vmlab's own hypercall interface (HypercallABI.md): named by the call in a6.
                    let call = machine.register(16, hart: hart)
                    e.cause = "pv_" + (Hypercall(rawValue: call)?.name ?? "0x" + String(call, radix: 16))
                } else {
                    e.cause = "sbi_" + (SBIExtension(rawValue: eid)?.name.lowercased() ?? "0x" + String(eid, radix: 16))
                }
                e.causeCode = eid
                e.value = machine.register(16, hart: hart)   // a6 = function ID
                return [e]
            }
            var e = stamp(.trap, hart: hart, pc: pc, privilege: from)
            e.cause = RISCV.ExceptionCause(rawValue: cause)?.name ?? "exception_\(cause)"
            e.causeCode = cause
            e.address = tval
            return [e]
        case .interrupt(let hart, let cause, let pc, let from):
            var e = stamp(.trap, hart: hart, pc: pc, privilege: from)
            e.cause = RISCV.InterruptCause(rawValue: cause)?.name ?? "interrupt_\(cause)"
            e.causeCode = cause
            guard mode == .interpret else { return [e] }
            var injected = e
            injected.kind = .interruptInjected
            return [e, injected]
        case .mmio(let hart, let address, let size, let value, let isWrite, let pc):
            var e = stamp(.mmio, hart: hart, pc: pc, privilege: machine.privilege(hart: hart))
            e.address = address
            e.size = size
            e.value = value
            e.isWrite = isWrite
            return [e]
        case .pageWalk(let hart, let va, let references, let asid, let faulted):
            var e = stamp(.pageWalk, hart: hart, pc: machine.pc(hart: hart), privilege: machine.privilege(hart: hart))
            e.address = va
            e.references = references
            e.asid = asid
            e.cause = faulted ? "fault" : nil
            return [e]
        case .tlbFlush(let hart, let va, let asid):
            var e = stamp(.tlbFlush, hart: hart, pc: machine.pc(hart: hart), privilege: machine.privilege(hart: hart))
            e.address = va
            e.asid = asid
            return [e]
        case .privileged(let hart, let pc, let instruction):
            var e = stamp(.privileged, hart: hart, pc: pc, privilege: machine.privilege(hart: hart))
            e.value = UInt64(instruction)
            return [e]
        case .dma(let address, let count, let isWrite):
            var e = stamp(.dma, hart: 0, pc: machine.pc(hart: 0), privilege: machine.privilege(hart: 0))
            e.address = address
            e.size = count
            e.isWrite = isWrite
            return [e]
        case .pin:
            return []
        }
    }
}

extension EventHub: MachineObserver {
    public func machine(_ machine: Machine, observed event: MachineEvent) {
        rawListener?(event)
        guard !hooks.isEmpty else { return }
        for e in translate(event) { dispatch(e) }
    }
}
