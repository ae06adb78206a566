// The decoded form of one instruction, shared by the interpreter, the disassembler and the
// assembler. It is deliberately plain data of exactly 16 bytes so that a decoded-instruction cache
// is a flat array with no reference counting.

/// One decoded instruction: 16 bytes, plain data, decoded once and cached by the interpreter.
///
/// Which fields carry operands is given by `opcode.info.format.operands`; the decoder sets every
/// other field to zero, except that fence and fence.i keep their reserved rd/rs1 (and fence.i its
/// immediate), which the spec says to ignore. Compressed instructions carry the fields of the
/// base instruction they expand to.
public struct Instruction: Hashable, Sendable {
    public var opcode: Opcode
    /// Integer or FP register numbers 0...31 (which file depends on the opcode's operand format).
    public var rd: UInt8, rs1: UInt8, rs2: UInt8, rs3: UInt8
    /// FP: the rm field (0-4, 7 = dynamic). A-extension: aq<<1 | rl. fence: the fm/pred/succ low byte
    /// (pred<<4 | succ). Otherwise 0.
    public var rm: UInt8
    /// 2 for a compressed instruction, 4 otherwise.
    public var length: UInt8
    /// Sign-extended immediate (I/S/B/U/J, already shifted: lui/auipc hold the value << 12, branches the
    /// byte offset); shift amount for shifts; the CSR number (0...4095) for Zicsr, whose 5-bit zimm of
    /// csrr*i is in rs1. For fence the whole 12-bit fm/pred/succ field, zero-extended.
    public var imm: Int32
    /// The original bits (low 16 for compressed).
    public var raw: UInt32

    @inlinable
    public init(opcode: Opcode, rd: UInt8 = 0, rs1: UInt8 = 0, rs2: UInt8 = 0, rs3: UInt8 = 0,
                rm: UInt8 = 0, length: UInt8 = 4, imm: Int32 = 0, raw: UInt32 = 0) {
        self.opcode = opcode
        self.rd = rd
        self.rs1 = rs1
        self.rs2 = rs2
        self.rs3 = rs3
        self.rm = rm
        self.length = length
        self.imm = imm
        self.raw = raw
    }

    /// The result of decoding a reserved encoding: `.illegal`, remembering the bits for `mtval`.
    @inlinable
    public static func illegal(_ raw: UInt32, length: UInt8) -> Instruction {
        Instruction(opcode: .illegal, length: length, raw: raw)
    }

    /// Whether this is a compressed (16-bit) encoding.
    @inlinable public var isCompressed: Bool { length == 2 }
}
