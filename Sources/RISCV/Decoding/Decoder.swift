// The instruction decoder for 32-bit encodings (unprivileged spec, chapter "RV32I Base Integer
// Instruction Set" for the formats, "RV64I" for the shift-amount rules, "RV32/64G Instruction Set
// Listings" for every opcode; privileged spec "Privileged Instruction Listing" and the H extension's
// "Hypervisor Instructions").
//
// It is a switch on the major opcode and then on funct3/funct7: no table lookup and no allocation,
// so it inlines into the interpreter's decode-cache fill. The instruction table
// (`InstructionTable`) is the reference the tests check this switch against, bit for bit.
//
// Measured (callgrind, release, a mix of common words, 2026-11): about 34 instructions per 32-bit
// decode, 45 per compressed decode, 60 for an OP-FP word, call and result construction included.

/// Turns instruction bits into an `Instruction`.
public enum Decoder {
    /// Decodes the instruction whose low bits are `bits` (if bits & 3 != 3 it is compressed and only
    /// the low 16 bits matter). Compressed forms expand to their base opcode (c.addi → addi, c.j → jal
    /// with rd=0, c.lwsp → lw with rs1=2 ...) with length 2. Reserved and illegal encodings give
    /// `.illegal`.
    @inlinable
    public static func decode(_ bits: UInt32) -> Instruction {
        if bits & 3 != 3 { return decodeCompressed(UInt16(truncatingIfNeeded: bits)) }
        return decode32(bits)
    }

    /// The instruction at `pc`, read one 16-bit parcel at a time by `parcel` (nil: that parcel
    /// cannot be read, and neither can the instruction). The parcel at `pc + 2` is read only when
    /// the first one says the instruction is 32 bits long, as a hart fetches (unprivileged spec,
    /// "Instruction Length Encoding"): a compressed instruction at the end of a page does not
    /// touch the next page. For readers outside the fetch path (a VMM emulating a trapped
    /// instruction, trigger matching), which translate each parcel their own way.
    public static func decode(at pc: UInt64, parcel: (UInt64) -> UInt16?) -> Instruction? {
        guard let low = parcel(pc) else { return nil }
        if low & 3 != 3 { return decodeCompressed(low) }
        guard let high = parcel(pc &+ 2) else { return nil }
        return decode32(UInt32(high) << 16 | UInt32(low))
    }

    // MARK: Fields of the 32-bit formats ("Base Instruction Formats", "Immediate Encoding Variants")

    @inlinable static func rd(_ b: UInt32) -> UInt8 { UInt8(truncatingIfNeeded: (b >> 7) & 31) }
    @inlinable static func rs1(_ b: UInt32) -> UInt8 { UInt8(truncatingIfNeeded: (b >> 15) & 31) }
    @inlinable static func rs2(_ b: UInt32) -> UInt8 { UInt8(truncatingIfNeeded: (b >> 20) & 31) }
    @inlinable static func rs3(_ b: UInt32) -> UInt8 { UInt8(truncatingIfNeeded: b >> 27) }
    @inlinable static func funct3(_ b: UInt32) -> UInt32 { (b >> 12) & 7 }
    @inlinable static func funct7(_ b: UInt32) -> UInt32 { b >> 25 }

    @inlinable static func immI(_ b: UInt32) -> Int32 { Int32(bitPattern: b) >> 20 }
    @inlinable static func immS(_ b: UInt32) -> Int32 {
        (Int32(bitPattern: b & 0xfe00_0000) >> 20) | Int32(bitPattern: (b >> 7) & 31)
    }
    @inlinable static func immB(_ b: UInt32) -> Int32 {
        (Int32(bitPattern: b & 0x8000_0000) >> 19) | Int32(bitPattern: (b & 0x80) << 4)
            | Int32(bitPattern: (b >> 20) & 0x7e0) | Int32(bitPattern: (b >> 7) & 0x1e)
    }
    @inlinable static func immU(_ b: UInt32) -> Int32 { Int32(bitPattern: b & 0xffff_f000) }
    @inlinable static func immJ(_ b: UInt32) -> Int32 {
        (Int32(bitPattern: b & 0x8000_0000) >> 11) | Int32(bitPattern: b & 0xf_f000)
            | Int32(bitPattern: (b >> 9) & 0x800) | Int32(bitPattern: (b >> 20) & 0x7fe)
    }

