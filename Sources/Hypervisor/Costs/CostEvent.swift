// The one event taxonomy every mode charges against. A mode never invents a cost of its own: it
// counts events of these kinds, and a `CostProfile` prices each kind. The snake_case names (`name`) are
// the public vocabulary: they are the keys of `vmlab.costs{...}`, of `vm:stats().cycles.by_event`
// and of the documentation table, so renaming one is an API change.
//
// How the modes compose events (so a value means the same thing in every mode):
// - Hardware transitions (`trap`, `vm_exit`, `vm_entry`, `world_switch`, `hypercall`) are charged
//   by the mode that takes them, separately from the software work that follows.
// - Software work in the VMM (`privileged_emulated`, `shadow_fault`, `traced_write`,
//   `device_emulated`) excludes the transition that brought the VMM in; a trap-and-emulate VMM
//   charges `trap` + `privileged_emulated`, a hardware-assisted one `vm_exit` +
//   `privileged_emulated` + `vm_entry`.
// - Binary-translation costs (`bt_callout`, `bt_inline`, `traced_write_inline`,
//   `bt_indirect_jump`) and `interpretation` are all-inclusive: translated or interpreted code
//   takes no transition.

/// The category an event's cycles are reported under (`vm:stats().cycles.by_category`).
public enum CostCategory: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// Guest instructions executed directly.
    case guest
    /// Address translation: page-walk references, TLB misses and flushes.
    case mmu
    /// Traps and interrupts taken by the hardware, and traps injected into a guest.
    case trap
    /// Transitions between guest and VMM: VM exits and entries, VMCS accesses, world switches.
    case exit
    /// VMM software emulating what the guest may not do itself.
    case emulation
    /// Para-virtual calls into the VMM and the work they carry.
    case hypercall
    /// Binary translation of guest code.
    case translation
    /// Device register accesses and DMA.
    case device
    /// Guest instructions run by a software CPU.
    case interpretation

    public var name: String { rawValue }
    public var description: String { rawValue }
}

/// One kind of event that costs modelled cycles.
///
/// `name` is the public (Lua) name; the raw value is the event's position in the taxonomy, so
/// per-event counters are a dense array indexed without hashing.
public enum CostEvent: Int, CaseIterable, Sendable, Hashable, CustomStringConvertible, Codable {
    // guest
    case instruction
    case csrWrite
    // mmu
    case walkReference
    case tlbMiss
    case tlbFlush
    // trap
    case trap
    case interrupt
    case firmwareCall
    case exceptionReflected
    case interruptInjected
    // exit
    case vmExit
    case vmEntry
    case vmcsRead
    case vmcsWrite
    case worldSwitch
    // emulation
    case privilegedEmulated
    case btCallout
    case btInline
    case btInlineCSR
    case shadowFault
    case tracedWrite
    case tracedWriteInline
    // hypercall
    case hypercall
    case pvUpdate
    // translation
    case translation
    case btIndirectJump
    // device
    case mmioAccess
    case deviceEmulated
    case dma
    // interpretation
    case interpretation

    /// The public (Lua) name, snake_case.
    public var name: String {
        switch self {
        case .instruction: "instruction"
        case .csrWrite: "csr_write"
        case .walkReference: "walk_reference"
        case .tlbMiss: "tlb_miss"
        case .tlbFlush: "tlb_flush"
        case .trap: "trap"
        case .interrupt: "interrupt"
        case .firmwareCall: "firmware_call"
        case .exceptionReflected: "exception_reflected"
        case .interruptInjected: "interrupt_injected"
        case .vmExit: "vm_exit"
        case .vmEntry: "vm_entry"
        case .vmcsRead: "vmcs_read"
        case .vmcsWrite: "vmcs_write"
        case .worldSwitch: "world_switch"
        case .privilegedEmulated: "privileged_emulated"
        case .btCallout: "bt_callout"
        case .btInline: "bt_inline"
        case .btInlineCSR: "bt_inline_csr"
        case .shadowFault: "shadow_fault"
        case .tracedWrite: "traced_write"
        case .tracedWriteInline: "traced_write_inline"
        case .hypercall: "hypercall"
        case .pvUpdate: "pv_update"
        case .translation: "translation"
        case .btIndirectJump: "bt_indirect_jump"
        case .mmioAccess: "mmio_access"
        case .deviceEmulated: "device_emulated"
        case .dma: "dma"
        case .interpretation: "interpretation"
        }
    }

