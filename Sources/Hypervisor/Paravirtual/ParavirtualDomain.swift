// One para-virtual domain: the VMM-side state of a guest whose kernel cooperates through
// hypercalls — its frame table (PageTypes.swift), event channels (EventChannels.swift), shared
// info page (SharedInfo.swift), policy and counters. Hypercalls.swift dispatches the calls,
// MMUUpdate.swift validates page-table updates, PrivilegedEmulation.swift emulates what the kernel
// still does unmodified.
//
// Guest memory is reached through the guest machine's host pointers: guest-physical addresses are
// checked against the VM's RAM before every access, so a bogus address is an error code, never a
// host fault.
import Boot
import Devices
import Machine

/// Choices the para-virtual VMM makes; the defaults run the teaching kernel.
public struct ParavirtualPolicy: Sendable, Equatable {
    /// Most updates one `mmu_update` carries (Xen's batch limit, 2048 [X03]).
    public var batchLimit = HypercallABI.defaultBatchLimit
    /// Supervisor-only global superpages over RAM (a kernel's linear map of all memory) are not
    /// counted as writable mappings of the frames they cover. Xen's PV guests map memory with 4 KiB
    /// pages and make page-table frames read-only in that map; a kernel that maps RAM with one
    /// gigapage (tinyos does) cannot, so this trust is explicit and off for strict checking.
    /// With it on, the kernel could write its tables behind the VMM's back; the VMM still never
    /// lets a user mapping reach a page table, and the PMP still confines the VM to its memory.
    public var trustKernelLinearMap = true
    /// The first `mmu_update` into an untyped frame validates and pins it as a root, so a kernel
    /// with no "new address space" hook needs no explicit `pin_table` (counted as implicit pins).
    public var implicitPin = true
    /// Set mstatus.TSR, so each `sret` traps and is emulated. Off by default: a kernel in S-mode
    /// returning to its own user mode is harmless once PMP confines it, and trapping every return
    /// would make each system call pay a VMM entry (Xen/x86-32 likewise let the guest kernel
    /// return from ring 1 with `iret` itself).
    public var trapSupervisorReturn = false

    public init() {}
}

/// The VMM-side state of one para-virtual guest.
public final class ParavirtualDomain {
    public let id: Int
    public let machine: Machine
    public let policy: ParavirtualPolicy
    public var frames: FrameTable
    public var channels = EventChannelTable()
    public var grants = GrantTable()
    /// The split block driver's back-end, when the VM has a disk for it.
    public var blockBackend: BlockBackend?
    /// The registered shared info page (guest-physical), if any.
    public internal(set) var sharedInfo: UInt64?
    /// The built-in SBI serving the timer (set_timer goes through its TIME extension).
    let firmware: BuiltinSBI?
    /// Where `console_write` bytes go.
    let console: (any ConsoleSink)?
    /// The timer deadline last set, for a channel bound to the timer.
    var timerDeadline: UInt64?
    /// Events raised before a shared info page was registered.
    var pendingWithoutPage: UInt64 = 0

    // MARK: counters

    /// Hypercalls made, by name (unknown numbers under "unknown").
    public internal(set) var calls: [String: UInt64] = [:]
    /// Hypercalls refused, by "name.error".
    public internal(set) var errors: [String: UInt64] = [:]
    /// Page-table updates validated and applied.
    public internal(set) var updatesApplied: UInt64 = 0
    /// Page-table updates refused.
    public internal(set) var updatesRefused: UInt64 = 0
    /// Entries validated when a frame became a page table (pin, new child table).
    public internal(set) var entriesValidated: UInt64 = 0
    /// Roots pinned by a first update rather than `pin_table`.
    public internal(set) var implicitPins: UInt64 = 0
    /// Releases that found a table changed behind the VMM's back (only possible through a
    /// trusted linear map).
    public internal(set) var inconsistencies: UInt64 = 0
    /// Privileged instructions the kernel still executed and the VMM emulated, by kind.
    public internal(set) var emulated: [String: UInt64] = [:]
    /// Exceptions reflected to the guest kernel by the VMM.
    public internal(set) var reflected: UInt64 = 0
    /// Virtual interrupts (event upcalls) injected.
    public internal(set) var upcalls: UInt64 = 0
    /// Notifications sent to VMM back-ends, by source name.
    public internal(set) var notifications: [String: UInt64] = [:]
    /// TLB flushes made for the guest.
    public internal(set) var flushes: UInt64 = 0
    /// Grant uses by back-ends, and those refused (revoked, read-only, never granted).
    public internal(set) var grantUses: UInt64 = 0
    public internal(set) var grantRefusals: UInt64 = 0
    /// The VMM's work by vCPU, each unit charged to that vCPU's clock (DomainCosts.swift).
    public internal(set) var work: [ParavirtualWork]
    /// What each unit of work costs; the technique sets it from the guest's profile.
    public var prices = ParavirtualPrices()

