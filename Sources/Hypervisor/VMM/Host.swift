// The physical machine a VMM runs on. It owns host RAM (a `Machine` whose RAM is lazily backed),
// carves each VM's guest-physical RAM out of it, and time-shares its hart between the VMs: round
// robin, `slice` guest instructions per turn. Host time is the sum of the slices' modelled cycles
// (the VMs run one after another on the one physical hart), and every change of VM is a switch.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Boot
import Machine

/// Why `Host.run` returned, and which VM stopped it (nil when no single VM did).
public struct HostStop: Sendable, Equatable {
    public var reason: StopReason
    public var guest: Int?

    public init(reason: StopReason, guest: Int?) {
        self.reason = reason
        self.guest = guest
    }
}

public final class Host {
    public let configuration: HostConfiguration
    /// The host hardware; its RAM holds every VM's carve-out.
    public let machine: Machine
    private var allocator: CarveoutAllocator
    /// VMs in creation order. A private host (a standalone `Guest`'s) holds its one VM weakly, so
    /// the VM owning the host is no cycle.
    private var members: [Member] = []
    private struct Member {
        weak var weakGuest: Guest?
        var strongGuest: Guest?
        var guest: Guest? { strongGuest ?? weakGuest }
    }
    private var nextID = 1
    /// Host time: the modelled cycles of every VM turn (through `run` or a VM's own `Guest.run`),
    /// one after another on the host's hart.
    public private(set) var cycles: UInt64 = 0
    public private(set) var switches: UInt64 = 0
    /// Index (into `guests`) of the VM that ran last, to count switches across `run` calls.
    private var lastRan: Int?

    /// The host's clock and switch count, for a snapshot of the only VM of a private host
    /// (Guest+Snapshot.swift): its host's time is its own.
    struct Clock: Codable { var cycles: UInt64, switches: UInt64, lastRan: Int? }
    var clock: Clock {
        get { Clock(cycles: cycles, switches: switches, lastRan: lastRan) }
        set { cycles = newValue.cycles; switches = newValue.switches; lastRan = newValue.lastRan }
    }

    public init(_ configuration: HostConfiguration) {
        self.configuration = configuration
        var mc = MachineConfiguration()
        mc.ramSize = max(CarveoutAllocator.pageSize, (configuration.memory + 4095) / 4096 * 4096)
        mc.harts = max(1, min(64, configuration.harts))
        machine = Machine(mc)
        allocator = CarveoutAllocator(base: mc.ramBase, size: mc.ramSize)
    }

    public var guests: [Guest] { members.compactMap(\.guest) }

    /// Host RAM not carved out.
    public var freeMemory: UInt64 { allocator.freeBytes }

    /// Every carve-out in use, by address.
    public var carveouts: [Carveout] { allocator.allocated }

    /// Builds a VM whose RAM is a carve-out of host RAM; `native` is refused (native means no VMM).
    public func createGuest(_ configuration: GuestConfiguration) throws(GuestBuildError) -> Guest {
        try createGuest(configuration, retained: true)
    }

    func createGuest(_ configuration: GuestConfiguration, retained: Bool) throws(GuestBuildError) -> Guest {
        try Guest(configuration: configuration, host: self, ownsHost: !retained)
    }

    /// A VM's id, carve-out, and board configuration with its RAM backed by the carve-out.
    func reserve(_ configuration: GuestConfiguration) throws(GuestBuildError) -> (id: Int, carveout: Carveout, board: VirtBoardConfiguration) {
        guard configuration.mode.needsVMM else {
            throw GuestBuildError("a VM on a host needs a VMM mode (got 'native'; use \(ExecutionMode.available.filter(\.needsVMM).map { "'\($0.rawValue)'" }.joined(separator: ", ")))")
        }
        // The VMM's own pages (hiddenMemory) come out of the same carve-out, after the guest's RAM.
        let memory = configuration.board.memory + configuration.board.hiddenMemory
        guard memory > 0, let window = allocator.allocate(memory) else {
            throw GuestBuildError("not enough host memory for a VM of \(memory) bytes (\(allocator.freeBytes) of \(allocator.size) bytes free)")
        }
        guard let pointer = machine.hostPointer(physical: window.hostBase, count: window.size) else {
            allocator.free(window)
            throw GuestBuildError("host memory at 0x\(String(window.hostBase, radix: 16)) is not RAM")
        }
        var board = configuration.board
        board.machine.ramBacking = ExternalRAM(pointer: pointer, owner: machine.ramOwner)
        let id = nextID
        nextID += 1
        return (id, window, board)
    }

