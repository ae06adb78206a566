// The instruction table: for every opcode its mnemonic, its fixed bits (match under mask), its
// operand format and its extension. Values come from the unprivileged spec's "RV32/64G Instruction
// Set Listings" and the privileged spec's "Privileged Instruction Listing" / hypervisor chapter.
//
// The `switch` in `InstructionTable.describe` is exhaustive over `Opcode`, so adding an opcode
// without a table entry does not compile. The encoder and disassembler read this table; the fast
// decoder is a hand-written switch that the tests check against `InstructionTable.referenceOpcode`.

/// Everything the ISA says about one opcode.
public struct InstructionInfo: Sendable {
    public let opcode: Opcode
    /// The assembly mnemonic, e.g. "fence.i", "lr.w", "fcvt.d.wu".
    public let name: String
    /// The bits every encoding of this opcode has under `mask`.
    public let match: UInt32
    public let mask: UInt32
    public let format: InstructionFormat
    public let `extension`: ISAExtension
    /// The rounding mode assumed when assembly omits it: dynamic (7), except for conversions that are
    /// always exact, whose conventional default is round-to-nearest-even (0).
    public let defaultRoundingMode: UInt8
}

public enum InstructionTable {
    /// All entries, indexed by `Opcode.rawValue` (entry 0 is `.illegal`).
    public static let entries: [InstructionInfo] = Opcode.allCases.map(describe)

    /// Mnemonic → opcode, for the assembler.
    public static let byName: [String: Opcode] = {
        var map: [String: Opcode] = [:]
        for entry in entries where entry.opcode != .illegal { map[entry.name] = entry.opcode }
        return map
    }()

    // Field builders: the fixed parts of an encoding.
    private static func op(_ major: UInt32, f3: UInt32 = 0, f7: UInt32 = 0) -> UInt32 {
        major | f3 << 12 | f7 << 25
    }
    private static let maskOpcode: UInt32 = 0x0000_007f
    private static let maskF3: UInt32 = 0x0000_707f
    private static let maskF7F3: UInt32 = 0xfe00_707f
    private static let maskF7: UInt32 = 0xfe00_007f       // rm is an operand
    private static let maskF7RS2: UInt32 = 0xfff0_007f    // rs2 fixed, rm an operand
    private static let maskF7RS2F3: UInt32 = 0xfff0_707f
    private static let maskF6F3: UInt32 = 0xfc00_707f
    private static let maskR4: UInt32 = 0x0600_007f
    private static let maskAMO: UInt32 = 0xf800_707f
    private static let maskLR: UInt32 = 0xf9f0_707f
    private static let maskFenceVMA: UInt32 = 0xfe00_7fff