    /// A static rounding mode is legal unless it is one of the reserved values 5 and 6
    /// (unprivileged spec, "Floating-Point Control and Status Register", table of rm encodings).
    @inlinable static func validRM(_ b: UInt32) -> Bool {
        let rm = funct3(b)
        return rm != 5 && rm != 6
    }

    @inlinable static func r(_ op: Opcode, _ b: UInt32) -> Instruction {
        Instruction(opcode: op, rd: rd(b), rs1: rs1(b), rs2: rs2(b), raw: b)
    }
    /// An R-type FP instruction that carries a rounding mode.
    @inlinable static func rRM(_ op: Opcode, _ b: UInt32) -> Instruction {
        guard validRM(b) else { return .illegal(b, length: 4) }
        return Instruction(opcode: op, rd: rd(b), rs1: rs1(b), rs2: rs2(b),
                           rm: UInt8(truncatingIfNeeded: funct3(b)), raw: b)
    }
    /// A unary FP operation with a rounding mode: rs2 selects the operation and is not an operand.
    @inlinable static func r1RM(_ op: Opcode, _ b: UInt32) -> Instruction {
        guard validRM(b) else { return .illegal(b, length: 4) }
        return Instruction(opcode: op, rd: rd(b), rs1: rs1(b), rm: UInt8(truncatingIfNeeded: funct3(b)), raw: b)
    }
    /// rd and rs1 only (moves, fclass, hypervisor loads): rs2 is part of the opcode.
    @inlinable static func r1(_ op: Opcode, _ b: UInt32) -> Instruction {
        Instruction(opcode: op, rd: rd(b), rs1: rs1(b), raw: b)
    }
    @inlinable static func i(_ op: Opcode, _ b: UInt32) -> Instruction {
        Instruction(opcode: op, rd: rd(b), rs1: rs1(b), imm: immI(b), raw: b)
    }
    @inlinable static func s(_ op: Opcode, _ b: UInt32) -> Instruction {
        Instruction(opcode: op, rs1: rs1(b), rs2: rs2(b), imm: immS(b), raw: b)
    }
    @inlinable static func shift(_ op: Opcode, _ b: UInt32, _ shamtMask: UInt32) -> Instruction {
        Instruction(opcode: op, rd: rd(b), rs1: rs1(b), imm: Int32(bitPattern: (b >> 20) & shamtMask), raw: b)
    }

