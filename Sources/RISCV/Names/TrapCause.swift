// Trap cause codes, as written to mcause/scause/vscause (privileged spec, "Machine Cause Register",
// table "Machine cause register (mcause) values after trap", and the hypervisor chapter's additions).
// The snake_case names are the vocabulary of the Lua API (`ev.cause == "ecall_s"`).

/// Synchronous exception codes (mcause with the interrupt bit clear).
public enum ExceptionCause: UInt64, CaseIterable, Sendable {
    case instructionAddressMisaligned = 0
    case instructionAccessFault = 1
    case illegalInstruction = 2
    case breakpoint = 3
    case loadAddressMisaligned = 4
    case loadAccessFault = 5
    case storeAddressMisaligned = 6       // store/AMO
    case storeAccessFault = 7             // store/AMO
    case ecallU = 8                       // environment call from U-mode or VU-mode
    case ecallS = 9                       // from HS-mode
    case ecallVS = 10                     // from VS-mode
    case ecallM = 11
    case instructionPageFault = 12
    case loadPageFault = 13
    case storePageFault = 15              // store/AMO
    case softwareCheck = 18
    case hardwareError = 19
    case instructionGuestPageFault = 20
    case loadGuestPageFault = 21
    case virtualInstruction = 22
    case storeGuestPageFault = 23         // store/AMO

    /// The snake_case name used by the Lua API and reports.
    public var name: String {
        switch self {
        case .instructionAddressMisaligned: "instruction_address_misaligned"
        case .instructionAccessFault: "instruction_access_fault"
        case .illegalInstruction: "illegal_instruction"
        case .breakpoint: "breakpoint"
        case .loadAddressMisaligned: "load_address_misaligned"
        case .loadAccessFault: "load_access_fault"
        case .storeAddressMisaligned: "store_address_misaligned"
        case .storeAccessFault: "store_access_fault"
        case .ecallU: "ecall_u"
        case .ecallS: "ecall_s"
        case .ecallVS: "ecall_vs"
        case .ecallM: "ecall_m"
        case .instructionPageFault: "instruction_page_fault"
        case .loadPageFault: "load_page_fault"
        case .storePageFault: "store_page_fault"
        case .softwareCheck: "software_check"
        case .hardwareError: "hardware_error"
        case .instructionGuestPageFault: "instruction_guest_page_fault"
        case .loadGuestPageFault: "load_guest_page_fault"
        case .virtualInstruction: "virtual_instruction"
        case .storeGuestPageFault: "store_guest_page_fault"
        }
    }

    /// The cause with the given snake_case name.
    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// Whether the trap is a page fault of either translation stage (the class a VMM's shadow
    /// paging intercepts).
    public var isPageFault: Bool {
        switch self {
        case .instructionPageFault, .loadPageFault, .storePageFault,
             .instructionGuestPageFault, .loadGuestPageFault, .storeGuestPageFault: true
        default: false
        }
    }

    /// Whether the trap is an environment call from some mode.
    public var isEnvironmentCall: Bool { (8...11).contains(rawValue) }
}

/// Interrupt codes (mcause with the interrupt bit set; also the bit numbers of mip/mie).
public enum InterruptCause: UInt64, CaseIterable, Sendable {
    case supervisorSoftware = 1
    case virtualSupervisorSoftware = 2
    case machineSoftware = 3
    case supervisorTimer = 5
    case virtualSupervisorTimer = 6
    case machineTimer = 7
    case supervisorExternal = 9
    case virtualSupervisorExternal = 10
    case machineExternal = 11
    case supervisorGuestExternal = 12
    case counterOverflow = 13             // Sscofpmf local counter-overflow interrupt

    /// The snake_case name used by the Lua API and reports.
    public var name: String {
        switch self {
        case .supervisorSoftware: "supervisor_software"
        case .virtualSupervisorSoftware: "virtual_supervisor_software"
        case .machineSoftware: "machine_software"
        case .supervisorTimer: "supervisor_timer"
        case .virtualSupervisorTimer: "virtual_supervisor_timer"
        case .machineTimer: "machine_timer"
        case .supervisorExternal: "supervisor_external"
        case .virtualSupervisorExternal: "virtual_supervisor_external"
        case .machineExternal: "machine_external"
        case .supervisorGuestExternal: "supervisor_guest_external"
        case .counterOverflow: "counter_overflow"
        }
    }

    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// The bit of mip/mie (and of mideleg/hideleg) that this interrupt occupies.
    public var mask: UInt64 { 1 << rawValue }
}

/// The interrupt flag of mcause/scause on RV64 (bit XLEN-1).
public let causeInterruptBit: UInt64 = 1 << 63