    static func describe(_ opcode: Opcode) -> InstructionInfo {
        let name = opcode == .illegal ? "illegal" : String(String(describing: opcode).map { $0 == "_" ? "." : $0 })
        var rmDefault: UInt8 = 7
        let (match, mask, format, ext): (UInt32, UInt32, InstructionFormat, ISAExtension)
        switch opcode {
        case .illegal: (match, mask, format, ext) = (0, 0xffff_ffff, .none, .i)
        case .lui: (match, mask, format, ext) = (0x37, maskOpcode, .upper, .i)
        case .auipc: (match, mask, format, ext) = (0x17, maskOpcode, .upper, .i)
        case .jal: (match, mask, format, ext) = (0x6f, maskOpcode, .jal, .i)
        case .jalr: (match, mask, format, ext) = (0x67, maskF3, .jalr, .i)
        case .beq: (match, mask, format, ext) = (op(0x63, f3: 0), maskF3, .branch, .i)
        case .bne: (match, mask, format, ext) = (op(0x63, f3: 1), maskF3, .branch, .i)
        case .blt: (match, mask, format, ext) = (op(0x63, f3: 4), maskF3, .branch, .i)
        case .bge: (match, mask, format, ext) = (op(0x63, f3: 5), maskF3, .branch, .i)
        case .bltu: (match, mask, format, ext) = (op(0x63, f3: 6), maskF3, .branch, .i)
        case .bgeu: (match, mask, format, ext) = (op(0x63, f3: 7), maskF3, .branch, .i)
        case .lb: (match, mask, format, ext) = (op(0x03, f3: 0), maskF3, .load, .i)
        case .lh: (match, mask, format, ext) = (op(0x03, f3: 1), maskF3, .load, .i)
        case .lw: (match, mask, format, ext) = (op(0x03, f3: 2), maskF3, .load, .i)
        case .ld: (match, mask, format, ext) = (op(0x03, f3: 3), maskF3, .load, .i)
        case .lbu: (match, mask, format, ext) = (op(0x03, f3: 4), maskF3, .load, .i)
        case .lhu: (match, mask, format, ext) = (op(0x03, f3: 5), maskF3, .load, .i)
        case .lwu: (match, mask, format, ext) = (op(0x03, f3: 6), maskF3, .load, .i)
        case .sb: (match, mask, format, ext) = (op(0x23, f3: 0), maskF3, .store, .i)
        case .sh: (match, mask, format, ext) = (op(0x23, f3: 1), maskF3, .store, .i)
        case .sw: (match, mask, format, ext) = (op(0x23, f3: 2), maskF3, .store, .i)
        case .sd: (match, mask, format, ext) = (op(0x23, f3: 3), maskF3, .store, .i)
        case .addi: (match, mask, format, ext) = (op(0x13, f3: 0), maskF3, .i, .i)
        case .slti: (match, mask, format, ext) = (op(0x13, f3: 2), maskF3, .i, .i)
        case .sltiu: (match, mask, format, ext) = (op(0x13, f3: 3), maskF3, .i, .i)
        case .xori: (match, mask, format, ext) = (op(0x13, f3: 4), maskF3, .i, .i)
        case .ori: (match, mask, format, ext) = (op(0x13, f3: 6), maskF3, .i, .i)
        case .andi: (match, mask, format, ext) = (op(0x13, f3: 7), maskF3, .i, .i)
        case .slli: (match, mask, format, ext) = (op(0x13, f3: 1), maskF6F3, .shift64, .i)
        case .srli: (match, mask, format, ext) = (op(0x13, f3: 5), maskF6F3, .shift64, .i)
        case .srai: (match, mask, format, ext) = (op(0x13, f3: 5, f7: 0x20), maskF6F3, .shift64, .i)
        case .add: (match, mask, format, ext) = (op(0x33, f3: 0), maskF7F3, .r, .i)
        case .sub: (match, mask, format, ext) = (op(0x33, f3: 0, f7: 0x20), maskF7F3, .r, .i)
        case .sll: (match, mask, format, ext) = (op(0x33, f3: 1), maskF7F3, .r, .i)
        case .slt: (match, mask, format, ext) = (op(0x33, f3: 2), maskF7F3, .r, .i)
        case .sltu: (match, mask, format, ext) = (op(0x33, f3: 3), maskF7F3, .r, .i)
        case .xor: (match, mask, format, ext) = (op(0x33, f3: 4), maskF7F3, .r, .i)
        case .srl: (match, mask, format, ext) = (op(0x33, f3: 5), maskF7F3, .r, .i)
        case .sra: (match, mask, format, ext) = (op(0x33, f3: 5, f7: 0x20), maskF7F3, .r, .i)
        case .or: (match, mask, format, ext) = (op(0x33, f3: 6), maskF7F3, .r, .i)
        case .and: (match, mask, format, ext) = (op(0x33, f3: 7), maskF7F3, .r, .i)
        case .addiw: (match, mask, format, ext) = (op(0x1b, f3: 0), maskF3, .i, .i)
        case .slliw: (match, mask, format, ext) = (op(0x1b, f3: 1), maskF7F3, .shift32, .i)
        case .srliw: (match, mask, format, ext) = (op(0x1b, f3: 5), maskF7F3, .shift32, .i)
        case .sraiw: (match, mask, format, ext) = (op(0x1b, f3: 5, f7: 0x20), maskF7F3, .shift32, .i)
        case .addw: (match, mask, format, ext) = (op(0x3b, f3: 0), maskF7F3, .r, .i)
        case .subw: (match, mask, format, ext) = (op(0x3b, f3: 0, f7: 0x20), maskF7F3, .r, .i)
        case .sllw: (match, mask, format, ext) = (op(0x3b, f3: 1), maskF7F3, .r, .i)
        case .srlw: (match, mask, format, ext) = (op(0x3b, f3: 5), maskF7F3, .r, .i)
        case .sraw: (match, mask, format, ext) = (op(0x3b, f3: 5, f7: 0x20), maskF7F3, .r, .i)
        case .fence: (match, mask, format, ext) = (op(0x0f, f3: 0), maskF3, .fence, .i)
        case .fence_i: (match, mask, format, ext) = (op(0x0f, f3: 1), maskF3, .none, .zifencei)
        case .ecall: (match, mask, format, ext) = (0x0000_0073, 0xffff_ffff, .none, .i)
        case .ebreak: (match, mask, format, ext) = (0x0010_0073, 0xffff_ffff, .none, .i)
        case .mret: (match, mask, format, ext) = (0x3020_0073, 0xffff_ffff, .none, .privileged)
        case .sret: (match, mask, format, ext) = (0x1020_0073, 0xffff_ffff, .none, .privileged)
        case .wfi: (match, mask, format, ext) = (0x1050_0073, 0xffff_ffff, .none, .privileged)
        case .sfence_vma: (match, mask, format, ext) = (op(0x73, f7: 0x09), maskFenceVMA, .fenceVMA, .privileged)
        case .csrrw: (match, mask, format, ext) = (op(0x73, f3: 1), maskF3, .csr, .zicsr)
        case .csrrs: (match, mask, format, ext) = (op(0x73, f3: 2), maskF3, .csr, .zicsr)
        case .csrrc: (match, mask, format, ext) = (op(0x73, f3: 3), maskF3, .csr, .zicsr)
        case .csrrwi: (match, mask, format, ext) = (op(0x73, f3: 5), maskF3, .csrImmediate, .zicsr)
        case .csrrsi: (match, mask, format, ext) = (op(0x73, f3: 6), maskF3, .csrImmediate, .zicsr)
        case .csrrci: (match, mask, format, ext) = (op(0x73, f3: 7), maskF3, .csrImmediate, .zicsr)
        case .mul: (match, mask, format, ext) = (op(0x33, f3: 0, f7: 1), maskF7F3, .r, .m)
        case .mulh: (match, mask, format, ext) = (op(0x33, f3: 1, f7: 1), maskF7F3, .r, .m)
        case .mulhsu: (match, mask, format, ext) = (op(0x33, f3: 2, f7: 1), maskF7F3, .r, .m)
        case .mulhu: (match, mask, format, ext) = (op(0x33, f3: 3, f7: 1), maskF7F3, .r, .m)
        case .div: (match, mask, format, ext) = (op(0x33, f3: 4, f7: 1), maskF7F3, .r, .m)
        case .divu: (match, mask, format, ext) = (op(0x33, f3: 5, f7: 1), maskF7F3, .r, .m)
        case .rem: (match, mask, format, ext) = (op(0x33, f3: 6, f7: 1), maskF7F3, .r, .m)
        case .remu: (match, mask, format, ext) = (op(0x33, f3: 7, f7: 1), maskF7F3, .r, .m)
        case .mulw: (match, mask, format, ext) = (op(0x3b, f3: 0, f7: 1), maskF7F3, .r, .m)
        case .divw: (match, mask, format, ext) = (op(0x3b, f3: 4, f7: 1), maskF7F3, .r, .m)
        case .divuw: (match, mask, format, ext) = (op(0x3b, f3: 5, f7: 1), maskF7F3, .r, .m)
        case .remw: (match, mask, format, ext) = (op(0x3b, f3: 6, f7: 1), maskF7F3, .r, .m)
        case .remuw: (match, mask, format, ext) = (op(0x3b, f3: 7, f7: 1), maskF7F3, .r, .m)
        case .lr_w: (match, mask, format, ext) = (amo(0x02, 2), maskLR, .loadReserved, .a)
        case .sc_w: (match, mask, format, ext) = (amo(0x03, 2), maskAMO, .amo, .a)
        case .amoswap_w: (match, mask, format, ext) = (amo(0x01, 2), maskAMO, .amo, .a)
        case .amoadd_w: (match, mask, format, ext) = (amo(0x00, 2), maskAMO, .amo, .a)
        case .amoxor_w: (match, mask, format, ext) = (amo(0x04, 2), maskAMO, .amo, .a)
        case .amoand_w: (match, mask, format, ext) = (amo(0x0c, 2), maskAMO, .amo, .a)
        case .amoor_w: (match, mask, format, ext) = (amo(0x08, 2), maskAMO, .amo, .a)
        case .amomin_w: (match, mask, format, ext) = (amo(0x10, 2), maskAMO, .amo, .a)
        case .amomax_w: (match, mask, format, ext) = (amo(0x14, 2), maskAMO, .amo, .a)
        case .amominu_w: (match, mask, format, ext) = (amo(0x18, 2), maskAMO, .amo, .a)
        case .amomaxu_w: (match, mask, format, ext) = (amo(0x1c, 2), maskAMO, .amo, .a)
        case .lr_d: (match, mask, format, ext) = (amo(0x02, 3), maskLR, .loadReserved, .a)
        case .sc_d: (match, mask, format, ext) = (amo(0x03, 3), maskAMO, .amo, .a)
        case .amoswap_d: (match, mask, format, ext) = (amo(0x01, 3), maskAMO, .amo, .a)
        case .amoadd_d: (match, mask, format, ext) = (amo(0x00, 3), maskAMO, .amo, .a)
        case .amoxor_d: (match, mask, format, ext) = (amo(0x04, 3), maskAMO, .amo, .a)
        case .amoand_d: (match, mask, format, ext) = (amo(0x0c, 3), maskAMO, .amo, .a)
        case .amoor_d: (match, mask, format, ext) = (amo(0x08, 3), maskAMO, .amo, .a)
        case .amomin_d: (match, mask, format, ext) = (amo(0x10, 3), maskAMO, .amo, .a)
        case .amomax_d: (match, mask, format, ext) = (amo(0x14, 3), maskAMO, .amo, .a)
        case .amominu_d: (match, mask, format, ext) = (amo(0x18, 3), maskAMO, .amo, .a)
        case .amomaxu_d: (match, mask, format, ext) = (amo(0x1c, 3), maskAMO, .amo, .a)
        case .flw: (match, mask, format, ext) = (op(0x07, f3: 2), maskF3, .fpLoad, .f)
        case .fsw: (match, mask, format, ext) = (op(0x27, f3: 2), maskF3, .fpStore, .f)
        case .fld: (match, mask, format, ext) = (op(0x07, f3: 3), maskF3, .fpLoad, .d)
        case .fsd: (match, mask, format, ext) = (op(0x27, f3: 3), maskF3, .fpStore, .d)
        case .fmadd_s: (match, mask, format, ext) = (0x43, maskR4, .fpR4, .f)
        case .fmsub_s: (match, mask, format, ext) = (0x47, maskR4, .fpR4, .f)
        case .fnmsub_s: (match, mask, format, ext) = (0x4b, maskR4, .fpR4, .f)
        case .fnmadd_s: (match, mask, format, ext) = (0x4f, maskR4, .fpR4, .f)
        case .fmadd_d: (match, mask, format, ext) = (0x43 | 1 << 25, maskR4, .fpR4, .d)
        case .fmsub_d: (match, mask, format, ext) = (0x47 | 1 << 25, maskR4, .fpR4, .d)
        case .fnmsub_d: (match, mask, format, ext) = (0x4b | 1 << 25, maskR4, .fpR4, .d)
        case .fnmadd_d: (match, mask, format, ext) = (0x4f | 1 << 25, maskR4, .fpR4, .d)
        case .fadd_s: (match, mask, format, ext) = (fp(0x00), maskF7, .fpRRM, .f)
        case .fsub_s: (match, mask, format, ext) = (fp(0x04), maskF7, .fpRRM, .f)
        case .fmul_s: (match, mask, format, ext) = (fp(0x08), maskF7, .fpRRM, .f)
        case .fdiv_s: (match, mask, format, ext) = (fp(0x0c), maskF7, .fpRRM, .f)
        case .fsqrt_s: (match, mask, format, ext) = (fp(0x2c), maskF7RS2, .fpUnaryRM, .f)
        case .fsgnj_s: (match, mask, format, ext) = (fp(0x10, f3: 0), maskF7F3, .fpR, .f)
        case .fsgnjn_s: (match, mask, format, ext) = (fp(0x10, f3: 1), maskF7F3, .fpR, .f)
        case .fsgnjx_s: (match, mask, format, ext) = (fp(0x10, f3: 2), maskF7F3, .fpR, .f)
        case .fmin_s: (match, mask, format, ext) = (fp(0x14, f3: 0), maskF7F3, .fpR, .f)
        case .fmax_s: (match, mask, format, ext) = (fp(0x14, f3: 1), maskF7F3, .fpR, .f)
        case .fcvt_w_s: (match, mask, format, ext) = (fp(0x60, rs2: 0), maskF7RS2, .fpToIntRM, .f)
        case .fcvt_wu_s: (match, mask, format, ext) = (fp(0x60, rs2: 1), maskF7RS2, .fpToIntRM, .f)
        case .fcvt_l_s: (match, mask, format, ext) = (fp(0x60, rs2: 2), maskF7RS2, .fpToIntRM, .f)
        case .fcvt_lu_s: (match, mask, format, ext) = (fp(0x60, rs2: 3), maskF7RS2, .fpToIntRM, .f)
        case .fmv_x_w: (match, mask, format, ext) = (fp(0x70, f3: 0), maskF7RS2F3, .fpToInt, .f)
        case .fclass_s: (match, mask, format, ext) = (fp(0x70, f3: 1), maskF7RS2F3, .fpToInt, .f)
        case .feq_s: (match, mask, format, ext) = (fp(0x50, f3: 2), maskF7F3, .fpCompare, .f)
        case .flt_s: (match, mask, format, ext) = (fp(0x50, f3: 1), maskF7F3, .fpCompare, .f)
        case .fle_s: (match, mask, format, ext) = (fp(0x50, f3: 0), maskF7F3, .fpCompare, .f)
        case .fcvt_s_w: (match, mask, format, ext) = (fp(0x68, rs2: 0), maskF7RS2, .intToFPRM, .f)
        case .fcvt_s_wu: (match, mask, format, ext) = (fp(0x68, rs2: 1), maskF7RS2, .intToFPRM, .f)
        case .fcvt_s_l: (match, mask, format, ext) = (fp(0x68, rs2: 2), maskF7RS2, .intToFPRM, .f)
        case .fcvt_s_lu: (match, mask, format, ext) = (fp(0x68, rs2: 3), maskF7RS2, .intToFPRM, .f)
        case .fmv_w_x: (match, mask, format, ext) = (fp(0x78, f3: 0), maskF7RS2F3, .intToFP, .f)
        case .fadd_d: (match, mask, format, ext) = (fp(0x01), maskF7, .fpRRM, .d)
        case .fsub_d: (match, mask, format, ext) = (fp(0x05), maskF7, .fpRRM, .d)
        case .fmul_d: (match, mask, format, ext) = (fp(0x09), maskF7, .fpRRM, .d)
        case .fdiv_d: (match, mask, format, ext) = (fp(0x0d), maskF7, .fpRRM, .d)
        case .fsqrt_d: (match, mask, format, ext) = (fp(0x2d), maskF7RS2, .fpUnaryRM, .d)
        case .fsgnj_d: (match, mask, format, ext) = (fp(0x11, f3: 0), maskF7F3, .fpR, .d)
        case .fsgnjn_d: (match, mask, format, ext) = (fp(0x11, f3: 1), maskF7F3, .fpR, .d)
        case .fsgnjx_d: (match, mask, format, ext) = (fp(0x11, f3: 2), maskF7F3, .fpR, .d)
        case .fmin_d: (match, mask, format, ext) = (fp(0x15, f3: 0), maskF7F3, .fpR, .d)
        case .fmax_d: (match, mask, format, ext) = (fp(0x15, f3: 1), maskF7F3, .fpR, .d)
        case .fcvt_s_d: (match, mask, format, ext) = (fp(0x20, rs2: 1), maskF7RS2, .fpUnaryRM, .d)
        case .fcvt_d_s:
            (match, mask, format, ext) = (fp(0x21, rs2: 0), maskF7RS2, .fpUnaryRM, .d)
            rmDefault = 0
        case .feq_d: (match, mask, format, ext) = (fp(0x51, f3: 2), maskF7F3, .fpCompare, .d)
        case .flt_d: (match, mask, format, ext) = (fp(0x51, f3: 1), maskF7F3, .fpCompare, .d)
        case .fle_d: (match, mask, format, ext) = (fp(0x51, f3: 0), maskF7F3, .fpCompare, .d)
        case .fclass_d: (match, mask, format, ext) = (fp(0x71, f3: 1), maskF7RS2F3, .fpToInt, .d)
        case .fcvt_w_d: (match, mask, format, ext) = (fp(0x61, rs2: 0), maskF7RS2, .fpToIntRM, .d)
        case .fcvt_wu_d: (match, mask, format, ext) = (fp(0x61, rs2: 1), maskF7RS2, .fpToIntRM, .d)
        case .fcvt_l_d: (match, mask, format, ext) = (fp(0x61, rs2: 2), maskF7RS2, .fpToIntRM, .d)
        case .fcvt_lu_d: (match, mask, format, ext) = (fp(0x61, rs2: 3), maskF7RS2, .fpToIntRM, .d)
        case .fcvt_d_w:
            (match, mask, format, ext) = (fp(0x69, rs2: 0), maskF7RS2, .intToFPRM, .d)
            rmDefault = 0
        case .fcvt_d_wu:
            (match, mask, format, ext) = (fp(0x69, rs2: 1), maskF7RS2, .intToFPRM, .d)
            rmDefault = 0
        case .fcvt_d_l: (match, mask, format, ext) = (fp(0x69, rs2: 2), maskF7RS2, .intToFPRM, .d)
        case .fcvt_d_lu: (match, mask, format, ext) = (fp(0x69, rs2: 3), maskF7RS2, .intToFPRM, .d)
        case .fmv_x_d: (match, mask, format, ext) = (fp(0x71, f3: 0), maskF7RS2F3, .fpToInt, .d)
        case .fmv_d_x: (match, mask, format, ext) = (fp(0x79, f3: 0), maskF7RS2F3, .intToFP, .d)
        case .hfence_vvma: (match, mask, format, ext) = (op(0x73, f7: 0x11), maskFenceVMA, .fenceVMA, .h)
        case .hfence_gvma: (match, mask, format, ext) = (op(0x73, f7: 0x31), maskFenceVMA, .fenceVMA, .h)
        case .hlv_b: (match, mask, format, ext) = (hlv(0x30, 0), maskF7RS2F3, .hypervisorLoad, .h)
        case .hlv_bu: (match, mask, format, ext) = (hlv(0x30, 1), maskF7RS2F3, .hypervisorLoad, .h)
        case .hlv_h: (match, mask, format, ext) = (hlv(0x32, 0), maskF7RS2F3, .hypervisorLoad, .h)
        case .hlv_hu: (match, mask, format, ext) = (hlv(0x32, 1), maskF7RS2F3, .hypervisorLoad, .h)
        case .hlvx_hu: (match, mask, format, ext) = (hlv(0x32, 3), maskF7RS2F3, .hypervisorLoad, .h)
        case .hlv_w: (match, mask, format, ext) = (hlv(0x34, 0), maskF7RS2F3, .hypervisorLoad, .h)
        case .hlvx_wu: (match, mask, format, ext) = (hlv(0x34, 3), maskF7RS2F3, .hypervisorLoad, .h)
        case .hlv_wu: (match, mask, format, ext) = (hlv(0x34, 1), maskF7RS2F3, .hypervisorLoad, .h)
        case .hlv_d: (match, mask, format, ext) = (hlv(0x36, 0), maskF7RS2F3, .hypervisorLoad, .h)
        case .hsv_b: (match, mask, format, ext) = (op(0x73, f3: 4, f7: 0x31), maskFenceVMA, .hypervisorStore, .h)
        case .hsv_h: (match, mask, format, ext) = (op(0x73, f3: 4, f7: 0x33), maskFenceVMA, .hypervisorStore, .h)
        case .hsv_w: (match, mask, format, ext) = (op(0x73, f3: 4, f7: 0x35), maskFenceVMA, .hypervisorStore, .h)
        case .hsv_d: (match, mask, format, ext) = (op(0x73, f3: 4, f7: 0x37), maskFenceVMA, .hypervisorStore, .h)
        }
        return InstructionInfo(opcode: opcode, name: name, match: match, mask: mask, format: format,
                               extension: ext, defaultRoundingMode: rmDefault)
    }

