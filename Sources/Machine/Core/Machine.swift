// The machine: harts, the physical bus (RAM + MMIO devices), the decoded-code cache, modelled time,
// and the round-robin scheduler that runs harts deterministically on one host thread.

/// A simulated RISC-V machine (RV64GC, M/S/U, Sv39/Sv48/Sv57, PMP) with `configuration.harts` harts.
public final class Machine {
    public let configuration: MachineConfiguration
    let bus: PhysicalBus
    let code: DecodedCode
    var harts: [Hart] = []
    var timedDevices: [any TimedDevice] = []
    /// Each timed device's deadline as last read; re-read after its `advance` and after each MMIO
    /// access to it (the `TimedDevice` contract), so slices cost no existential calls.
    var deadlines: [UInt64?] = []
    /// The minimum of `deadlines`.
    var earliestDeadline: UInt64? = nil
    /// Sstc's comparators, a timed device of the machine's own (nil without Sstc).
    private(set) var timerCompare: SupervisorTimerCompare?
    /// The installed firmware-in-Swift, offered traps bound for M-mode.
    public var trapHandler: (any MachineModeTrapHandler)? {
        didSet { trapHandlerHolds.installed(trapHandler) }
    }
    /// While the machine runs, the trap handler is also held for the run (`RunHolds`), and the
    /// harts call it through that hold (`withTrapHandler`): a VMM takes every trap of its guest,
    /// and loading `trapHandler` retained it around each.
    var trapHandlerHolds = RunHolds<any MachineModeTrapHandler>()
    /// The end (exclusive) of the physical addresses devices may reach by DMA; RAM above it
    /// refuses a transfer as if it were not there. A board that keeps memory for the VMM behind
    /// the guest's RAM (shadow page tables) sets it to the guest's RAM end, so a device the
    /// guest programs cannot reach the VMM's pages.
    public var dmaLimit: UInt64 = .max
    /// Told of every device write to RAM (`dmaWrite`), after the bytes are in: a VMM that keeps
    /// copies derived from guest memory (shadow page tables) follows them here, as a real VMM's
    /// emulated devices would tell it. Cleared with the devices.
    public var dmaWriteObserver: ((_ address: UInt64, _ count: Int) -> Void)?
    /// Cycles per retired instruction, cached from the cost table for the engine.
    var instructionCost: UInt64
    /// Global modelled time in cycles: the furthest any hart has got (see `mtime`).
    var globalCycles: UInt64 = 0
    /// Modelled cycles the clock skipped because every hart waited for an interrupt: how long the
    /// machine slept. A host tells a guest that waits for something (`vmlab boot`'s console input
    /// after its standard input ended) from one that computes.
    public internal(set) var sleptCycles: UInt64 = 0
    /// The hart currently running a slice (its clock is the machine's clock meanwhile).
    var currentHart: Int? = nil
    /// A stop requested by a device or the host, taken at the next slice boundary.
    /// Each hart's state has a copy of `pendingStop != nil`, for the fetch refill path: a hart
    /// whose slice starts (or crosses a page) while a stop is pending ends the slice at once.
    var pendingStop: StopReason? = nil {
        didSet {
            let pending = pendingStop != nil
            for h in harts {
                if pending { h.state.pointee.refillHold |= holdStop } else { h.state.pointee.refillHold &= ~holdStop }
            }
        }
    }
    /// Physical pages holding an LR reservation (only tracked with several harts).
    var reservedPages: Set<UInt64> = [] { didSet { reservedPageCount.pointee = reservedPages.count } }
    /// `reservedPages.count`, where harts read it without touching the machine object.
    let reservedPageCount: UnsafeMutablePointer<Int> = {
        let p = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()
    /// Host breakpoints: execution stops before the instruction at one of these pcs (any hart).
    /// While any is set, harts run one instruction per slice.
    public var breakpoints: Set<UInt64> = []
    /// The log of RAM pages written, when a VMM keeps one (`writeLog`, RAMWriteLog.swift).
    var ramWriteLog: RAMWriteLog?
    /// The binary translator shown every decoded instruction (CodeTranslator.swift); setting it
    /// drops all decoded code so that everything is shown to it. Weak: a VMM owns its translator.
    /// (Kept weakly by the decoded-code cache, whose decode paths consult it; `run` holds it
    /// strongly until it returns, so that its callouts need no weak load: see `DecodedCode`.)
    public var translator: (any CodeTranslator)? {
        get { code.translator }
        set {
            code.translator = newValue
            code.translating = newValue != nil
            code.storesOffFastPath = false
            // Compiled code counts the translation cache's block executions for the translator.
            harts.first?.jit?.countsBlocks = newValue != nil
            // Every slot and block goes, and every hart's fetch page, so no instruction decoded
            // under the old translator (or none) runs again without being shown to the new one.
            code.dropAll()
            for h in harts { h.invalidateFetch() }
        }
    }
    /// While true, every `CodeRewrite.calloutOnMiss` store calls out, hit or miss: the harts keep
    /// no store entries in their soft TLBs (setting it drops them all), so every store takes the
    /// slow path, where a guarded one finds its callout. The soft TLB is the host's cache, seen by
    /// neither the guest nor any count, so this costs host time only. For a translator that must,
    /// for a while, be called at every execution of its guarded stores. Setting `translator`
    /// clears it.
    public var guardedStoresAlwaysCallOut: Bool {
        get { code.storesOffFastPath }
        set {
            guard newValue != code.storesOffFastPath else { return }
            code.storesOffFastPath = newValue
            if newValue { for h in harts { h.flushSoftTLB() } }
        }
    }
    public var holes: Set<SensitiveHole> = [] { didSet { hasHoles = !holes.isEmpty } }  // sensitive instructions that do not trap (SensitiveHole.swift); read on illegal-instruction paths only
    /// `!holes.isEmpty`, read without copying the set: a trap-and-emulate guest refuses a CSR on
    /// every one of its privileged instructions, and the copy was a retain and a release.
    private(set) var hasHoles = false
    /// The breakpoint `run` last stopped at, so the next `run` executes past it.
    var lastBreakpoint: (hart: Int, pc: UInt64)? = nil
    /// Where the round-robin stood when `run` last returned inside a pass over the harts: the hart
    /// whose turn it was, what was left of that turn, and whether a hart had run earlier in the
    /// pass. The next `run` takes up the schedule there, so that runs split at any budget take
    /// the harts through exactly the interleaving of one long run. nil: a new pass from hart 0.
    var interruptedTurn: InterruptedTurn? = nil
    /// The cost table in use; changing it takes effect at once.
    public var costs: CostTable {
        get { costTable }
        set {
            costTable = newValue
            instructionCost = newValue.instruction
            for h in harts { h.state.pointee.costs = newValue }
        }
    }
    var costTable: CostTable

    // MARK: observation (see MachineEvent.swift, Watchpoint.swift)

    /// The observer and the raw `observedEvents` bits, which slow paths test with one load.
    /// Weak: an observer usually owns (or is owned with) the machine it watches.
    weak var observerRef: (any MachineObserver)? = nil
    var observedMask: UInt32 = 0 {
        didSet { for h in harts { h.state.pointee.observedMask = observedMask } }
    }
    /// An event is being delivered: events the observer causes are not reported back to it.
    var delivering = false
    /// DMA and watchpoint counters (privileged counts live in each hart's state).
    var tally = ObservationTally()
    /// Events delivered to the observer (read by the fetch path to see whether one was).
    var eventsDelivered: UInt64 = 0
    /// Reports of harts stuck on their trap vectors, on a machine with several (StuckHarts.swift).
    var stuckHarts: StuckHarts
    /// Physical ranges whose data accesses by harts stop the run; setting it drops every hart's
    /// soft TLB so watched pages leave the fast path for the watched access kind.
    public var watchpoints: Set<Watchpoint> = [] {
        didSet {
            hasWatchpoints = !watchpoints.isEmpty
            for h in harts { h.state.pointee.watching = hasWatchpoints }
            watchpointsChanged()
        }
    }
    var hasWatchpoints = false
    /// `harts`, unretained (the array holds them): what a VMM's calls on every trap of its guest
    /// reach a hart through (`withHart`), where reading the array retained its buffer around the
    /// call.
    let hartTable: UnsafeMutablePointer<Unmanaged<Hart>>
    /// Per RAM page: `watchReadBit` / `watchWriteBit` when a watchpoint of that kind meets it.
    let watchPages: UnsafeMutablePointer<UInt8>
    /// The pages `watchPages` flags now, so that a change clears them rather than the whole table.
    var watchedPages: [Int] = []

    public init(_ configuration: MachineConfiguration = MachineConfiguration()) {
        precondition((1...64).contains(configuration.harts), "1...64 harts")
        precondition([0, 16, 64].contains(configuration.pmpEntries), "PMP entries must be 0, 16 or 64")
        self.configuration = configuration
        let ram = RAM(base: configuration.ramBase, size: configuration.ramSize, backing: configuration.ramBacking)
        watchPages = ZeroedMapping.allocate(UInt8.self, count: Int(configuration.ramSize / 4096), purpose: "watchpoint page flags")
        bus = PhysicalBus(ram: ram)
        code = DecodedCode(ramBase: configuration.ramBase, ramSize: configuration.ramSize)
        instructionCost = configuration.costs.instruction
        costTable = configuration.costs
        stuckHarts = StuckHarts(harts: configuration.harts)
        hartTable = .allocate(capacity: configuration.harts)
        for i in 0..<configuration.harts {
            let h = Hart(id: i, machine: self, configuration: configuration)
            h.state.pointee.watchPages = watchPages
            harts.append(h)
            (hartTable + i).initialize(to: .passUnretained(h))
        }
        if configuration.sstc {
            let compare = SupervisorTimerCompare(machine: self)
            timerCompare = compare
            addTimedDevice(compare)
        }
    }

    deinit {
        hartTable.deallocate()
        reservedPageCount.deallocate()
        ZeroedMapping.deallocate(watchPages, count: Int(configuration.ramSize / 4096))
    }

    public var hartCount: Int { harts.count }

    /// Drops every device, timed device and the firmware-in-Swift. Devices hold the machine that
    /// drives their pins, clock and DMA (`InterruptPins`, `TimeSource`, `DMAMemory`) while the
    /// machine holds them on its bus, so the two keep each other alive; whoever assembled the
    /// machine (a `VirtBoard`) breaks that cycle here when it is done with it.
    public func detachAllDevices() {
        bus.detachAll()
        timedDevices = []
        deadlines = []
        earliestDeadline = nil
        // The harts' own comparators are not a device of the board's.
        if let timerCompare { addTimedDevice(timerCompare) }
        trapHandler = nil
        dmaWriteObserver = nil
        for h in harts { h.flushSoftTLB() }
    }

    // MARK: devices

    /// Maps `device` at physical `base`; a `TimedDevice` is also scheduled.
    public func attach(_ device: any MMIODevice, at base: UInt64) {
        bus.attach(device, at: base)
        if let t = device as? any TimedDevice { addTimedDevice(t) }
        for h in harts { h.flushSoftTLB() }
    }

    /// Schedules a timed device that has no MMIO registers.
    public func addTimedDevice(_ device: any TimedDevice) {
        if !timedDevices.contains(where: { $0 === device }) {
            timedDevices.append(device)
            deadlines.append(device.nextDeadline)
            recomputeEarliestDeadline()
        }
    }

    func recomputeEarliestDeadline() {
        var best: UInt64? = nil
        // A deadline whose cycle count would not fit in 64 bits never arrives (a guest may write
        // any value to a timer compare): left out, so that no slice bound wraps around.
        let last = UInt64.max / configuration.cyclesPerTick
        for d in deadlines { if let t = d, t <= last { best = min(best ?? t, t) } }
        earliestDeadline = best
    }

    /// Tells the machine that `device`'s `nextDeadline` changed other than through its MMIO
    /// registers or `advance` (for example firmware in Swift programmed a timer).
    public func timedDeviceChanged(_ device: any TimedDevice) { refreshDeadline(of: device) }

    /// Re-reads the deadline of `device` (after an access that may have changed it).
    func refreshDeadline(of device: any TimedDevice) {
        for (i, d) in timedDevices.enumerated() where d === device {
            deadlines[i] = d.nextDeadline
        }
        recomputeEarliestDeadline()
    }

    // MARK: time

    /// Ticks of the 10 MHz timebase: modelled cycles / `cyclesPerTick`.
    public var mtime: UInt64 { currentCycles / configuration.cyclesPerTick }

    /// The machine's clock in cycles: while a hart runs, its own clock (never behind the global one).
    var currentCycles: UInt64 {
        if let h = currentHart { return max(globalCycles, harts[h].state.pointee.cycles) }
        return globalCycles
    }

    func mmioRead(_ pa: UInt64, size: UInt64, hart: Hart) -> UInt64? {
        guard let r = bus.region(pa, size: size), pa & (size - 1) == 0 else { return nil }
        hart.mmioAccesses &+= 1
        hart.state.pointee.cycles &+= costTable.mmioAccess
        hart.state.pointee.exitSlice = .checkInterrupts
        let v = r.device.mmioRead(offset: pa - r.base, size: Int(size))
        if let t = r.timed { refreshDeadline(of: t) }
        if let v {
            if observes(.mmio) {
                deliver(.mmio(hart: hart.id, address: pa, size: Int(size), value: v, isWrite: false,
                              pc: hart.state.pointee.pc), hart: hart.id)
            }
            if hasWatchpoints { checkWatchpoints(pa, count: size, isWrite: false, hart: hart) }
        }
        return v
    }

    func mmioWrite(_ pa: UInt64, size: UInt64, value: UInt64, hart: Hart) -> Bool {
        guard let r = bus.region(pa, size: size), pa & (size - 1) == 0 else { return false }
        hart.mmioAccesses &+= 1
        hart.state.pointee.cycles &+= costTable.mmioAccess
        hart.state.pointee.exitSlice = .checkInterrupts
        let ok = r.device.mmioWrite(offset: pa - r.base, size: Int(size), value: value)
        if let t = r.timed { refreshDeadline(of: t) }
        if ok {
            if observes(.mmio) {
                let v = size == 8 ? value : value & ((1 << (8 * size)) - 1)
                deliver(.mmio(hart: hart.id, address: pa, size: Int(size), value: v, isWrite: true,
                              pc: hart.state.pointee.pc), hart: hart.id)
            }
            if hasWatchpoints { checkWatchpoints(pa, count: size, isWrite: true, hart: hart) }
        }
        return ok
    }

    // MARK: coherence

    /// Called after every store to RAM not made through a hart's fast path (the fast path never
    /// covers code pages or reserved pages): keeps decoded code and LR reservations coherent.
    func noteRAMWrite(_ pa: UInt64, count: UInt64, by hartID: Int?) {
        if code.isCode(pa) || code.isCode(pa &+ count &- 1) || (pa & 0xFFF < 2 && pa >= bus.ram.base + 2 && code.isCode(pa - 2)) {
            code.invalidate(pa, count: count)
        }
        if !reservedPages.isEmpty && reservedPages.contains(pa & ~0xFFF) {
            var stillReserved = false
            for h in harts {
                let r = h.state.pointee.reservation
                if r == noReservation { continue }
                if h.id != hartID && r < pa &+ count && pa < r &+ 8 {
                    h.state.pointee.reservation = noReservation
                } else if r & ~0xFFF == pa & ~0xFFF {
                    stillReserved = true
                }
            }
            if !stillReserved { reservedPages.remove(pa & ~0xFFF) }
        }
    }

    /// Records an LR reservation. With several harts the page's store fast path is closed in every
    /// hart, so other harts' stores reach `noteRAMWrite` and break the reservation.
    func reserve(_ pa: UInt64, hart: Hart) {
        hart.state.pointee.reservation = pa & ~7
        guard harts.count > 1 else { return }
        let page = pa & ~0xFFF
        if reservedPages.insert(page).inserted {
            for h in harts { h.dropSoftStores(physicalPage: page) }
        }
    }

    /// A RAM page was decoded for the first time: no hart may store to it on the fast path.
    func pageBecameCode(_ page: UInt64) {
        for h in harts { h.dropSoftStores(physicalPage: page) }
    }
}
