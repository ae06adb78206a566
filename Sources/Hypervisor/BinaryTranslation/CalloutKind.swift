// What the binary translator turns a guest kernel instruction into, by kind. A VMware-style
// translator copies the guest kernel's code into a translation cache with its sensitive
// instructions replaced by code that emulates them against the virtual CPU [AA06, §3.2]: the
// simplest inline (a load or store of the virtual register), the others by a call into the VMM.
// On RISC-V the sensitive instructions are the catalogue's (SensitiveInstruction.swift, [PG74]):
// every CSR instruction on a supervisor- or machine-level CSR and the counters, sret, mret, wfi and
// sfence.vma; the translator adds ecall, which in the guest kernel is an SBI call to the (virtual)
// machine mode. Two more kinds are learnt at run time rather than found by decoding (adaptive
// translation [AA06, §3.3]): a store that keeps hitting a traced page-table page, and a load or
// store that reaches a device. One more is not sensitive at all: an indirect jump, which
// translated code runs slower than the hardware does, and which is priced, not emulated.
//
// This file is the API the load-time patcher (afterburning) shares with the runtime translator:
// `CalloutKind.classify` decides what an instruction becomes, `BinaryTranslator.emulate(_:...)`
// performs a kind at a pc.

import RISCV

/// The kind of a callout; its raw value is the callout id the translator installs.
public enum CalloutKind: UInt32, CaseIterable, Sendable, CustomStringConvertible {
    /// A CSR access whose only effect is the virtual register (reads of any supervisor CSR or
    /// counter; writes of sscratch, sepc, scause, stval, stvec, scounteren, senvcfg): emulated
    /// inline in translated code when the policy allows (`bt_inline_csr`).
    case csrInline = 1
    /// A CSR access that needs the VMM: writes of sstatus, sie, sip (an interrupt may become
    /// deliverable; SUM/MXR/FS change the shadow view or the FPU), satp (another shadow), and any
    /// access the guest's own view refuses (machine-level CSRs, read-only CSRs written).
    case csr = 2
    case sret = 3
    case wfi = 4
    case sfenceVMA = 5
    /// ecall from the guest kernel: a call to the virtual SBI.
    case ecall = 6
    /// mret: illegal in the guest kernel's view (there is no virtual M-mode to return from).
    case mret = 7
    /// A store adapted after faulting on traced page-table pages: emulated without a trap. Installed
    /// as a guarded store (`CodeRewrite.calloutOnMiss`, `BinaryTranslationPolicy.guardedStores`):
    /// it calls out only when it misses the hart's fast path, as every store to a traced page does.
    case tracedStore = 8
    /// A load or store learnt to reach a device register: performed on the device model.
    case device = 9
    /// An indirect jump (`jalr`: a return, an indirect call, a jump table). Not sensitive: it
    /// runs as it is, but translated code must find the translation of a target known only at
    /// run time, which costs (`bt_indirect_jump`, [AA06]'s call/ret pair). Only the runtime
    /// translator installs it; the callout charges and lets the original run.
    case indirectJump = 10

    /// The callout id for `CodeRewrite.callout`.
    public var id: UInt32 { rawValue }

    /// The kind of callout `id`, or nil for an id the translator never installs.
    public init?(id: UInt32) { self.init(rawValue: id) }

    /// The snake_case name (`vm:stats()` counter keys).
    public var name: String {
        switch self {
        case .csrInline: "csr_inline"
        case .csr: "csr"
        case .sret: "sret"
        case .wfi: "wfi"
        case .sfenceVMA: "sfence_vma"
        case .ecall: "ecall"
        case .mret: "mret"
        case .tracedStore: "traced_store"
        case .device: "device"
        case .indirectJump: "indirect_jump"
        }
    }

    public var description: String { name }

    /// Whether the kind is emulated inline in translated code (when the policy allows it) rather
    /// than by a call into the VMM.
    public var isInline: Bool { self == .csrInline || self == .device || self == .tracedStore }

    /// CSRs whose writes change nothing but the virtual register (privileged spec, "Supervisor
    /// Scratch Register", "Supervisor Exception Program Counter", "Supervisor Cause Register",
    /// "Supervisor Trap Value Register", "Supervisor Trap Vector Base Address Register",
    /// "Counter-Enable Register", "Supervisor Environment Configuration Register").
    static let plainCSRs: Set<UInt16> = [
        CSR.sscratch, CSR.sepc, CSR.scause, CSR.stval, CSR.stvec, CSR.scounteren, CSR.senvcfg,
    ]

    /// What a guest kernel instruction becomes when translated: nil when it is not sensitive and
    /// runs as it is (everything but the catalogue's instructions and ecall; the floating-point
    /// CSRs, which the hart holds for the guest, are not sensitive).
    public static func classify(_ inst: Instruction) -> CalloutKind? {
        switch inst.opcode {
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
            let number = UInt16(truncatingIfNeeded: inst.imm) & 0xFFF
            let level = (number >> 8) & 3
            let counter = number >= CSR.cycle && number <= CSR.cycle + 31
            // User-level CSRs other than the counters are the hart's own (fflags, frm, fcsr).
            guard level != 0 || counter else { return nil }
            let isSwap = inst.opcode == .csrrw || inst.opcode == .csrrwi
            let writes = isSwap || inst.rs1 != 0
            // Only supervisor-level CSRs and the counters exist in the guest kernel's view.
            guard level == 1 || counter else { return .csr }
            if !writes { return .csrInline }
            if (number >> 10) & 3 == 3 { return .csr }   // read-only: illegal to write
            return plainCSRs.contains(number) ? .csrInline : .csr
        case .sret: return .sret
        case .wfi: return .wfi
        case .sfence_vma: return .sfenceVMA
        case .ecall: return .ecall
        case .mret: return .mret
        default: return nil
        }
    }
}