    private static func amo(_ funct5: UInt32, _ width: UInt32) -> UInt32 { 0x2f | width << 12 | funct5 << 27 }
    private static func fp(_ funct7: UInt32, f3: UInt32 = 0, rs2: UInt32 = 0) -> UInt32 {
        0x53 | f3 << 12 | rs2 << 20 | funct7 << 25
    }
    private static func hlv(_ funct7: UInt32, _ rs2: UInt32) -> UInt32 { 0x73 | 4 << 12 | rs2 << 20 | funct7 << 25 }

    /// A slow, obviously-correct decoder of 32-bit words built only from the table: the entry whose
    /// fixed bits match, subject to the one legality rule masks cannot express (reserved rounding
    /// modes 5 and 6). Tests compare `Decoder.decode` against it; nothing on a hot path uses it.
    public static func referenceOpcode(_ word: UInt32) -> Opcode {
        for entry in matchList where word & entry.mask == entry.match {
            if entry.hasRoundingMode {
                let rm = (word >> 12) & 7
                if rm == 5 || rm == 6 { return .illegal }
            }
            return entry.opcode
        }
        return .illegal
    }

    /// The fixed bits of every opcode, flattened for `referenceOpcode`'s linear scan.
    static let matchList: [(mask: UInt32, match: UInt32, opcode: Opcode, hasRoundingMode: Bool)] =
        entries.dropFirst().map { ($0.mask, $0.match, $0.opcode, $0.format.hasRoundingMode) }
}

extension Opcode {
    /// The table entry for this opcode.
    @inlinable public var info: InstructionInfo { InstructionTable.entries[Int(rawValue)] }
    /// The assembly mnemonic ("fence.i", "lr.w"; "illegal" for `.illegal`).
    public var name: String { info.name }
    /// The extension that defines this opcode.
    public var `extension`: ISAExtension { info.extension }
}
