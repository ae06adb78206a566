// The C extension (unprivileged spec, "\"C\" Extension for Compressed Instructions", RV64C column of
// the "RVC Instruction Set Listings"). Each 16-bit form expands to the base instruction it stands
// for, with `length = 2`. Encodings the listing marks *RES* (reserved) or *NSE*, and the all-zero
// halfword, decode to `.illegal`; encodings it marks *HINT* are legal and expand to their base form
// (for example `c.nop 3` is `addi x0, x0, 3`).

extension Decoder {
    /// Registers x8–x15, the three-bit register fields rs1′/rs2′/rd′ of CIW, CL, CS, CA and CB formats.
    @inlinable static func cPrime(_ h: UInt32, _ shift: UInt32) -> UInt8 {
        UInt8(truncatingIfNeeded: ((h >> shift) & 7) + 8)
    }
    @inlinable static func cFull(_ h: UInt32, _ shift: UInt32) -> UInt8 {
        UInt8(truncatingIfNeeded: (h >> shift) & 31)
    }
    /// Bits `from`...(from+count-1) of `h`, placed at bit `to` of the result.
    @inlinable static func bits(_ h: UInt32, _ from: UInt32, _ count: UInt32, to: UInt32) -> UInt32 {
        ((h >> from) & ((1 << count) - 1)) << to
    }
    /// Sign-extends the low `width` bits of `v`.
    @inlinable static func signExtend(_ v: UInt32, _ width: UInt32) -> Int32 {
        Int32(bitPattern: v << (32 - width)) >> (32 - width)
    }
    /// The 6-bit signed immediate of CI-format arithmetic (imm[5] at bit 12, imm[4:0] at bits 6:2).
    @inlinable static func ciImm(_ h: UInt32) -> Int32 {
        signExtend(bits(h, 12, 1, to: 5) | bits(h, 2, 5, to: 0), 6)
    }
    /// The 6-bit unsigned shift amount of c.slli/c.srli/c.srai (RV64C allows shamt[5] = 1).
    @inlinable static func ciShamt(_ h: UInt32) -> Int32 {
        Int32(bitPattern: bits(h, 12, 1, to: 5) | bits(h, 2, 5, to: 0))
    }

    @inlinable
    static func c(_ op: Opcode, rd: UInt8 = 0, rs1: UInt8 = 0, rs2: UInt8 = 0, imm: Int32 = 0,
                  _ h: UInt32) -> Instruction {
        Instruction(opcode: op, rd: rd, rs1: rs1, rs2: rs2, length: 2, imm: imm, raw: h)
    }