    /// A VM ran for `cycles`.
    func charge(_ cycles: UInt64) { self.cycles &+= cycles }

    func register(_ guest: Guest, retained: Bool) {
        members.append(retained ? Member(strongGuest: guest) : Member(weakGuest: guest))
    }

    /// Removes a VM and gives its RAM back (zeroed, so the next VM sees none of its bytes).
    public func remove(_ guest: Guest) {
        guard let i = members.firstIndex(where: { $0.guest === guest }) else { return }
        members.remove(at: i)
        if let c = guest.carveout { release(c) }
        guest.detach()
        lastRan = nil
    }

    func release(_ c: Carveout) {
        if let p = machine.hostPointer(physical: c.hostBase, count: c.size) {
            #if os(Linux)
            madvise(p, Int(c.size), MADV_DONTNEED)   // anonymous private pages read as zero again
            #else
            memset(p, 0, Int(c.size))
            #endif
        }
        allocator.free(c)
    }

    /// Round robin over the VMs that can still run, `slice` instructions each, until none can (each
    /// has stopped for good, is stuck or is idle), a VM stops for a reason the user asked for (a
    /// breakpoint, a watchpoint, a hook, an `until`), or a budget is used. Budgets count every VM's
    /// instructions and cycles together.
    ///
    /// What a guest does to itself never stops the others: a VM that powers off, resets or halts
    /// (a trap no firmware handles, for good; or stuck on its trap vector, which a tool may mend)
    /// drops out and the rest run on, as on a real host. A stuck VM is out for the rest of this
    /// run only (so its loop is not found again every round); the next run tries it again, and
    /// finds the same fault at once unless something changed it. Each VM's `lastStop` says why it
    /// stopped.
    public func run(maxInstructions: UInt64 = .max, maxCycles: UInt64 = .max) -> HostStop {
        var doneInstructions: UInt64 = 0
        var doneCycles: UInt64 = 0
        var stuck: Set<ObjectIdentifier> = []
        while true {
            var anyRan = false
            let all = guests
            for (index, guest) in all.enumerated() where guest.finalStop == nil && !stuck.contains(ObjectIdentifier(guest)) {
                if doneInstructions >= maxInstructions || doneCycles >= maxCycles {
                    return HostStop(reason: .budgetExhausted, guest: nil)
                }
                if lastRan != nil && lastRan != index { switches &+= 1 }
                lastRan = index
                let i0 = guest.executedInstructions, c0 = guest.cycles
                let stop = guest.run(maxInstructions: min(configuration.slice, maxInstructions - doneInstructions),
                                     maxCycles: maxCycles == .max ? .max : maxCycles - doneCycles)
                let di = guest.executedInstructions &- i0, dc = guest.cycles &- c0
                doneInstructions &+= di
                doneCycles &+= dc
                if guest.finalStop != nil { continue }   // over for good (its own `finalStop` says why)
                switch stop {
                case .budgetExhausted: anyRan = true
                case .idle: continue
                case .stuck: stuck.insert(ObjectIdentifier(guest))
                default: return HostStop(reason: stop, guest: guest.id)   // a breakpoint, watchpoint, hook, until
                }
            }
            if !anyRan {
                let all = guests
                let ends = all.map { guest in guest.finalStop ?? (stuck.contains(ObjectIdentifier(guest)) ? guest.lastStop : nil) }
                if let last = ends.last(where: { $0 != nil }) ?? nil, ends.allSatisfy({ $0 != nil }) {
                    // Every VM is over or stuck: report the last one's end (each VM's own is its
                    // `lastStop`), naming the VM when there is one.
                    return HostStop(reason: last, guest: all.count == 1 ? all[0].id : nil)
                }
                return HostStop(reason: .idle, guest: nil)
            }
        }
    }

    /// Gives every VM's carve-out back. The host's VMs cannot run afterwards.
    public func close() {
        for g in guests { remove(g) }
    }
}