    @inlinable
    static func decode32(_ b: UInt32) -> Instruction {
        let f3 = funct3(b)
        switch b & 0x7f {
        case 0x03:  // LOAD
            switch f3 {
            case 0: return i(.lb, b)
            case 1: return i(.lh, b)
            case 2: return i(.lw, b)
            case 3: return i(.ld, b)
            case 4: return i(.lbu, b)
            case 5: return i(.lhu, b)
            case 6: return i(.lwu, b)
            default: return .illegal(b, length: 4)
            }
        case 0x07:  // LOAD-FP
            switch f3 {
            case 2: return i(.flw, b)
            case 3: return i(.fld, b)
            default: return .illegal(b, length: 4)
            }
        case 0x0f:  // MISC-MEM
            // The unused fields of FENCE (rs1, rd, reserved fm values) and of FENCE.I (imm, rs1, rd)
            // are reserved for finer-grained fences and "base implementations shall ignore these
            // fields" (unprivileged spec, "Memory Ordering Instructions", "Zifencei"): not illegal.
            switch f3 {
            case 0:
                return Instruction(opcode: .fence, rd: rd(b), rs1: rs1(b), rm: UInt8(truncatingIfNeeded: b >> 20),
                                   imm: Int32(bitPattern: b >> 20), raw: b)
            case 1: return i(.fence_i, b)
            default: return .illegal(b, length: 4)
            }
        case 0x13:  // OP-IMM; RV64 shifts take a 6-bit shamt, so funct6 (not funct7) selects
            switch f3 {
            case 0: return i(.addi, b)
            case 1: return b >> 26 == 0 ? shift(.slli, b, 63) : .illegal(b, length: 4)
            case 2: return i(.slti, b)
            case 3: return i(.sltiu, b)
            case 4: return i(.xori, b)
            case 5:
                switch b >> 26 {
                case 0x00: return shift(.srli, b, 63)
                case 0x10: return shift(.srai, b, 63)
                default: return .illegal(b, length: 4)
                }
            case 6: return i(.ori, b)
            default: return i(.andi, b)
            }
        case 0x17:
            return Instruction(opcode: .auipc, rd: rd(b), imm: immU(b), raw: b)
        case 0x1b:  // OP-IMM-32; the *W shifts reserve shamt[5] (imm[5] != 0 is reserved, "RV64I")
            switch f3 {
            case 0: return i(.addiw, b)
            case 1: return funct7(b) == 0 ? shift(.slliw, b, 31) : .illegal(b, length: 4)
            case 5:
                switch funct7(b) {
                case 0x00: return shift(.srliw, b, 31)
                case 0x20: return shift(.sraiw, b, 31)
                default: return .illegal(b, length: 4)
                }
            default: return .illegal(b, length: 4)
            }
        case 0x23:  // STORE
            switch f3 {
            case 0: return s(.sb, b)
            case 1: return s(.sh, b)
            case 2: return s(.sw, b)
            case 3: return s(.sd, b)
            default: return .illegal(b, length: 4)
            }
        case 0x27:  // STORE-FP
            switch f3 {
            case 2: return s(.fsw, b)
            case 3: return s(.fsd, b)
            default: return .illegal(b, length: 4)
            }
        case 0x2f:
            return decodeAMO(b)
        case 0x33:  // OP
            switch funct7(b) {
            case 0x00:
                switch f3 {
                case 0: return r(.add, b)
                case 1: return r(.sll, b)
                case 2: return r(.slt, b)
                case 3: return r(.sltu, b)
                case 4: return r(.xor, b)
                case 5: return r(.srl, b)
                case 6: return r(.or, b)
                default: return r(.and, b)
                }
            case 0x20:
                switch f3 {
                case 0: return r(.sub, b)
                case 5: return r(.sra, b)
                default: return .illegal(b, length: 4)
                }
            case 0x01:
                switch f3 {
                case 0: return r(.mul, b)
                case 1: return r(.mulh, b)
                case 2: return r(.mulhsu, b)
                case 3: return r(.mulhu, b)
                case 4: return r(.div, b)
                case 5: return r(.divu, b)
                case 6: return r(.rem, b)
                default: return r(.remu, b)
                }
            default: return .illegal(b, length: 4)
            }
        case 0x37:
            return Instruction(opcode: .lui, rd: rd(b), imm: immU(b), raw: b)
        case 0x3b:  // OP-32
            switch (funct7(b), f3) {
            case (0x00, 0): return r(.addw, b)
            case (0x00, 1): return r(.sllw, b)
            case (0x00, 5): return r(.srlw, b)
            case (0x20, 0): return r(.subw, b)
            case (0x20, 5): return r(.sraw, b)
            case (0x01, 0): return r(.mulw, b)
            case (0x01, 4): return r(.divw, b)
            case (0x01, 5): return r(.divuw, b)
            case (0x01, 6): return r(.remw, b)
            case (0x01, 7): return r(.remuw, b)
            default: return .illegal(b, length: 4)
            }
        case 0x43, 0x47, 0x4b, 0x4f:  // MADD, MSUB, NMSUB, NMADD; fmt in bits 26:25
            let double = (b >> 25) & 3
            guard double <= 1, validRM(b) else { return .illegal(b, length: 4) }
            let op: Opcode
            switch (b >> 2) & 3 {
            case 0: op = double == 0 ? .fmadd_s : .fmadd_d
            case 1: op = double == 0 ? .fmsub_s : .fmsub_d
            case 2: op = double == 0 ? .fnmsub_s : .fnmsub_d
            default: op = double == 0 ? .fnmadd_s : .fnmadd_d
            }
            return Instruction(opcode: op, rd: rd(b), rs1: rs1(b), rs2: rs2(b), rs3: rs3(b),
                               rm: UInt8(truncatingIfNeeded: f3), raw: b)
        case 0x53:
            return decodeOPFP(b)
        case 0x63:  // BRANCH
            let op: Opcode
            switch f3 {
            case 0: op = .beq
            case 1: op = .bne
            case 4: op = .blt
            case 5: op = .bge
            case 6: op = .bltu
            case 7: op = .bgeu
            default: return .illegal(b, length: 4)
            }
            return Instruction(opcode: op, rs1: rs1(b), rs2: rs2(b), imm: immB(b), raw: b)
        case 0x67:
            return f3 == 0 ? i(.jalr, b) : .illegal(b, length: 4)
        case 0x6f:
            return Instruction(opcode: .jal, rd: rd(b), imm: immJ(b), raw: b)
        case 0x73:
            return decodeSystem(b)
        default:
            return .illegal(b, length: 4)
        }
    }