    @inlinable
    public static func decodeCompressed(_ half: UInt16) -> Instruction {
        let h = UInt32(half)
        let illegal = Instruction.illegal(h, length: 2)
        let f3 = (h >> 13) & 7
        switch h & 3 {
        case 0:  // Quadrant 0: stack-pointer-based addi and the CL/CS loads and stores
            // offset[5:3] at bits 12:10 for all; doubleword forms add [7:6] at 6:5, word forms [2] at 6 and [6] at 5.
            // (Computed per case: the decoder fills the interpreter's cache, so unused work is waste.)
            var dOff: Int32 { Int32(bitPattern: bits(h, 10, 3, to: 3) | bits(h, 5, 2, to: 6)) }
            var wOff: Int32 { Int32(bitPattern: bits(h, 10, 3, to: 3) | bits(h, 6, 1, to: 2) | bits(h, 5, 1, to: 6)) }
            let base = cPrime(h, 7), low = cPrime(h, 2)
            switch f3 {
            case 0:  // c.addi4spn: nzuimm[5:4|9:6|2|3]; nzuimm = 0 is reserved (this covers the all-zero word)
                let nzuimm = bits(h, 11, 2, to: 4) | bits(h, 7, 4, to: 6) | bits(h, 6, 1, to: 2) | bits(h, 5, 1, to: 3)
                guard nzuimm != 0 else { return illegal }
                return c(.addi, rd: low, rs1: 2, imm: Int32(bitPattern: nzuimm), h)
            case 1: return c(.fld, rd: low, rs1: base, imm: dOff, h)
            case 2: return c(.lw, rd: low, rs1: base, imm: wOff, h)
            case 3: return c(.ld, rd: low, rs1: base, imm: dOff, h)
            case 5: return c(.fsd, rs1: base, rs2: low, imm: dOff, h)
            case 6: return c(.sw, rs1: base, rs2: low, imm: wOff, h)
            case 7: return c(.sd, rs1: base, rs2: low, imm: dOff, h)
            default: return illegal  // funct3 = 100 is reserved
            }
        case 1:  // Quadrant 1: immediates, arithmetic, jumps and branches
            let rd = cFull(h, 7)
            switch f3 {
            case 0: return c(.addi, rd: rd, rs1: rd, imm: ciImm(h), h)  // c.nop / c.addi; HINTs when rd = 0 or imm = 0
            case 1:
                guard rd != 0 else { return illegal }  // c.addiw with rd = 0 is reserved
                return c(.addiw, rd: rd, rs1: rd, imm: ciImm(h), h)
            case 2: return c(.addi, rd: rd, rs1: 0, imm: ciImm(h), h)  // c.li
            case 3:
                if rd == 2 {  // c.addi16sp: nzimm[9] at 12, [4|6|8:7|5] at 6:2; zero is reserved
                    let v = bits(h, 12, 1, to: 9) | bits(h, 6, 1, to: 4) | bits(h, 5, 1, to: 6)
                        | bits(h, 3, 2, to: 7) | bits(h, 2, 1, to: 5)
                    guard v != 0 else { return illegal }
                    return c(.addi, rd: 2, rs1: 2, imm: signExtend(v, 10), h)
                }
                // c.lui: nzimm[17] at 12, [16:12] at 6:2; zero is reserved, rd = 0 is a HINT
                let v = ciImm(h)
                guard v != 0 else { return illegal }
                return c(.lui, rd: rd, imm: v << 12, h)
            case 4:
                let r = cPrime(h, 7), r2 = cPrime(h, 2)
                switch (h >> 10) & 3 {
                case 0: return c(.srli, rd: r, rs1: r, imm: ciShamt(h), h)
                case 1: return c(.srai, rd: r, rs1: r, imm: ciShamt(h), h)
                case 2: return c(.andi, rd: r, rs1: r, imm: ciImm(h), h)
                default:
                    let op: Opcode
                    switch (bits(h, 12, 1, to: 2) | bits(h, 5, 2, to: 0)) {
                    case 0: op = .sub
                    case 1: op = .xor
                    case 2: op = .or
                    case 3: op = .and
                    case 4: op = .subw
                    case 5: op = .addw
                    default: return illegal  // reserved (Zcb and future use)
                    }
                    return c(op, rd: r, rs1: r, rs2: r2, h)
                }
            case 5:  // c.j: offset[11|4|9:8|10|6|7|3:1|5]
                let v = bits(h, 12, 1, to: 11) | bits(h, 11, 1, to: 4) | bits(h, 9, 2, to: 8) | bits(h, 8, 1, to: 10)
                    | bits(h, 7, 1, to: 6) | bits(h, 6, 1, to: 7) | bits(h, 3, 3, to: 1) | bits(h, 2, 1, to: 5)
                return c(.jal, rd: 0, imm: signExtend(v, 12), h)
            default:  // c.beqz / c.bnez: offset[8|4:3] at 12:10, [7:6|2:1|5] at 6:2
                let v = bits(h, 12, 1, to: 8) | bits(h, 10, 2, to: 3) | bits(h, 5, 2, to: 6)
                    | bits(h, 3, 2, to: 1) | bits(h, 2, 1, to: 5)
                return c(f3 == 6 ? .beq : .bne, rs1: cPrime(h, 7), rs2: 0, imm: signExtend(v, 9), h)
            }
        case 2:  // Quadrant 2: stack-pointer loads/stores, register moves, jumps through registers
            let rd = cFull(h, 7), rs2 = cFull(h, 2)
            var dLoad: Int32 { Int32(bitPattern: bits(h, 12, 1, to: 5) | bits(h, 5, 2, to: 3) | bits(h, 2, 3, to: 6)) }
            var dStore: Int32 { Int32(bitPattern: bits(h, 10, 3, to: 3) | bits(h, 7, 3, to: 6)) }
            switch f3 {
            case 0: return c(.slli, rd: rd, rs1: rd, imm: ciShamt(h), h)  // rd = 0 or shamt = 0: HINT
            case 1: return c(.fld, rd: rd, rs1: 2, imm: dLoad, h)
            case 2:
                guard rd != 0 else { return illegal }  // c.lwsp with rd = 0 is reserved
                let off = bits(h, 12, 1, to: 5) | bits(h, 4, 3, to: 2) | bits(h, 2, 2, to: 6)
                return c(.lw, rd: rd, rs1: 2, imm: Int32(bitPattern: off), h)
            case 3:
                guard rd != 0 else { return illegal }  // c.ldsp with rd = 0 is reserved
                return c(.ld, rd: rd, rs1: 2, imm: dLoad, h)
            case 4:
                if h & 0x1000 == 0 {
                    if rs2 == 0 {  // c.jr; rs1 = 0 is reserved
                        return rd == 0 ? illegal : c(.jalr, rd: 0, rs1: rd, h)
                    }
                    return c(.add, rd: rd, rs1: 0, rs2: rs2, h)  // c.mv (rd = 0: HINT)
                }
                if rs2 == 0 {
                    if rd == 0 { return c(.ebreak, h) }
                    return c(.jalr, rd: 1, rs1: rd, h)  // c.jalr
                }
                return c(.add, rd: rd, rs1: rd, rs2: rs2, h)  // c.add (rd = 0: HINT)
            case 5: return c(.fsd, rs1: 2, rs2: rs2, imm: dStore, h)
            case 6:
                let off = bits(h, 9, 4, to: 2) | bits(h, 7, 2, to: 6)
                return c(.sw, rs1: 2, rs2: rs2, imm: Int32(bitPattern: off), h)
            default: return c(.sd, rs1: 2, rs2: rs2, imm: dStore, h)
            }
        default:
            return illegal  // not reached: bits 1:0 = 11 is a 32-bit instruction
        }
    }
}
