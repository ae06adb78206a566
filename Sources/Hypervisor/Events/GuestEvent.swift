// The one event taxonomy a lab observes, for every mode. A technique reports what happens to its
// guest as `GuestEvent`s of these kinds; the raw values are the Lua names (`vm:on("page_walk", ...)`),
// so renaming one is an API change. Kinds a technique never produces (`shadow_fault` under
// `interpret`, say) may still be hooked: the hook simply never runs.
import Machine

/// What kind of thing happened to a guest.
public enum GuestEventKind: String, CaseIterable, Sendable, Hashable {
    /// An exception or interrupt delivered to the guest (cause = RISC-V cause name).
    case trap
    /// A VM exit to the VMM (trap-and-emulate and hardware-assisted techniques).
    case exit
    /// A privileged or CSR instruction executed by the guest (system opcode class).
    case privileged
    /// A call into the VMM: an SBI call served by the VMM's virtual SBI (cause "sbi_<extension>"),
    /// or a para-virtual hypercall (cause "pv_<call>", e.g. "pv_mmu_update").
    case hypercall
    case shadowFault = "shadow_fault"
    case tracedWrite = "traced_write"
    case translation
    case callout
    /// A page walk on a TLB miss (`references` = PTE reads and A/D write-backs).
    case pageWalk = "page_walk"
    case tlbFlush = "tlb_flush"
    /// The VMM injected a virtual interrupt into the guest (`interpret`).
    case interruptInjected = "interrupt_injected"
    /// A device register access (after it completed).
    case mmio
    /// A device moved guest memory.
    case dma
    case worldSwitch = "world_switch"
    /// The IOMMU refused an assigned device's DMA (`hw` with `io = "assigned"`): cause = the
    /// fault's name, causeCode = the RISC-V IOMMU cause, address = the address the device
    /// presented, isWrite, value = the device ID (the virtio slot).
    case iommuFault = "iommu_fault"

    /// The Lua name.
    public var name: String { rawValue }

    /// The kind's bit in `EventHub`'s mask of observed kinds.
    var bit: UInt32 {
        switch self {
        case .trap: 1 << 0
        case .exit: 1 << 1
        case .privileged: 1 << 2
        case .hypercall: 1 << 3
        case .shadowFault: 1 << 4
        case .tracedWrite: 1 << 5
        case .translation: 1 << 6
        case .callout: 1 << 7
        case .pageWalk: 1 << 8
        case .tlbFlush: 1 << 9
        case .interruptInjected: 1 << 10
        case .mmio: 1 << 11
        case .dma: 1 << 12
        case .worldSwitch: 1 << 13
        case .iommuFault: 1 << 14
        }
    }

    /// The machine events a hook on this kind needs observed (empty: the kind is never produced
    /// by the machine-level techniques).
    var machineKinds: MachineEventKinds {
        switch self {
        case .trap: [.exception, .interrupt]
        case .hypercall: .exception
        case .interruptInjected: .interrupt
        case .privileged: .privileged
        case .pageWalk: .pageWalk
        case .tlbFlush: .tlbFlush
        case .mmio: .mmio
        case .dma: .dma
        case .exit, .shadowFault, .tracedWrite, .translation, .callout, .worldSwitch, .iommuFault: []
        }
    }
}

/// One event, as plain data (what a hook receives and the Lua layer turns into a table).
public struct GuestEvent: Sendable, Equatable {
    public var kind: GuestEventKind
    public var vcpu: Int
    /// snake_case: `ExceptionCause.name`, `InterruptCause.name`, "sbi_<extension>" or "pv_<hypercall>".
    public var cause: String?
    public var causeCode: UInt64?
    /// Guest pc of the instruction concerned (for an interrupt: where the guest was interrupted).
    public var pc: UInt64
    /// tval of a trap, the physical address of an MMIO access or DMA, the va of a walk or flush.
    public var address: UInt64?
    public var value: UInt64?
    /// The bits of the instruction at `pc` that trapped (an `exit`), read through the guest's own
    /// page tables as it fetched it; nil when they do not map it for a fetch (a fetch fault).
    public var instruction: UInt32?
    public var size: Int?
    public var isWrite: Bool?
    /// The privilege the guest was in when the event happened.
    public var privilege: PrivilegeMode
    public var asid: UInt16?
    public var references: Int?
    /// The guest's instruction count and modelled cycles when the event happened.
    public var instructions: UInt64
    public var cycles: UInt64

    public init(kind: GuestEventKind, vcpu: Int, pc: UInt64, privilege: PrivilegeMode,
                instructions: UInt64, cycles: UInt64) {
        self.kind = kind
        self.vcpu = vcpu
        self.pc = pc
        self.privilege = privilege
        self.instructions = instructions
        self.cycles = cycles
    }
}

/// Which events a hook wants: every field that is set must match. Applied in Swift, before the
/// handler (and so before any Lua) runs.
public struct EventFilter: Sendable, Equatable {
    public var causes: Set<String>?
    /// Matched against `GuestEvent.address`; an event without an address does not match.
    public var addresses: ClosedRange<UInt64>?
    public var privilege: PrivilegeMode?
    public var asid: UInt16?
    public var vcpu: Int?

    public init(causes: Set<String>? = nil, addresses: ClosedRange<UInt64>? = nil, privilege: PrivilegeMode? = nil,
                asid: UInt16? = nil, vcpu: Int? = nil) {
        self.causes = causes
        self.addresses = addresses
        self.privilege = privilege
        self.asid = asid
        self.vcpu = vcpu
    }

    /// Matches everything.
    public static let any = EventFilter()

    public func matches(_ e: GuestEvent) -> Bool {
        if let causes, !(e.cause.map { causes.contains($0) } ?? false) { return false }
        if let addresses, !(e.address.map { addresses.contains($0) } ?? false) { return false }
        if let privilege, e.privilege != privilege { return false }
        if let asid, e.asid != asid { return false }
        if let vcpu, e.vcpu != vcpu { return false }
        return true
    }
}

/// What a hook asks of the run after it returns.
public enum HookAction: Sendable, Equatable {
    case proceed
    /// Stop the run right after the instruction that caused the event
    /// (`StopReason.hostStop("a hook stopped the run")`).
    case stop
}

/// Names a hook, to remove it.
public struct HookID: Hashable, Sendable {
    public let value: Int
}
