// Scheduling faults and reaching their triggers. The guest's run loop asks the injector how far the
// machine may run before the next instruction- or cycle-triggered fault (or delayed interrupt) is
// due, adds the pc triggers to the machine's breakpoints, and lets event triggers fire inside the
// observer callback; so every fault fires at the same instruction on every run.
import Boot
import Devices
import Machine

public final class FaultInjector {
    struct Pending {
        let id: Int
        let spec: FaultSpec
        /// The internal hook counting events, for event triggers.
        var hook: HookID?
    }

    /// An interrupt fault that acts after it fired: on later assertions.
    struct Interception {
        let record: Int               // index into `record`
        let kind: FaultKind           // drop or delay
        let target: InterruptTarget
        var remaining: Int
        let delay: UInt64
        var affected = 0
        /// PLIC lines: dropped edges already accounted for.
        var seenDroppedEdges: UInt64 = 0
    }

    /// A delayed interrupt waiting for its cycle.
    struct DelayedRelease {
        let at: UInt64
        let target: InterruptTarget
        let interception: Int
    }

    /// A link taken down for a while, waiting for its cycle to come back up.
    struct LinkRestore {
        let at: UInt64
        let card: Int
        let record: Int
    }

    /// The next delayed interrupt's release or link's return as a deadline of the machine: a
    /// machine whose harts all sleep in wfi skips its time to the earliest timed-device deadline,
    /// so a guest asleep meanwhile (waiting for the very interrupt being delayed, typically) sleeps
    /// until then, rather than the machine going idle.
    final class FaultClock: TimedDevice {
        weak var injector: FaultInjector?
        var nextDeadline: UInt64?

        func advance(to mtime: UInt64) { injector?.fireTimed() }
    }

    weak var guest: Guest?
    private var nextID = 1
    private var pendingFaults: [Pending] = []
    /// Every fault that fired, in firing order.
    public internal(set) var record: [InjectedFault] = []
    var interceptions: [Interception] = []
    var delayed: [DelayedRelease] = [] { didSet { scheduleClock() } }
    var linkRestores: [LinkRestore] = [] { didSet { scheduleClock() } }
    let clock = FaultClock()
    /// Device failures armed, to turn into effects as the devices count failures.
    var deviceWatches: [(record: Int, device: DeviceTarget, before: UInt64, count: Int)] = []
    /// Set while the injector itself drives a pin (so its own pin event is not taken for a device's).
    var drivingPin = false
    /// Set when the injector stopped the machine to act (not a user-visible stop).
    private var internalStop = false

    init() {
        clock.injector = self
    }

    /// Faults waiting for their trigger.
    public var pending: [FaultSpec] { pendingFaults.map(\.spec) }

    /// Checks `spec` and schedules it; `.now` fires before this returns. Returns the fault's id.
    @discardableResult
    public func schedule(_ spec: FaultSpec) throws(FaultError) -> Int {
        guard let guest else { throw FaultError("the VM is closed") }
        try Self.validateShape(spec)
        _ = try resolve(spec, guest: guest)          // every value checked now, not when it fires
        let id = nextID
        nextID += 1
        var p = Pending(id: id, spec: spec)
        switch spec.trigger {
        case .now:
            fire(p, guest: guest)
            return id
        case .event(let kind, let count):
            var seen = 0
            p.hook = guest.events.add(kind, filter: .any, internal: true) { [unowned self] _ in
                seen += 1
                if seen == count, let i = self.pendingFaults.firstIndex(where: { $0.id == id }), let g = self.guest {
                    let due = self.pendingFaults.remove(at: i)
                    if let hook = due.hook { g.events.remove(hook) }
                    self.fire(due, guest: g)
                }
                return .proceed
            }
        default:
            // A fault scheduled by a hook during a run: the run's current chunk was planned
            // without it, so stop and plan again.
            replan()
        }
        pendingFaults.append(p)
        return id
    }

    /// Forgets every pending fault and interception (the VM is closing).
    func cancelAll() {
        for p in pendingFaults { if let h = p.hook { guest?.events.remove(h) } }
        pendingFaults.removeAll()
        interceptions.removeAll()
        delayed.removeAll()
        linkRestores.removeAll()
        updateObservation()
    }

    // MARK: the run loop's side

    /// Retired instructions until the next instruction-triggered fault, if any.
    var instructionsUntilNext: UInt64? {
        guard let guest else { return nil }
        let now = guest.instructions
        var best: UInt64?
        for p in pendingFaults {
            if case .instructions(let n) = p.spec.trigger { best = min(best ?? .max, n > now ? n - now : 0) }
        }
        return best
    }

