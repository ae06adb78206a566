// The para-virtual hypercall ABI (documented for guests in Hypervisor.docc/HypercallABI.md and, in
// C, in labs/guests/tinyos/kernel/hypercall.h — keep the three in step).
//
// A hypercall is an SBI call (RISC-V SBI v2.0, chapter 3 "Binary Encoding") to an extension of
// vmlab's own: `ecall` from the guest kernel (S-mode) with a7 = `HypercallABI.extensionID`, a6 =
// the hypercall number, a0–a5 arguments; the VMM answers with an error code in a0 (0 or negative,
// the SBI error table) and a value in a1. The extension ID lies in the SBI "Firmware Specific
// Extension Space" 0x0A000000–0x0AFFFFFF (SBI v2.0, table "SBI Extension IDs"), reserved for the
// firmware's own extensions — which is what the VMM is to its guests.
import Boot

/// Constants of the hypercall ABI.
public enum HypercallABI {
    /// a7 of every hypercall: 0x0A56_4D4C ("VML" in the firmware-specific range).
    public static let extensionID: UInt64 = 0x0A56_4D4C
    /// ABI version answered by `domain_info(.abiVersion)`: major in bits 31:16, minor in 15:0.
    public static let version: UInt64 = 1 << 16 | 0
    /// Default most updates one `mmu_update` carries (Xen's MMU_UPDATE batch limit [X03]).
    public static let defaultBatchLimit = 2048
    /// Bytes of one `mmu_update` request: { u64 pte_address; u64 new_value }.
    public static let mmuUpdateEntrySize: UInt64 = 16
    /// Bytes of one `multicall` entry: { u64 op; u64 args[5]; u64 error (out); u64 value (out) }.
    public static let multicallEntrySize: UInt64 = 64
    /// Most entries one `multicall` carries.
    public static let multicallLimit = 64
    /// Event channel ports a domain may allocate (one 64-bit pending word in the shared info page).
    public static let eventChannels = 64
    /// Most bytes one `console_write` moves (the rest is the caller's to send again).
    public static let consoleChunk = 4096
    /// Grant references a domain may hold at once.
    public static let grants = 256
}

/// The hypercall numbers (a6).
public enum Hypercall: UInt64, CaseIterable, Sendable, CustomStringConvertible {
    /// a0 = `DomainInfo` selector → a1 = the value.
    case domainInfo = 0
    /// a0 = guest-physical address of `count` requests, a1 = count (≤ the batch limit) → a1 =
    /// requests applied. Stops at the first refused request (its error in a0; a1 = its index).
    case mmuUpdate = 1
    /// a0 = guest-physical address of a root page table, a1 = its levels (0 or 3: Sv39; 4: Sv48):
    /// validates it and pins it as a root.
    case pinTable = 2
    /// a0 = the pinned root to release.
    case unpinTable = 3
    /// a0 = the new satp (Bare, or Sv39 or Sv48 with a validated root of its mode); a1 = 1 to
    /// flush the whole TLB.
    case setSATP = 4
    /// a0 = virtual address, or all ones for every address; a1 = ASID, or all ones for every ASID.
    case tlbFlush = 5
    /// a0 = guest-physical address of `count` multicall entries, a1 = count → a1 = entries run.
    case multicall = 6
    /// a0 = the guest-physical page the VMM shares with the guest (`SharedInfo` layout).
    case registerSharedInfo = 7
    /// a0 = absolute deadline in `time` ticks (all ones: cancel).
    case setTimer = 8
    /// a0 = guest-physical address, a1 = byte count → a1 = bytes written.
    case consoleWrite = 9
    /// → a1 = a new unbound event channel port.
    case eventChannelAlloc = 10
    /// a0 = port, a1 = `EventSource` raw value.
    case eventChannelBind = 11
    /// a0 = port: raises the event (guest → VMM back-end, or a self-notification).
    case eventChannelNotify = 12
    /// a0 = port: clears its mask bit and delivers a pending event.
    case eventChannelUnmask = 13
    /// a0 = port: frees it.
    case eventChannelClose = 14
    /// Gives up the rest of the time slice.
    case yield = 15
    /// Waits until an event is pending (returns at once if one is).
    case block = 16
    /// a0 = a frame of the VM's RAM, a1 = 1 for read-only → a1 = a grant reference for the
    /// VMM's back-ends (GrantTable.swift).
    case grantAccess = 17
    /// a0 = grant reference: back-ends may no longer use it.
    case grantRevoke = 18
    /// a0 = grant reference of the block request ring: connects the split block driver's
    /// back-end to it (BlockBackend.swift) → a1 = the disk's size in sectors.
    case blockConnect = 19