    public init(id: Int, machine: Machine, firmware: BuiltinSBI? = nil, console: (any ConsoleSink)? = nil,
                policy: ParavirtualPolicy = ParavirtualPolicy()) {
        self.id = id
        self.machine = machine
        self.firmware = firmware
        self.console = console
        self.policy = policy
        work = Array(repeating: ParavirtualWork(), count: max(1, machine.hartCount))
        frames = FrameTable(ramBase: machine.configuration.ramBase, ramSize: machine.configuration.ramSize)
    }

    public var ramBase: UInt64 { machine.configuration.ramBase }
    public var ramEnd: UInt64 { machine.configuration.ramBase &+ machine.configuration.ramSize }

    /// Total refusals (every hypercall error).
    public var refusals: UInt64 { errors.values.reduce(0, &+) }

    // MARK: guest memory

    /// Whether `[address, address + count)` lies in the VM's RAM.
    func inRAM(_ address: UInt64, count: UInt64) -> Bool {
        let (end, overflow) = address.addingReportingOverflow(count)
        return !overflow && address >= ramBase && end <= ramEnd
    }

    /// The 64-bit little-endian word at guest-physical `address` (8-aligned, in RAM).
    func load64(_ address: UInt64) -> UInt64? {
        guard address & 7 == 0, inRAM(address, count: 8),
              let p = machine.hostPointer(physical: address, count: 8) else { return nil }
        return UInt64(littleEndian: p.load(as: UInt64.self))
    }

    @discardableResult
    func store64(_ address: UInt64, _ value: UInt64) -> Bool {
        guard address & 7 == 0, inRAM(address, count: 8),
              let p = machine.hostPointer(physical: address, count: 8) else { return false }
        p.storeBytes(of: value.littleEndian, as: UInt64.self)
        machine.memoryChanged(physical: address, count: 8)
        return true
    }

    func load8(_ address: UInt64) -> UInt8? {
        guard inRAM(address, count: 1), let p = machine.hostPointer(physical: address, count: 1) else { return nil }
        return p.load(as: UInt8.self)
    }

    @discardableResult
    func store8(_ address: UInt64, _ value: UInt8) -> Bool {
        guard inRAM(address, count: 1), let p = machine.hostPointer(physical: address, count: 1) else { return false }
        p.storeBytes(of: value, as: UInt8.self)
        machine.memoryChanged(physical: address, count: 1)
        return true
    }

    // MARK: statistics

    /// Counters grouped for `vm:stats()` technique counters.
    public var counterGroups: [String: [String: UInt64]] {
        var pv: [String: UInt64] = [
            "updates_applied": updatesApplied, "updates_refused": updatesRefused,
            "entries_validated": entriesValidated, "implicit_pins": implicitPins,
            "page_table_frames": UInt64(frames.pageTableFrames), "pinned_roots": UInt64(frames.pinnedFrames),
            "refusals": refusals, "inconsistencies": inconsistencies, "reflected_exceptions": reflected,
            "upcalls": upcalls, "tlb_flushes": flushes,
            "grant_uses": grantUses, "grant_refusals": grantRefusals, "grants_active": UInt64(grants.active),
        ]
        pv["emulated_privileged"] = emulated.values.reduce(0, &+)
        // Every group is present, empty when nothing happened, and every hypercall is named, zero
        // when never made: a script can index any of them.
        let hypercalls = calls.withZeros(for: Hypercall.allCases.map(\.name))
        var groups: [String: [String: UInt64]] = ["pv": pv, "hypercalls": hypercalls, "hypercall_errors": errors,
                                                  "emulated": emulated, "notifications": notifications]
        if let b = blockBackend {
            groups["block_backend"] = ["requests": b.requestsServed, "failed": b.requestsFailed, "batches": b.batches]
        }
        return groups
    }
}