    public var description: String { name }

    /// The event named `name` (its snake_case public name), or nil.
    public init?(name: String) {
        guard let e = Self.byName[name] else { return nil }
        self = e
    }

    private static let byName: [String: CostEvent] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })

    /// Every event name, in taxonomy order (the order of the documentation table).
    public static var names: [String] { allCases.map(\.name) }

    public var category: CostCategory {
        switch self {
        case .instruction, .csrWrite: .guest
        case .walkReference, .tlbMiss, .tlbFlush: .mmu
        case .trap, .interrupt, .firmwareCall, .exceptionReflected, .interruptInjected: .trap
        case .vmExit, .vmEntry, .vmcsRead, .vmcsWrite, .worldSwitch: .exit
        case .privilegedEmulated, .btCallout, .btInline, .btInlineCSR, .shadowFault, .tracedWrite, .tracedWriteInline: .emulation
        case .hypercall, .pvUpdate: .hypercall
        case .translation, .btIndirectJump: .translation
        case .mmioAccess, .deviceEmulated, .dma: .device
        case .interpretation: .interpretation
        }
    }

    /// What one occurrence of the event is, in a sentence (used by the documentation table).
    public var meaning: String {
        switch self {
        case .instruction: "a guest instruction retired: executed directly, or completed by the VMM after a trap or callout (which charges its own work on top)"
        case .csrWrite: "the extra cost of a privileged CSR write executed by the hardware (it serialises the pipeline)"
        case .walkReference: "one page-table entry read or written back by a page walk (hardware or VMM software)"
        case .tlbMiss: "fixed cost of a TLB miss beyond its walk references"
        case .tlbFlush: "a TLB flush (sfence.vma, or a satp write on an untagged TLB)"
        case .trap: "an exception taken by the hardware: trap entry and return"
        case .interrupt: "an interrupt taken by the hardware: trap entry and return"
        case .firmwareCall: "a trap into M-mode firmware (an SBI call) serviced and returned"
        case .exceptionReflected: "the VMM delivering a guest exception to the guest kernel in software"
        case .interruptInjected: "the VMM injecting a virtual interrupt into a guest"
        case .vmExit: "a VM exit: guest state saved, VMM state loaded"
        case .vmEntry: "a VM entry: VMM state saved, guest state checked and loaded"
        case .vmcsRead: "one read of a VM control structure field by the VMM"
        case .vmcsWrite: "one write of a VM control structure field by the VMM"
        case .worldSwitch: "a hosted VMM's round trip between the VMM world and the host OS"
        case .privilegedEmulated: "VMM software decoding and emulating one trapped privileged instruction"
        case .btCallout: "a privileged instruction in translated code emulated by a call into the VMM"
        case .btInline: "a privileged instruction emulated inline in translated code"
        case .btInlineCSR: "a CSR access emulated inline in translated code as a load or store of the virtual register"
        case .shadowFault: "VMM software handling a hidden page fault: guest walk and shadow fill"
        case .tracedWrite: "VMM software emulating a trapped store to a write-protected guest page table"
        case .tracedWriteInline: "a store to a guest page table emulated by adapted translated code"
        case .hypercall: "a hypercall: entry into the VMM and return"
        case .pvUpdate: "one page-table update validated and applied inside a (batched) hypercall"
        case .translation: "translating one guest instruction into the translation cache"
        case .btIndirectJump: "an indirect jump in translated code (a return, an indirect call, a jump table), beyond its own cycle: finding the translation of its target"
        case .mmioAccess: "a device register access on real hardware"
        case .deviceEmulated: "VMM software emulating one trapped device register access"
        case .dma: "a device model moving one 64-byte line of guest memory"
        case .interpretation: "a guest instruction run by the software CPU (instead of `instruction`)"
        }
    }
}