    /// The A extension: funct5 selects the operation, funct3 the width, aq/rl go to `rm`.
    @inlinable
    static func decodeAMO(_ b: UInt32) -> Instruction {
        let f3 = funct3(b)
        guard f3 == 2 || f3 == 3 else { return .illegal(b, length: 4) }
        let word = f3 == 2
        let op: Opcode
        switch b >> 27 {
        case 0x02:
            // LR has no source register; rs2 != 0 is reserved.
            guard rs2(b) == 0 else { return .illegal(b, length: 4) }
            op = word ? .lr_w : .lr_d
        case 0x03: op = word ? .sc_w : .sc_d
        case 0x01: op = word ? .amoswap_w : .amoswap_d
        case 0x00: op = word ? .amoadd_w : .amoadd_d
        case 0x04: op = word ? .amoxor_w : .amoxor_d
        case 0x0c: op = word ? .amoand_w : .amoand_d
        case 0x08: op = word ? .amoor_w : .amoor_d
        case 0x10: op = word ? .amomin_w : .amomin_d
        case 0x14: op = word ? .amomax_w : .amomax_d
        case 0x18: op = word ? .amominu_w : .amominu_d
        case 0x1c: op = word ? .amomaxu_w : .amomaxu_d
        default: return .illegal(b, length: 4)
        }
        return Instruction(opcode: op, rd: rd(b), rs1: rs1(b), rs2: rs2(b),
                           rm: UInt8(truncatingIfNeeded: (b >> 25) & 3), raw: b)
    }

    /// OP-FP: funct7 holds the operation in bits 31:27 and the format (S = 0, D = 1) in bits 26:25;
    /// rs2 and funct3 select among conversions, moves and comparisons.
    @inlinable
    static func decodeOPFP(_ b: UInt32) -> Instruction {
        let f3 = funct3(b)
        let src2 = rs2(b)
        let illegal = Instruction.illegal(b, length: 4)
        switch funct7(b) {
        case 0x00: return rRM(.fadd_s, b)
        case 0x01: return rRM(.fadd_d, b)
        case 0x04: return rRM(.fsub_s, b)
        case 0x05: return rRM(.fsub_d, b)
        case 0x08: return rRM(.fmul_s, b)
        case 0x09: return rRM(.fmul_d, b)
        case 0x0c: return rRM(.fdiv_s, b)
        case 0x0d: return rRM(.fdiv_d, b)
        case 0x2c: return src2 == 0 ? r1RM(.fsqrt_s, b) : illegal
        case 0x2d: return src2 == 0 ? r1RM(.fsqrt_d, b) : illegal
        case 0x10, 0x11:
            let d = funct7(b) == 0x11
            switch f3 {
            case 0: return r(d ? .fsgnj_d : .fsgnj_s, b)
            case 1: return r(d ? .fsgnjn_d : .fsgnjn_s, b)
            case 2: return r(d ? .fsgnjx_d : .fsgnjx_s, b)
            default: return illegal
            }
        case 0x14, 0x15:
            let d = funct7(b) == 0x15
            switch f3 {
            case 0: return r(d ? .fmin_d : .fmin_s, b)
            case 1: return r(d ? .fmax_d : .fmax_s, b)
            default: return illegal
            }
        case 0x20: return src2 == 1 ? r1RM(.fcvt_s_d, b) : illegal
        case 0x21: return src2 == 0 ? r1RM(.fcvt_d_s, b) : illegal
        case 0x50, 0x51:
            let d = funct7(b) == 0x51
            switch f3 {
            case 0: return r(d ? .fle_d : .fle_s, b)
            case 1: return r(d ? .flt_d : .flt_s, b)
            case 2: return r(d ? .feq_d : .feq_s, b)
            default: return illegal
            }
        case 0x60, 0x61:  // float → integer
            let d = funct7(b) == 0x61
            switch src2 {
            case 0: return r1RM(d ? .fcvt_w_d : .fcvt_w_s, b)
            case 1: return r1RM(d ? .fcvt_wu_d : .fcvt_wu_s, b)
            case 2: return r1RM(d ? .fcvt_l_d : .fcvt_l_s, b)
            case 3: return r1RM(d ? .fcvt_lu_d : .fcvt_lu_s, b)
            default: return illegal
            }
        case 0x68, 0x69:  // integer → float
            let d = funct7(b) == 0x69
            switch src2 {
            case 0: return r1RM(d ? .fcvt_d_w : .fcvt_s_w, b)
            case 1: return r1RM(d ? .fcvt_d_wu : .fcvt_s_wu, b)
            case 2: return r1RM(d ? .fcvt_d_l : .fcvt_s_l, b)
            case 3: return r1RM(d ? .fcvt_d_lu : .fcvt_s_lu, b)
            default: return illegal
            }
        case 0x70, 0x71:
            guard src2 == 0 else { return illegal }
            let d = funct7(b) == 0x71
            switch f3 {
            case 0: return r1(d ? .fmv_x_d : .fmv_x_w, b)
            case 1: return r1(d ? .fclass_d : .fclass_s, b)
            default: return illegal
            }
        case 0x78, 0x79:
            guard src2 == 0, f3 == 0 else { return illegal }
            return r1(funct7(b) == 0x79 ? .fmv_d_x : .fmv_w_x, b)
        default:
            return illegal
        }
    }