    /// The snake_case name used in statistics and documentation.
    public var name: String {
        switch self {
        case .domainInfo: "domain_info"
        case .mmuUpdate: "mmu_update"
        case .pinTable: "pin_table"
        case .unpinTable: "unpin_table"
        case .setSATP: "set_satp"
        case .tlbFlush: "tlb_flush"
        case .multicall: "multicall"
        case .registerSharedInfo: "register_shared_info"
        case .setTimer: "set_timer"
        case .consoleWrite: "console_write"
        case .eventChannelAlloc: "evtchn_alloc"
        case .eventChannelBind: "evtchn_bind"
        case .eventChannelNotify: "evtchn_notify"
        case .eventChannelUnmask: "evtchn_unmask"
        case .eventChannelClose: "evtchn_close"
        case .yield: "yield"
        case .block: "block"
        case .grantAccess: "grant_access"
        case .grantRevoke: "grant_revoke"
        case .blockConnect: "block_connect"
        }
    }

    public var description: String { name }
}

/// `domain_info` selectors (a0).
public enum DomainInfo: UInt64, CaseIterable, Sendable {
    case domainID = 0
    case ramBase = 1
    case ramSize = 2
    case batchLimit = 3
    case abiVersion = 4
    case vcpus = 5
    case sharedInfo = 6
    /// How many satp.ASID bits the vCPU implements (the kernel cannot probe satp itself).
    case asidBits = 7
}

/// Hypercall errors: the SBI error table (SBI v2.0, "Standard SBI Errors"), each with the meaning
/// the hypercall ABI gives it.
public enum HypercallError: Int64, Error, CaseIterable, Sendable, CustomStringConvertible {
    /// Unknown hypercall number or `domain_info` selector.
    case notSupported = -2
    /// Malformed: misaligned address, reserved PTE encoding, count above the limit, bad port.
    case invalidParam = -3
    /// Refused by policy: a page-table page mapped writable, an unvalidated root, a channel the
    /// caller does not own, a frame already mapped writable becoming a page table.
    case denied = -4
    /// An address outside the VM: a request list, PTE or frame not in its memory.
    case invalidAddress = -5
    /// Already so: pinning a pinned root, binding a bound channel.
    case alreadyAvailable = -6
    /// Wrong state: unpinning an unpinned root, a page typed at another level.
    case invalidState = -10

    public var description: String {
        switch self {
        case .notSupported: "not_supported"
        case .invalidParam: "invalid_param"
        case .denied: "denied"
        case .invalidAddress: "invalid_address"
        case .alreadyAvailable: "already_available"
        case .invalidState: "invalid_state"
        }
    }

    /// The same code as an `SBIError`.
    public var sbiError: SBIError { SBIError(rawValue: rawValue) ?? .failed }
}

/// What a hypercall answers: a0 = error (0 on success), a1 = value.
public struct HypercallResult: Sendable, Equatable, CustomStringConvertible {
    public var error: HypercallError?
    public var value: UInt64

    public init(error: HypercallError? = nil, value: UInt64 = 0) {
        self.error = error
        self.value = value
    }

    public static func success(_ value: UInt64 = 0) -> HypercallResult { HypercallResult(value: value) }
    public static func failure(_ error: HypercallError, value: UInt64 = 0) -> HypercallResult {
        HypercallResult(error: error, value: value)
    }

    /// a0 as the guest sees it.
    public var a0: UInt64 { UInt64(bitPattern: error?.rawValue ?? 0) }

    public var description: String { "\(error.map { "\($0)" } ?? "success") value 0x\(String(value, radix: 16))" }
}

/// One hypercall as the calling convention delivers it.
public struct HypercallRequest: Sendable, Equatable {
    public var number: UInt64
    public var arguments: [UInt64]

    public init(_ number: UInt64, _ arguments: UInt64...) {
        self.number = number
        self.arguments = arguments
    }

    public init(_ call: Hypercall, _ arguments: UInt64...) {
        number = call.rawValue
        self.arguments = arguments
    }

    public init(number: UInt64, arguments: [UInt64]) {
        self.number = number
        self.arguments = arguments
    }

    /// Argument a<index>, zero when not given.
    public subscript(index: Int) -> UInt64 { index < arguments.count ? arguments[index] : 0 }
}
