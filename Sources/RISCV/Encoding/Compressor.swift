// Instruction → 16-bit encoding, when the C extension has a form with exactly the same effect
// (unprivileged spec, "RVC Instruction Set Listings", RV64C). Used by the assembler under
// `.option rvc`. Reserved and HINT encodings are never produced, so decoding the result gives the
// same instruction back (modulo the canonical expansion: c.mv decodes as `add rd, x0, rs2`).

public enum Compressor {
    @inline(__always) static func isPrime(_ r: UInt8) -> Bool { r >= 8 && r <= 15 }
    @inline(__always) static func p(_ r: UInt8) -> UInt16 { UInt16(r - 8) }
    @inline(__always) static func fits(_ v: Int32, bits: Int32) -> Bool {
        v >= -(1 << (bits - 1)) && v < (1 << (bits - 1))
    }
    @inline(__always) static func u(_ v: Int32) -> UInt16 { UInt16(truncatingIfNeeded: v) }
    /// Bit `from` (count bits) of v moved to position `to`.
    @inline(__always) static func b(_ v: Int32, _ from: Int32, _ count: Int32, to: Int32) -> UInt16 {
        UInt16(truncatingIfNeeded: ((v >> from) & ((1 << count) - 1)) << to)
    }
    /// CI-format 6-bit immediate: imm[5] at bit 12, imm[4:0] at bits 6:2.
    @inline(__always) static func ci(_ v: Int32) -> UInt16 { b(v, 5, 1, to: 12) | b(v, 0, 5, to: 2) }
    @inline(__always) static func reg(_ r: UInt8, at s: UInt16) -> UInt16 { UInt16(r) << s }

