// Instruction → bits: the inverse of the decoder, driven by the instruction table. The fixed bits
// come from the table's `match`; the operand fields go where the opcode's format puts them
// (unprivileged spec, "Base Instruction Formats" and "Immediate Encoding Variants").
//
// The encoder masks each field to its width and does not judge ranges; the assembler checks
// operands (with line and column) before it asks for an encoding.

public enum Encoder {
    /// The 32-bit encoding of `inst` (its `length` is ignored: compressed instructions encode as
    /// their base form). `.illegal` encodes as 0, an illegal word.
    public static func encode(_ inst: Instruction) -> UInt32 {
        let info = inst.opcode.info
        var w = info.match
        let rd = UInt32(inst.rd & 31) << 7
        let rs1 = UInt32(inst.rs1 & 31) << 15
        let rs2 = UInt32(inst.rs2 & 31) << 20
        let imm = UInt32(bitPattern: inst.imm)
        let rm = UInt32(inst.rm & 7) << 12
        switch info.format {
        case .none:
            if inst.opcode == .fence_i { w |= rd | rs1 | (imm & 0xfff) << 20 }
        case .r, .fpR, .fpCompare:
            w |= rd | rs1 | rs2
        case .fpRRM:
            w |= rd | rs1 | rs2 | rm
        case .fpR4:
            w |= rd | rs1 | rs2 | rm | UInt32(inst.rs3 & 31) << 27
        case .fpUnaryRM, .fpToIntRM, .intToFPRM:
            w |= rd | rs1 | rm
        case .fpToInt, .intToFP, .loadReserved, .hypervisorLoad:
            w |= rd | rs1
            if info.format == .loadReserved { w |= UInt32(inst.rm & 3) << 25 }
        case .amo:
            w |= rd | rs1 | rs2 | UInt32(inst.rm & 3) << 25
        case .i, .load, .jalr, .fpLoad:
            w |= rd | rs1 | (imm & 0xfff) << 20
        case .shift64:
            w |= rd | rs1 | (imm & 63) << 20
        case .shift32:
            w |= rd | rs1 | (imm & 31) << 20
        case .store, .fpStore:
            w |= rs1 | rs2 | (imm & 0x1f) << 7 | (imm >> 5 & 0x7f) << 25
        case .branch:
            w |= rs1 | rs2 | (imm >> 12 & 1) << 31 | (imm >> 5 & 0x3f) << 25 | (imm >> 1 & 0xf) << 8 | (imm >> 11 & 1) << 7
        case .upper:
            w |= rd | (imm & 0xffff_f000)
        case .jal:
            w |= rd | (imm >> 20 & 1) << 31 | (imm >> 1 & 0x3ff) << 21 | (imm >> 11 & 1) << 20 | (imm >> 12 & 0xff) << 12
        case .fence:
            w |= rd | rs1 | (imm & 0xfff) << 20
        case .csr, .csrImmediate:
            w |= rd | rs1 | (imm & 0xfff) << 20
        case .fenceVMA, .hypervisorStore:
            w |= rs1 | rs2
        }
        return w
    }
}