    /// SYSTEM: the privileged instructions are exact words apart from the register operands of the
    /// fences; funct3 = 4 holds the hypervisor loads and stores; the rest is Zicsr.
    @inlinable
    static func decodeSystem(_ b: UInt32) -> Instruction {
        let illegal = Instruction.illegal(b, length: 4)
        switch funct3(b) {
        case 0:
            guard rd(b) == 0 else { return illegal }
            let noSources = rs1(b) == 0
            switch (funct7(b), rs2(b)) {
            case (0x00, 0): return noSources ? Instruction(opcode: .ecall, raw: b) : illegal
            case (0x00, 1): return noSources ? Instruction(opcode: .ebreak, raw: b) : illegal
            case (0x08, 2): return noSources ? Instruction(opcode: .sret, raw: b) : illegal
            case (0x08, 5): return noSources ? Instruction(opcode: .wfi, raw: b) : illegal
            case (0x18, 2): return noSources ? Instruction(opcode: .mret, raw: b) : illegal
            case (0x09, _): return r(.sfence_vma, b)
            case (0x11, _): return r(.hfence_vvma, b)
            case (0x31, _): return r(.hfence_gvma, b)
            default: return illegal
            }
        case 4:
            let src2 = rs2(b)
            switch funct7(b) {
            case 0x30:
                switch src2 {
                case 0: return r1(.hlv_b, b)
                case 1: return r1(.hlv_bu, b)
                default: return illegal
                }
            case 0x32:
                switch src2 {
                case 0: return r1(.hlv_h, b)
                case 1: return r1(.hlv_hu, b)
                case 3: return r1(.hlvx_hu, b)
                default: return illegal
                }
            case 0x34:
                switch src2 {
                case 0: return r1(.hlv_w, b)
                case 1: return r1(.hlv_wu, b)
                case 3: return r1(.hlvx_wu, b)
                default: return illegal
                }
            case 0x36:
                return src2 == 0 ? r1(.hlv_d, b) : illegal
            case 0x31, 0x33, 0x35, 0x37:
                guard rd(b) == 0 else { return illegal }
                switch funct7(b) {
                case 0x31: return r(.hsv_b, b)
                case 0x33: return r(.hsv_h, b)
                case 0x35: return r(.hsv_w, b)
                default: return r(.hsv_d, b)
                }
            default: return illegal
            }
        default:
            // Zicsr: the CSR number goes to imm (unsigned); for the immediate forms rs1 is the zimm.
            let op: Opcode
            switch funct3(b) {
            case 1: op = .csrrw
            case 2: op = .csrrs
            case 3: op = .csrrc
            case 5: op = .csrrwi
            case 6: op = .csrrsi
            default: op = .csrrci
            }
            return Instruction(opcode: op, rd: rd(b), rs1: rs1(b), imm: Int32(bitPattern: b >> 20), raw: b)
        }
    }
}
