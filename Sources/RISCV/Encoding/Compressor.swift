// The C extension's forms (unprivileged spec, "RVC Instruction Set Listings", RV64C): for each
// form, which expanded instructions it can hold and how their fields pack into 16 bits. The
// assembler compresses through `Compressor.compress` under `.option rvc` and encodes explicit
// `c.*` mnemonics through `CompressedForm.encode`; the disassembler names compressed encodings
// with `CompressedForm.of`.
//
// HINT and reserved encodings are never produced, so decoding the result gives the same
// instruction back (modulo the canonical expansion: c.mv decodes as `add rd, x0, rs2`).

/// One compressed instruction form, named by its mnemonic.
public enum CompressedForm: String, CaseIterable, Sendable {
    case addi4spn = "c.addi4spn", fld = "c.fld", lw = "c.lw", ld = "c.ld", fsd = "c.fsd", sw = "c.sw", sd = "c.sd"
    case nop = "c.nop", addi = "c.addi", addiw = "c.addiw", li = "c.li", addi16sp = "c.addi16sp", lui = "c.lui"
    case srli = "c.srli", srai = "c.srai", andi = "c.andi"
    case sub = "c.sub", xor = "c.xor", or = "c.or", and = "c.and", subw = "c.subw", addw = "c.addw"
    case j = "c.j", beqz = "c.beqz", bnez = "c.bnez"
    case slli = "c.slli", fldsp = "c.fldsp", lwsp = "c.lwsp", ldsp = "c.ldsp"
    case jr = "c.jr", mv = "c.mv", ebreak = "c.ebreak", jalr = "c.jalr", add = "c.add"
    case fsdsp = "c.fsdsp", swsp = "c.swsp", sdsp = "c.sdsp"

    public var name: String { rawValue }

    @inline(__always) static func isPrime(_ r: UInt8) -> Bool { r >= 8 && r <= 15 }
    @inline(__always) static func p(_ r: UInt8) -> UInt16 { UInt16(r - 8) }
    @inline(__always) static func fits(_ v: Int32, bits: Int32) -> Bool {
        v >= -(1 << (bits - 1)) && v < (1 << (bits - 1))
    }
    /// Bit `from` (count bits) of v moved to position `to`.
    @inline(__always) static func b(_ v: Int32, _ from: Int32, _ count: Int32, to: Int32) -> UInt16 {
        UInt16(truncatingIfNeeded: ((v >> from) & ((1 << count) - 1)) << to)
    }
    /// CI-format 6-bit immediate: imm[5] at bit 12, imm[4:0] at bits 6:2.
    @inline(__always) static func ci(_ v: Int32) -> UInt16 { b(v, 5, 1, to: 12) | b(v, 0, 5, to: 2) }
    @inline(__always) static func reg(_ r: UInt8, at s: UInt16) -> UInt16 { UInt16(r & 31) << s }
    @inline(__always) static func aligned(_ v: Int32, _ a: Int32, below limit: Int32) -> Bool {
        v >= 0 && v < limit && v & (a - 1) == 0
    }

