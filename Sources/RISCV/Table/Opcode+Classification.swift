// Classification of opcodes and instructions, for the interpreter, the block translator and the
// VMM's trap-and-emulate and binary-translation engines. The definitions follow the spec's own
// categories; "sensitive" follows Popek and Goldberg (1974): an instruction whose behaviour depends
// on, or changes, the machine's privileged configuration.

extension Opcode {
    /// Conditional branches (B-type).
    @inlinable public var isBranch: Bool { (Opcode.beq.rawValue...Opcode.bgeu.rawValue).contains(rawValue) }

    /// Unconditional jumps: jal and jalr.
    @inlinable public var isJump: Bool { self == .jal || self == .jalr }

    /// Memory reads, including FP loads, load-reserved and the hypervisor virtual-machine loads.
    public var isLoad: Bool {
        switch self {
        case .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu, .flw, .fld, .lr_w, .lr_d,
             .hlv_b, .hlv_bu, .hlv_h, .hlv_hu, .hlvx_hu, .hlv_w, .hlvx_wu, .hlv_wu, .hlv_d: true
        default: false
        }
    }

    /// Memory writes, including FP stores, store-conditional and the hypervisor stores
    /// (AMOs, which read and write, answer `isAMO`).
    public var isStore: Bool {
        switch self {
        case .sb, .sh, .sw, .sd, .fsw, .fsd, .sc_w, .sc_d, .hsv_b, .hsv_h, .hsv_w, .hsv_d: true
        default: false
        }
    }

    /// Atomic read-modify-write memory operations (amo*.w/.d).
    public var isAMO: Bool {
        switch self {
        case .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w, .amomax_w, .amominu_w, .amomaxu_w,
             .amoswap_d, .amoadd_d, .amoxor_d, .amoand_d, .amoor_d, .amomin_d, .amomax_d, .amominu_d, .amomaxu_d: true
        default: false
        }
    }

    /// Whether the instruction accesses data memory at all.
    public var accessesMemory: Bool { isLoad || isStore || isAMO }

    /// The width in bytes of the data memory access, or 0 for instructions that do not access memory.
    public var memoryAccessWidth: Int {
        switch self {
        case .lb, .lbu, .sb, .hlv_b, .hlv_bu, .hsv_b: 1
        case .lh, .lhu, .sh, .hlv_h, .hlv_hu, .hlvx_hu, .hsv_h: 2
        case .lw, .lwu, .sw, .flw, .fsw, .lr_w, .sc_w, .hlv_w, .hlv_wu, .hlvx_wu, .hsv_w: 4
        case .ld, .sd, .fld, .fsd, .lr_d, .sc_d, .hlv_d, .hsv_d: 8
        default: isAMO ? (info.name.hasSuffix(".w") ? 4 : 8) : 0
        }
    }

    /// Whether a load sign-extends its result (lb, lh, lw, hlv.b/h/w and the LR/AMO word forms).
    public var signExtendsLoad: Bool {
        switch self {
        case .lb, .lh, .lw, .hlv_b, .hlv_h, .hlv_w, .lr_w: true
        default: isAMO && memoryAccessWidth == 4
        }
    }

    /// Zicsr instructions.
    @inlinable public var isCSRAccess: Bool { (Opcode.csrrw.rawValue...Opcode.csrrci.rawValue).contains(rawValue) }

    /// Instructions that are illegal in U-mode regardless of CSR configuration: the trap returns,
    /// wfi (when mstatus.TW traps it, and in U-mode always), the address-translation fences and the
    /// hypervisor instructions (legal in U-mode only when hstatus.HU permits the loads and stores).
    public var isPrivileged: Bool {
        switch self {
        case .mret, .sret, .wfi, .sfence_vma, .hfence_vvma, .hfence_gvma: true
        default: self.extension == .h
        }
    }

    /// Instructions that touch the FP register file or fcsr, so trap when mstatus.FS is Off.
    public var usesFloatingPoint: Bool { self.extension == .f || self.extension == .d }

    /// Instructions after which a block translator must stop: control may not fall through, or the
    /// instruction may change privilege, translation, interrupt enables or instruction memory.
    public var endsBlock: Bool {
        if isBranch || isJump || isCSRAccess { return true }
        switch self {
        case .illegal, .ecall, .ebreak, .mret, .sret, .wfi, .fence_i, .sfence_vma, .hfence_vvma, .hfence_gvma: return true
        default: return false
        }
    }
}

extension Instruction {
    /// The CSR number of a Zicsr instruction.
    @inlinable public var csr: UInt16? {
        opcode.isCSRAccess ? UInt16(truncatingIfNeeded: imm & 0xfff) : nil
    }

    /// Whether a Zicsr instruction reads its CSR: csrrw/csrrwi with rd = x0 do not ("Zicsr",
    /// "CSR Instructions": side effects of reads are suppressed).
    @inlinable public var readsCSR: Bool {
        switch opcode {
        case .csrrw, .csrrwi: rd != 0
        case .csrrs, .csrrc, .csrrsi, .csrrci: true
        default: false
        }
    }

    /// Whether a Zicsr instruction writes its CSR: csrrs/csrrc with rs1 = x0 and csrrsi/csrrci with
    /// uimm = 0 do not (and so do not trap on read-only CSRs).
    @inlinable public var writesCSR: Bool {
        switch opcode {
        case .csrrw, .csrrwi: true
        case .csrrs, .csrrc, .csrrsi, .csrrci: rs1 != 0
        default: false
        }
    }

    /// Popek–Goldberg sensitivity: privileged instructions, and accesses to any CSR that is not an
    /// unprivileged FP CSR — machine, hypervisor and supervisor state, and the counters (cycle, time,
    /// instret, hpmcounter*), whose values a VMM virtualises.
    public var isSensitive: Bool {
        if opcode.isPrivileged { return true }
        guard let number = csr else { return false }
        return CSR.minimumPrivilege(number) != .user || !(number <= CSR.fcsr)
    }

    /// The `misa` bits that must be set for this instruction to exist: its extension's, plus C for
    /// a compressed encoding (and D for c.fld/c.fsd through the opcode). `mret` needs none beyond
    /// the base; `sret` and `sfence.vma` need S; the H instructions need H.
    public var requiredMISABits: UInt64 {
        var bits: UInt64 = 0
        switch opcode {
        case .mret, .wfi: break
        default: bits |= opcode.extension.misaBit ?? 0
        }
        if length == 2 { bits |= ISAExtension.c.misaBit! }
        return bits
    }

    /// Whether a hart with this `misa` implements the instruction (illegal-instruction otherwise).
    @inlinable public func isImplemented(misa: UInt64) -> Bool { misa & requiredMISABits == requiredMISABits }

    /// Whether a control-flow instruction writes a return address (jal/jalr with rd != x0).
    @inlinable public var isCall: Bool { opcode.isJump && rd != 0 }
}
