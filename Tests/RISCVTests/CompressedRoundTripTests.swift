import Testing
@testable import RISCV

/// Every legal 16-bit encoding: decode → disassemble → assemble under `.option rvc` gives the
/// halfword back, except for HINTs (which the assembler never produces, so they come back as the
/// 4-byte form of the same instruction) and the encodings that share a meaning.
@Suite struct CompressedRoundTripTests {
    /// HINT encodings of RV64C ("RVC Instruction Set Listings", HINT column): they expand to
    /// instructions whose effect is nil (rd = x0) or identity (shift by 0, add 0).
    static func isHint(_ inst: Instruction) -> Bool {
        switch inst.opcode {
        case .addi: return (inst.rd == 0 && !(inst.rs1 == 0 && inst.imm == 0)) || (inst.rd == inst.rs1 && inst.rd != 0 && inst.imm == 0)
        case .lui, .add: return inst.rd == 0
        case .slli: return inst.rd == 0 || inst.imm == 0
        case .srli, .srai: return inst.imm == 0
        default: return false
        }
    }

    @Test func everyLegalHalfword() throws {
        var checked = 0
        for h in 0...UInt32(0xffff) where h & 3 != 3 {
            let inst = Decoder.decode(h)
            guard inst.opcode != .illegal else { continue }
            #expect(inst.length == 2)
            let text = Disassembler.disassemble(inst)
            let bytes = try Assembler.bytes(text, options: AssemblerOptions(compressed: true))
            if Self.isHint(inst) && inst.opcode == .addi && inst.rd == inst.rs1 && inst.imm == 0 {
                // `addi rd, rd, 0` is `mv rd, rd`, which compresses (as clang does it) to c.mv rd, rd.
                let back = Decoder.decode(UInt32(bytes[0]) | UInt32(bytes.count > 1 ? bytes[1] : 0) << 8)
                #expect(back.opcode == .add && back.rd == inst.rd && back.rs1 == 0 && back.rs2 == inst.rd, "'\(text)'")
                continue
            }
            if Self.isHint(inst) {
                // The same instruction, in its 4-byte form.
                #expect(bytes.count == 4, "hint 0x\(String(h, radix: 16)) '\(text)'")
                var wide = inst
                wide.length = 4
                wide.raw = Encoder.encode(inst)
                #expect(Decoder.decode(wide.raw) == wide, "hint 0x\(String(h, radix: 16)) '\(text)'")
                continue
            }
            guard bytes.count == 2 else {
                Issue.record("0x\(String(h, radix: 16)) '\(text)' assembled to \(bytes.count) bytes")
                continue
            }
            let back = UInt32(bytes[0]) | UInt32(bytes[1]) << 8
            if back != h {
                // Two encodings of one instruction: c.addi16sp with an immediate that c.addi can also
                // hold (clang, like vmlab, picks c.addi), and c.li zero, 0 (a HINT) versus c.nop.
                let sameMeaning = Decoder.decode(back).opcode == inst.opcode && Decoder.decode(back).imm == inst.imm
                    && Decoder.decode(back).rd == inst.rd && Decoder.decode(back).rs1 == inst.rs1
                #expect(sameMeaning && (inst.rd == 2 || back == 1), "0x\(String(h, radix: 16)) '\(text)' came back as 0x\(String(back, radix: 16))")
            }
            checked += 1
        }
        #expect(checked > 40_000)
    }
}