    /// The 16-bit encoding of `inst` in this form, or nil if `inst` is not expressible in it.
    public func encode(_ inst: Instruction) -> UInt16? {
        typealias F = CompressedForm
        let rd = inst.rd, rs1 = inst.rs1, rs2 = inst.rs2, imm = inst.imm
        let op = inst.opcode
        switch self {
        case .nop:
            return op == .addi && rd == 0 && rs1 == 0 && imm == 0 ? 0x0001 : nil
        case .addi:
            guard op == .addi, rd == rs1, rd != 0, imm != 0, F.fits(imm, bits: 6) else { return nil }
            return 0x0001 | F.reg(rd, at: 7) | F.ci(imm)
        case .addi16sp:
            guard op == .addi, rd == 2, rs1 == 2, imm != 0, imm & 15 == 0, F.fits(imm, bits: 10) else { return nil }
            return 0x6101 | F.b(imm, 9, 1, to: 12) | F.b(imm, 4, 1, to: 6) | F.b(imm, 6, 1, to: 5)
                | F.b(imm, 7, 2, to: 3) | F.b(imm, 5, 1, to: 2)
        case .addi4spn:
            guard op == .addi, rs1 == 2, F.isPrime(rd), imm > 0, F.aligned(imm, 4, below: 1024) else { return nil }
            return F.p(rd) << 2 | F.b(imm, 4, 2, to: 11) | F.b(imm, 6, 4, to: 7) | F.b(imm, 2, 1, to: 6) | F.b(imm, 3, 1, to: 5)
        case .li:
            guard op == .addi, rs1 == 0, rd != 0, F.fits(imm, bits: 6) else { return nil }
            return 0x4001 | F.reg(rd, at: 7) | F.ci(imm)
        case .mv:
            // mv is written `addi rd, rs, 0`, `add rd, x0, rs` (the decoded form) or `add rd, rs, x0`.
            let source: UInt8
            if op == .addi && imm == 0 { source = rs1 }
            else if op == .add && rs1 == 0 { source = rs2 }
            else if op == .add && rs2 == 0 { source = rs1 }
            else { return nil }
            guard rd != 0, source != 0 else { return nil }
            return 0x8002 | F.reg(rd, at: 7) | F.reg(source, at: 2)
        case .add:
            guard op == .add, rd != 0, rs1 != 0, rs2 != 0 else { return nil }
            if rd == rs1 { return 0x9002 | F.reg(rd, at: 7) | F.reg(rs2, at: 2) }
            if rd == rs2 { return 0x9002 | F.reg(rd, at: 7) | F.reg(rs1, at: 2) }
            return nil
        case .addiw:
            guard op == .addiw, rd == rs1, rd != 0, F.fits(imm, bits: 6) else { return nil }
            return 0x2001 | F.reg(rd, at: 7) | F.ci(imm)
        case .lui:
            let v = imm >> 12
            guard op == .lui, rd != 0, rd != 2, v != 0, F.fits(v, bits: 6) else { return nil }
            return 0x6001 | F.reg(rd, at: 7) | F.ci(v)
        case .slli:
            guard op == .slli, rd == rs1, rd != 0, imm != 0 else { return nil }
            return 0x0002 | F.reg(rd, at: 7) | F.ci(imm)
        case .srli, .srai:
            guard op == (self == .srli ? .srli : .srai), rd == rs1, F.isPrime(rd), imm != 0 else { return nil }
            return (self == .srli ? 0x8001 : 0x8401) | F.p(rd) << 7 | F.ci(imm)
        case .andi:
            guard op == .andi, rd == rs1, F.isPrime(rd), F.fits(imm, bits: 6) else { return nil }
            return 0x8801 | F.p(rd) << 7 | F.ci(imm)
        case .sub, .xor, .or, .and, .subw, .addw:
            let (expected, bits): (Opcode, UInt16) = switch self {
            case .sub: (.sub, 0x8c01)
            case .xor: (.xor, 0x8c21)
            case .or: (.or, 0x8c41)
            case .and: (.and, 0x8c61)
            case .subw: (.subw, 0x9c01)
            default: (.addw, 0x9c21)
            }
            guard op == expected else { return nil }
            var other = rs2
            if rd != rs1 {
                // The commutative operations also take `rd = rs2 op rd`.
                guard self != .sub, self != .subw, rd == rs2 else { return nil }
                other = rs1
            }
            guard F.isPrime(rd), F.isPrime(other) else { return nil }
            return bits | F.p(rd) << 7 | F.p(other) << 2
        case .j:
            guard op == .jal, rd == 0, imm & 1 == 0, F.fits(imm, bits: 12) else { return nil }
            return 0xa001 | F.b(imm, 11, 1, to: 12) | F.b(imm, 4, 1, to: 11) | F.b(imm, 8, 2, to: 9) | F.b(imm, 10, 1, to: 8)
                | F.b(imm, 6, 1, to: 7) | F.b(imm, 7, 1, to: 6) | F.b(imm, 1, 3, to: 3) | F.b(imm, 5, 1, to: 2)
        case .jr, .jalr:
            guard op == .jalr, imm == 0, rs1 != 0, rd == (self == .jr ? 0 : 1) else { return nil }
            return (self == .jr ? 0x8002 : 0x9002) | F.reg(rs1, at: 7)
        case .beqz, .bnez:
            // Equality is symmetric: `beq x0, rs` compresses like `beq rs, x0`.
            guard op == (self == .beqz ? .beq : .bne) else { return nil }
            let r = rs2 == 0 ? rs1 : rs1 == 0 ? rs2 : 0
            guard F.isPrime(r), imm & 1 == 0, F.fits(imm, bits: 9) else { return nil }
            return (self == .beqz ? 0xc001 : 0xe001) | F.p(r) << 7 | F.b(imm, 8, 1, to: 12) | F.b(imm, 3, 2, to: 10)
                | F.b(imm, 6, 2, to: 5) | F.b(imm, 1, 2, to: 3) | F.b(imm, 5, 1, to: 2)
        case .ebreak:
            return op == .ebreak ? 0x9002 : nil
        case .lwsp:
            guard op == .lw, rs1 == 2, rd != 0, F.aligned(imm, 4, below: 256) else { return nil }
            return 0x4002 | F.reg(rd, at: 7) | F.b(imm, 5, 1, to: 12) | F.b(imm, 2, 3, to: 4) | F.b(imm, 6, 2, to: 2)
        case .ldsp, .fldsp:
            guard op == (self == .ldsp ? .ld : .fld), rs1 == 2, self == .fldsp || rd != 0, F.aligned(imm, 8, below: 512) else { return nil }
            return (self == .ldsp ? 0x6002 : 0x2002) | F.reg(rd, at: 7) | F.b(imm, 5, 1, to: 12) | F.b(imm, 3, 2, to: 5) | F.b(imm, 6, 3, to: 2)
        case .swsp:
            guard op == .sw, rs1 == 2, F.aligned(imm, 4, below: 256) else { return nil }
            return 0xc002 | F.reg(rs2, at: 2) | F.b(imm, 2, 4, to: 9) | F.b(imm, 6, 2, to: 7)
        case .sdsp, .fsdsp:
            guard op == (self == .sdsp ? .sd : .fsd), rs1 == 2, F.aligned(imm, 8, below: 512) else { return nil }
            return (self == .sdsp ? 0xe002 : 0xa002) | F.reg(rs2, at: 2) | F.b(imm, 3, 3, to: 10) | F.b(imm, 6, 3, to: 7)
        case .lw:
            guard op == .lw, F.isPrime(rd), F.isPrime(rs1), F.aligned(imm, 4, below: 128) else { return nil }
            return 0x4000 | F.p(rs1) << 7 | F.p(rd) << 2 | F.b(imm, 3, 3, to: 10) | F.b(imm, 2, 1, to: 6) | F.b(imm, 6, 1, to: 5)
        case .ld, .fld:
            guard op == (self == .ld ? .ld : .fld), F.isPrime(rd), F.isPrime(rs1), F.aligned(imm, 8, below: 256) else { return nil }
            return (self == .ld ? 0x6000 : 0x2000) | F.p(rs1) << 7 | F.p(rd) << 2 | F.b(imm, 3, 3, to: 10) | F.b(imm, 6, 2, to: 5)
        case .sw:
            guard op == .sw, F.isPrime(rs2), F.isPrime(rs1), F.aligned(imm, 4, below: 128) else { return nil }
            return 0xc000 | F.p(rs1) << 7 | F.p(rs2) << 2 | F.b(imm, 3, 3, to: 10) | F.b(imm, 2, 1, to: 6) | F.b(imm, 6, 1, to: 5)
        case .sd, .fsd:
            guard op == (self == .sd ? .sd : .fsd), F.isPrime(rs2), F.isPrime(rs1), F.aligned(imm, 8, below: 256) else { return nil }
            return (self == .sd ? 0xe000 : 0xa000) | F.p(rs1) << 7 | F.p(rs2) << 2 | F.b(imm, 3, 3, to: 10) | F.b(imm, 6, 2, to: 5)
        }
    }

