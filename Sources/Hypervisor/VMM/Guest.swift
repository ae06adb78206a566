// One virtual machine: a `VirtBoard` (its devices, firmware, loader and console) whose `Machine` is
// the hardware context its vCPUs run on, and a `Technique` that says how they run and what they
// cost. `native` runs the board's machine directly; a VMM mode runs it as the VMM's software CPU over
// RAM carved out of a host's RAM (a standalone VMM guest gets a private host sized to it).
//
// Running is deterministic: breakpoints, `until` conditions and fault triggers are all reached by
// instruction and cycle budgets, breakpoints or observer stops, never by host time.
import Boot
import Devices
import Machine

public final class Guest {
    public let id: Int
    public let name: String
    public let mode: ExecutionMode
    public let technique: any Technique
    public let board: VirtBoard
    /// Where the vCPUs execute (the board's machine).
    public var machine: Machine { board.machine }
    /// The VM's window of host RAM (nil for `native`: no VMM, the machine's RAM is its own).
    public private(set) var carveout: Carveout?
    public private(set) weak var host: Host?
    /// A standalone VMM guest's private host, kept alive by the guest.
    private(set) var privateHost: Host?
    public let events: EventHub
    public let faults: FaultInjector
    /// Why the run ended for good (powered off, reset): the guest runs no further.
    public internal(set) var finalStop: StopReason?
    /// Why the last `run` returned, for whoever did not make the call (`host:stats()` names each
    /// VM's). A hart stuck on its trap vector keeps the first report of it, which names the trap
    /// that led there; running it again only finds the same fault.
    public internal(set) var lastStop: StopReason?
    /// True when the last `run` returned because its `until` condition was met.
    public internal(set) var untilReached = false
    private var detached = false

    /// The cost profile; setting it re-prices the machine from the next instruction on.
    public var profile: CostProfile {
        didSet { try? technique.install(on: self) }
    }

    /// Guest pcs where `run` stops (before executing the instruction there).
    public var breakpoints: Set<UInt64> = []
    /// Guest-physical ranges where `run` stops after an access.
    public var watchpoints: Set<Watchpoint> {
        get { machine.watchpoints }
        set { machine.watchpoints = newValue }
    }

    /// A VM with a machine of its own: `native` runs on it directly; VMM modes get a private host
    /// sized to the VM.
    public convenience init(_ configuration: GuestConfiguration) throws(GuestBuildError) {
        if configuration.mode.needsVMM {
            let vmmMemory = configuration.vmmMemory
            let host = Host(HostConfiguration(memory: configuration.board.memory + vmmMemory,
                                              harts: configuration.board.harts,
                                              profile: configuration.profile))
            try self.init(configuration: configuration, host: host, ownsHost: true)
        } else {
            try self.init(configuration: configuration, host: nil, ownsHost: false)
        }
    }

    /// Builds the VM; with a host, its RAM is a carve-out of the host's and the host schedules it.
    init(configuration: GuestConfiguration, host: Host?, ownsHost: Bool) throws(GuestBuildError) {
        var configuration = configuration
        configuration.board.hiddenMemory = max(configuration.board.hiddenMemory,
                                               configuration.vmmMemory)
        // A hw guest's machine has the hypervisor extension (its kernel runs in VS-mode).
        if configuration.mode == .hw { configuration.board.machine.hypervisorExtension = true }
        configuration.board.machine.engine = configuration.mode.engine(given: configuration.board.machine.engine)
        technique = try configuration.mode.makeTechnique(for: configuration)
        var boardConfiguration = configuration.board
        if let host {
            let reservation = try host.reserve(configuration)
            id = reservation.id
            carveout = reservation.carveout
            boardConfiguration = reservation.board
        } else {
            id = 1
            carveout = nil
        }
        name = configuration.name ?? "vm\(id)"
        mode = configuration.mode
        self.host = host
        privateHost = ownsHost ? host : nil
        profile = configuration.profile
        do {
            board = try VirtBoard(boardConfiguration)
        } catch {
            if let host, let carveout { host.release(carveout) }
            throw GuestBuildError(error.description)
        }
        events = EventHub(machine: board.machine, mode: configuration.mode)
        faults = FaultInjector()
        events.instructionCount = { [unowned self] in self.instructions }
        faults.guest = self
        try technique.install(on: self)
        host?.register(self, retained: !ownsHost)
    }

    /// Called by the host when the VM is removed: its RAM is no longer its own.
    func detach() {
        detached = true
        finalStop = finalStop ?? .hostStop("the VM was removed from its host")
        carveout = nil
    }

    /// Removes the VM from its host (freeing its carve-out) and drops its hooks and faults.
    public func close() {
        for id in events.allHookIDs { events.remove(id) }
        faults.cancelAll()
        if let host { host.remove(self) } else { detach() }
        privateHost = nil
    }

    // MARK: counts

    /// Instructions retired by every vCPU.
    public var instructions: UInt64 {
        var n: UInt64 = 0
        for h in 0..<machine.hartCount { n &+= machine.instructionsRetired(hart: h) }
        return n
    }

    /// Instructions retired or trapped, as the guest sees them: what instruction budgets count (a
    /// guest stuck in a loop of faults still uses its budget; a VMM's hidden faults do not).
    public var executedInstructions: UInt64 { machine.totalInstructions }

    /// The VM's modelled clock: the furthest any vCPU's clock has run. (`Machine.cycles` is the
    /// machine's clock between slices; a vCPU that took an interrupt just before a run ended on
    /// its cycle budget is already ahead of it.)
    public var cycles: UInt64 {
        var c = machine.cycles
        for h in 0..<machine.hartCount { c = max(c, machine.counters(hart: h).cycles) }
        return c
    }

    // MARK: console

    /// Everything the guest printed.
    public var console: [UInt8] { board.console.bytes }
    public var consoleText: String { board.console.text }

    /// Bytes for the guest's console input.
    public func input(_ bytes: [UInt8]) { board.enqueueInput(bytes) }
}
