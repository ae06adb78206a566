// Operand formats: how an instruction's fields appear in assembly and where they sit in the word.
// One format serves the disassembler (operand order and register file), the assembler (parsing) and
// the encoder (field placement), so the three cannot disagree.

/// The standard and vendor-neutral extensions an opcode belongs to.
public enum ISAExtension: String, CaseIterable, Sendable {
    case i = "I", m = "M", a = "A", f = "F", d = "D", c = "C"
    case zicsr = "Zicsr", zifencei = "Zifencei"
    /// The privileged architecture's instructions (mret, sret, wfi, sfence.vma).
    case privileged = "Priv"
    case h = "H"

    /// The bit this extension sets in `misa` (privileged spec, "Machine ISA Register"), or nil for
    /// the Z* extensions, which `misa` does not show. The privileged instructions stand for S.
    public var misaBit: UInt64? {
        switch self {
        case .i: 1 << 8
        case .m: 1 << 12
        case .a: 1 << 0
        case .f: 1 << 5
        case .d: 1 << 3
        case .c: 1 << 2
        case .h: 1 << 7
        case .privileged: 1 << 18
        case .zicsr, .zifencei: nil
        }
    }
}

/// One operand as it appears in assembly text.
public enum Operand: Sendable, Equatable {
    case xd, xs1, xs2          // integer registers rd, rs1, rs2
    case fd, fs1, fs2, fs3     // floating-point registers rd, rs1, rs2, rs3
    case imm                   // a signed 12-bit immediate (I-type)
    case shamt                 // a shift amount
    case upper                 // the 20-bit upper immediate of lui/auipc, written unshifted
    case branchTarget          // a pc-relative byte offset (B-type)
    case jumpTarget            // a pc-relative byte offset (J-type)
    case memory                // offset(xs1)
    case address               // (xs1), no offset: atomics and hypervisor loads/stores
    case csr                   // a CSR name or number
    case zimm                  // the 5-bit immediate of csrr*i, held in rs1
    case roundingMode          // the optional trailing rm
    case pred, succ            // fence ordering sets
}

/// Where an opcode's fields live; each case names its assembly operands.
public enum InstructionFormat: Sendable, Equatable {
    case r, i, shift64, shift32, load, store, branch, upper, jal, jalr
    case none, fence, csr, csrImmediate
    case amo, loadReserved
    case fpR, fpRRM, fpR4, fpUnaryRM
    case fpCompare, fpToInt, fpToIntRM, intToFP, intToFPRM
    case fpLoad, fpStore
    case fenceVMA
    case hypervisorLoad, hypervisorStore

    /// The operands in assembly order (`rd, rs1, rs2` order as objdump prints them).
    public var operands: [Operand] {
        switch self {
        case .r: [.xd, .xs1, .xs2]
        case .i: [.xd, .xs1, .imm]
        case .shift64, .shift32: [.xd, .xs1, .shamt]
        case .load: [.xd, .memory]
        case .store: [.xs2, .memory]
        case .branch: [.xs1, .xs2, .branchTarget]
        case .upper: [.xd, .upper]
        case .jal: [.xd, .jumpTarget]
        case .jalr: [.xd, .memory]
        case .none: []
        case .fence: [.pred, .succ]
        case .csr: [.xd, .csr, .xs1]
        case .csrImmediate: [.xd, .csr, .zimm]
        case .amo: [.xd, .xs2, .address]
        case .loadReserved: [.xd, .address]
        case .fpR: [.fd, .fs1, .fs2]
        case .fpRRM: [.fd, .fs1, .fs2, .roundingMode]
        case .fpR4: [.fd, .fs1, .fs2, .fs3, .roundingMode]
        case .fpUnaryRM: [.fd, .fs1, .roundingMode]
        case .fpCompare: [.xd, .fs1, .fs2]
        case .fpToInt: [.xd, .fs1]
        case .fpToIntRM: [.xd, .fs1, .roundingMode]
        case .intToFP: [.fd, .xs1]
        case .intToFPRM: [.fd, .xs1, .roundingMode]
        case .fpLoad: [.fd, .memory]
        case .fpStore: [.fs2, .memory]
        case .fenceVMA: [.xs1, .xs2]
        case .hypervisorLoad: [.xd, .address]
        case .hypervisorStore: [.xs2, .address]
        }
    }

    /// Whether the format carries a rounding mode in funct3.
    public var hasRoundingMode: Bool { operands.last == .roundingMode }
    /// Whether aq/rl bits (bits 26:25) are part of the instruction (written as mnemonic suffixes).
    public var hasOrdering: Bool { self == .amo || self == .loadReserved }
}