    /// The compressed encoding of `inst`, or nil if there is none.
    public static func compress(_ inst: Instruction) -> UInt16? {
        let rd = inst.rd, rs1 = inst.rs1, rs2 = inst.rs2, imm = inst.imm
        switch inst.opcode {
        case .addi:
            if rd == 0 && rs1 == 0 && imm == 0 { return 0x0001 }  // c.nop
            if rd == rs1 && rd != 0 && imm != 0 && fits(imm, bits: 6) {  // c.addi
                return 0x0001 | reg(rd, at: 7) | ci(imm)
            }
            if rd == 2 && rs1 == 2 && imm != 0 && imm & 15 == 0 && fits(imm, bits: 10) {  // c.addi16sp
                return 0x6101 | b(imm, 9, 1, to: 12) | b(imm, 4, 1, to: 6) | b(imm, 6, 1, to: 5)
                    | b(imm, 7, 2, to: 3) | b(imm, 5, 1, to: 2)
            }
            if rs1 == 2 && isPrime(rd) && imm > 0 && imm < 1024 && imm & 3 == 0 {  // c.addi4spn
                return 0x0000 | p(rd) << 2 | b(imm, 4, 2, to: 11) | b(imm, 6, 4, to: 7) | b(imm, 2, 1, to: 6) | b(imm, 3, 1, to: 5)
            }
            if rs1 == 0 && rd != 0 && fits(imm, bits: 6) {  // c.li
                return 0x4001 | reg(rd, at: 7) | ci(imm)
            }
            if imm == 0 && rd != 0 && rs1 != 0 {  // c.mv (mv is addi rd, rs, 0)
                return 0x8002 | reg(rd, at: 7) | reg(rs1, at: 2)
            }
            return nil
        case .addiw:
            guard rd == rs1, rd != 0, fits(imm, bits: 6) else { return nil }
            return 0x2001 | reg(rd, at: 7) | ci(imm)
        case .lui:
            let v = imm >> 12
            guard rd != 0, rd != 2, v != 0, fits(v, bits: 6) else { return nil }
            return 0x6001 | reg(rd, at: 7) | ci(v)
        case .slli:
            guard rd == rs1, rd != 0, imm != 0 else { return nil }
            return 0x0002 | reg(rd, at: 7) | ci(imm)
        case .srli, .srai:
            guard rd == rs1, isPrime(rd), imm != 0 else { return nil }
            return (inst.opcode == .srli ? 0x8001 : 0x8401) | p(rd) << 7 | ci(imm)
        case .andi:
            guard rd == rs1, isPrime(rd), fits(imm, bits: 6) else { return nil }
            return 0x8801 | p(rd) << 7 | ci(imm)
        case .sub, .xor, .or, .and, .subw, .addw:
            let commutative = inst.opcode != .sub && inst.opcode != .subw
            var other = rs2
            if !(rd == rs1) {
                guard commutative, rd == rs2 else { return nil }
                other = rs1
            }
            guard isPrime(rd), isPrime(other) else { return nil }
            let bits: UInt16
            switch inst.opcode {
            case .sub: bits = 0x8c01
            case .xor: bits = 0x8c21
            case .or: bits = 0x8c41
            case .and: bits = 0x8c61
            case .subw: bits = 0x9c01
            default: bits = 0x9c21
            }
            return bits | p(rd) << 7 | p(other) << 2
        case .add:
            if rd == 0 { return nil }
            if rs1 == 0 && rs2 != 0 { return 0x8002 | reg(rd, at: 7) | reg(rs2, at: 2) }  // c.mv
            if rs2 == 0 && rs1 != 0 { return 0x8002 | reg(rd, at: 7) | reg(rs1, at: 2) }  // mv written as add rd, rs, x0
            if rd == rs1 && rs2 != 0 { return 0x9002 | reg(rd, at: 7) | reg(rs2, at: 2) }  // c.add
            if rd == rs2 && rs1 != 0 { return 0x9002 | reg(rd, at: 7) | reg(rs1, at: 2) }
            return nil
        case .jal:
            guard rd == 0, imm & 1 == 0, fits(imm, bits: 12) else { return nil }
            return 0xa001 | b(imm, 11, 1, to: 12) | b(imm, 4, 1, to: 11) | b(imm, 8, 2, to: 9) | b(imm, 10, 1, to: 8)
                | b(imm, 6, 1, to: 7) | b(imm, 7, 1, to: 6) | b(imm, 1, 3, to: 3) | b(imm, 5, 1, to: 2)
        case .jalr:
            guard imm == 0, rs1 != 0, rd <= 1 else { return nil }
            return (rd == 0 ? 0x8002 : 0x9002) | reg(rs1, at: 7)
        case .beq, .bne:
            // Equality is symmetric: `beq x0, rs` compresses like `beq rs, x0`.
            let r = rs2 == 0 ? rs1 : rs1 == 0 ? rs2 : 0
            guard isPrime(r), imm & 1 == 0, fits(imm, bits: 9) else { return nil }
            return (inst.opcode == .beq ? 0xc001 : 0xe001) | p(r) << 7 | b(imm, 8, 1, to: 12) | b(imm, 3, 2, to: 10)
                | b(imm, 6, 2, to: 5) | b(imm, 1, 2, to: 3) | b(imm, 5, 1, to: 2)
        case .ebreak:
            return 0x9002
        case .lw, .ld, .fld:
            let word = inst.opcode == .lw
            let align: Int32 = word ? 3 : 7
            guard imm >= 0, imm & align == 0 else { return nil }
            if rs1 == 2 {  // c.lwsp / c.ldsp / c.fldsp
                if inst.opcode != .fld && rd == 0 { return nil }
                if word {
                    guard imm < 256 else { return nil }
                    return 0x4002 | reg(rd, at: 7) | b(imm, 5, 1, to: 12) | b(imm, 2, 3, to: 4) | b(imm, 6, 2, to: 2)
                }
                guard imm < 512 else { return nil }
                return (inst.opcode == .ld ? 0x6002 : 0x2002) | reg(rd, at: 7) | b(imm, 5, 1, to: 12)
                    | b(imm, 3, 2, to: 5) | b(imm, 6, 3, to: 2)
            }
            guard isPrime(rd), isPrime(rs1) else { return nil }
            if word {
                guard imm < 128 else { return nil }
                return 0x4000 | p(rs1) << 7 | p(rd) << 2 | b(imm, 3, 3, to: 10) | b(imm, 2, 1, to: 6) | b(imm, 6, 1, to: 5)
            }
            guard imm < 256 else { return nil }
            return (inst.opcode == .ld ? 0x6000 : 0x2000) | p(rs1) << 7 | p(rd) << 2 | b(imm, 3, 3, to: 10) | b(imm, 6, 2, to: 5)
        case .sw, .sd, .fsd:
            let word = inst.opcode == .sw
            let align: Int32 = word ? 3 : 7
            guard imm >= 0, imm & align == 0 else { return nil }
            if rs1 == 2 {  // c.swsp / c.sdsp / c.fsdsp
                if word {
                    guard imm < 256 else { return nil }
                    return 0xc002 | reg(rs2, at: 2) | b(imm, 2, 4, to: 9) | b(imm, 6, 2, to: 7)
                }
                guard imm < 512 else { return nil }
                return (inst.opcode == .sd ? 0xe002 : 0xa002) | reg(rs2, at: 2) | b(imm, 3, 3, to: 10) | b(imm, 6, 3, to: 7)
            }
            guard isPrime(rs2), isPrime(rs1) else { return nil }
            if word {
                guard imm < 128 else { return nil }
                return 0xc000 | p(rs1) << 7 | p(rs2) << 2 | b(imm, 3, 3, to: 10) | b(imm, 2, 1, to: 6) | b(imm, 6, 1, to: 5)
            }
            guard imm < 256 else { return nil }
            return (inst.opcode == .sd ? 0xe000 : 0xa000) | p(rs1) << 7 | p(rs2) << 2 | b(imm, 3, 3, to: 10) | b(imm, 6, 2, to: 5)
        default:
            return nil
        }
    }
}