    /// Cycles until the next cycle-triggered fault, delayed interrupt or link restored, if any.
    var cyclesUntilNext: UInt64? {
        guard let guest else { return nil }
        let now = guest.cycles
        var best: UInt64?
        for p in pendingFaults {
            if case .cycles(let c) = p.spec.trigger { best = min(best ?? .max, c > now ? c - now : 0) }
        }
        for d in delayed { best = min(best ?? .max, d.at > now ? d.at - now : 0) }
        for r in linkRestores { best = min(best ?? .max, r.at > now ? r.at - now : 0) }
        return best
    }

    /// Guest pcs where a fault waits.
    var pcTriggers: Set<UInt64> {
        var s = Set<UInt64>()
        for p in pendingFaults { if case .pc(let pc) = p.spec.trigger { s.insert(pc) } }
        return s
    }

    /// Fires every fault whose instruction or cycle has come, releases due delayed interrupts and
    /// brings links back up.
    func fireDue() {
        guard let guest else { return }
        pollDevices()
        pollLines(guest)
        let instructions = guest.instructions
        let cycles = guest.cycles
        let due = pendingFaults.filter { p in
            switch p.spec.trigger {
            case .instructions(let n): n <= instructions
            case .cycles(let c): c <= cycles
            default: false
            }
        }
        for p in due {
            pendingFaults.removeAll { $0.id == p.id }
            fire(p, guest: guest)
        }
        fireTimed()
    }

    /// Releases the delayed interrupts and brings back up the links whose cycle has come.
    func fireTimed() {
        guard let guest, !delayed.isEmpty || !linkRestores.isEmpty else { return }
        let cycles = guest.cycles
        let ready = delayed.filter { $0.at <= cycles }
        if !ready.isEmpty {
            delayed.removeAll { $0.at <= cycles }
            for d in ready { release(d, guest: guest) }
        }
        let due = linkRestores.filter { $0.at <= cycles }
        if !due.isEmpty {
            linkRestores.removeAll { $0.at <= cycles }
            for r in due { restore(r, guest: guest) }
        }
    }

    /// Sets the clock's deadline to the first tick at or after the next release or return.
    func scheduleClock() {
        guard let machine = guest?.machine else { return }
        let perTick = machine.configuration.cyclesPerTick
        let next = (delayed.map(\.at) + linkRestores.map(\.at)).min().map { ($0 &+ perTick &- 1) / perTick }
        guard next != clock.nextDeadline else { return }
        clock.nextDeadline = next
        machine.addTimedDevice(clock)
        machine.timedDeviceChanged(clock)
    }

    /// A pc trigger's breakpoint was reached.
    func reachedPC(_ pc: UInt64) {
        guard let guest else { return }
        let due = pendingFaults.filter { if case .pc(let p) = $0.spec.trigger { return p == pc } else { return false } }
        for p in due {
            pendingFaults.removeAll { $0.id == p.id }
            fire(p, guest: guest)
        }
    }

    /// Releases every delayed interrupt at once: the machine went idle before their time, which
    /// the clock's deadline keeps from happening while a hart sleeps (left for a machine whose harts
    /// have all stopped).
    func releaseDelayedNow() -> Bool {
        guard let guest, !delayed.isEmpty else { return false }
        let all = delayed
        delayed.removeAll()
        for d in all { release(d, guest: guest) }
        return true
    }

    /// Ends the machine's current chunk so the run loop recomputes where to stop next (a deadline
    /// appeared while the machine ran). Outside a run, the next run starts by planning anyway.
    func replan() {
        guard let guest, !internalStop else { return }
        internalStop = true
        guest.machine.requestStop(.hostStop("the fault injector plans its next deadline"))
    }

    /// Whether the last host stop was the injector's own; clears it.
    func consumeInternalStop() -> Bool {
        defer { internalStop = false }
        return internalStop
    }

    // MARK: firing

    private func fire(_ p: Pending, guest: Guest) {
        let vcpu = Self.vcpu(p.spec, guest: guest)
        var entry = InjectedFault(id: p.id, kind: p.spec.kind, parameters: p.spec.parameters, trigger: p.spec.trigger,
                                  instructions: guest.instructions, cycles: guest.cycles,
                                  pc: guest.machine.pc(hart: vcpu), effect: "")
        let index = record.count
        record.append(entry)
        do {
            entry.effect = try apply(try resolve(p.spec, guest: guest), recordIndex: index, guest: guest)
        } catch {
            entry.effect = "not applied: \(error.description)"
        }
        record[index].effect = entry.effect
    }

    static func vcpu(_ spec: FaultSpec, guest: Guest) -> Int {
        if case .integer(let v)? = spec.parameters["vcpu"], v < UInt64(guest.machine.hartCount) { return Int(v) }
        return 0
    }

    /// Keeps the machine observing what active interceptions and device watches need.
    func updateObservation() {
        guard let guest else { return }
        let watching = !interceptions.isEmpty || !delayed.isEmpty || !deviceWatches.isEmpty
        guest.events.extraMachineKinds = watching ? [.pin, .mmio, .dma] : []
        guest.events.rawListener = watching ? { [unowned self] event in self.observed(event) } : nil
    }
}