    /// The forms that can hold an instruction with this opcode, in the order the LLVM assembler
    /// prefers them (so that compressing gives clang's bytes: `addi sp, sp, 16` is c.addi).
    public static func candidates(for opcode: Opcode) -> [CompressedForm] {
        switch opcode {
        case .addi: [.nop, .addi, .addi16sp, .addi4spn, .li, .mv]
        case .add: [.mv, .add]
        case .addiw: [.addiw]
        case .lui: [.lui]
        case .slli: [.slli]
        case .srli: [.srli]
        case .srai: [.srai]
        case .andi: [.andi]
        case .sub: [.sub]
        case .xor: [.xor]
        case .or: [.or]
        case .and: [.and]
        case .subw: [.subw]
        case .addw: [.addw]
        case .jal: [.j]
        case .jalr: [.jr, .jalr]
        case .beq: [.beqz]
        case .bne: [.bnez]
        case .ebreak: [.ebreak]
        case .lw: [.lwsp, .lw]
        case .ld: [.ldsp, .ld]
        case .fld: [.fldsp, .fld]
        case .sw: [.swsp, .sw]
        case .sd: [.sdsp, .sd]
        case .fsd: [.fsdsp, .fsd]
        default: []
        }
    }

    /// The form a legal, non-HINT compressed encoding was written in (nil for HINTs, whose
    /// expansion is not what their form means, and for reserved encodings).
    public static func of(_ inst: Instruction) -> CompressedForm? {
        guard inst.length == 2 else { return nil }
        let half = UInt16(truncatingIfNeeded: inst.raw)
        return candidates(for: inst.opcode).first { $0.encode(inst) == half }
    }
}

public enum Compressor {
    /// The compressed encoding of `inst` in the form clang would choose, or nil if there is none.
    public static func compress(_ inst: Instruction) -> UInt16? {
        for form in CompressedForm.candidates(for: inst.opcode) {
            if let half = form.encode(inst) { return half }
        }
        return nil
    }
}
