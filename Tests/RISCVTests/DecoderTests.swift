import Testing
@testable import RISCV

/// Known encodings (cross-checked against the LLVM 21 disassembler) decode to the expected fields.
@Suite struct DecoderTests {
    @Test func decodesBaseWords() {
        #expect(Decoder.decode(0x02c5_f553) == Instruction(opcode: .fadd_d, rd: 10, rs1: 11, rs2: 12, rm: 7, raw: 0x02c5_f553))
        #expect(Decoder.decode(0x1405_a52f) == Instruction(opcode: .lr_w, rd: 10, rs1: 11, rm: 2, raw: 0x1405_a52f))
        #expect(Decoder.decode(0x1805_1073) == Instruction(opcode: .csrrw, rs1: 10, imm: 0x180, raw: 0x1805_1073))
        #expect(Decoder.decode(0x00b5_0463) == Instruction(opcode: .beq, rs1: 10, rs2: 11, imm: 8, raw: 0x00b5_0463))
        #expect(Decoder.decode(0xffdf_f0ef) == Instruction(opcode: .jal, rd: 1, imm: -4, raw: 0xffdf_f0ef))
        #expect(Decoder.decode(0x0000_1517) == Instruction(opcode: .auipc, rd: 10, imm: 0x1000, raw: 0x1517))
        #expect(Decoder.decode(0x62b5_0073) == Instruction(opcode: .hfence_gvma, rs1: 10, rs2: 11, raw: 0x62b5_0073))
        #expect(Decoder.decode(0x6005_c573) == Instruction(opcode: .hlv_b, rd: 10, rs1: 11, raw: 0x6005_c573))
        #expect(Decoder.decode(0x0ff0_000f).opcode == .fence)
        #expect(Decoder.decode(0x0ff0_000f).rm == 0xff)
    }

    @Test func expandsCompressed() {
        #expect(Decoder.decode(0x9502) == Instruction(opcode: .jalr, rd: 1, rs1: 10, length: 2, raw: 0x9502))
        #expect(Decoder.decode(0x157e) == Instruction(opcode: .slli, rd: 10, rs1: 10, length: 2, imm: 63, raw: 0x157e))
        #expect(Decoder.decode(0x757d) == Instruction(opcode: .lui, rd: 10, length: 2, imm: -4096, raw: 0x757d))
        #expect(Decoder.decode(0x0505) == Instruction(opcode: .addi, rd: 10, rs1: 10, length: 2, imm: 1, raw: 0x0505))
        #expect(Decoder.decode(0x000d) == Instruction(opcode: .addi, length: 2, imm: 3, raw: 0x000d))
    }

    @Test(arguments: [
        0x0000,  // all zero
        0x6101,  // c.addi16sp with nzimm 0
        0x6001,  // c.lui with imm 0
        0x8000,  // quadrant 0 funct3 100
        0x4002,  // c.lwsp rd=0
        0x6002,  // c.ldsp rd=0
        0x8002,  // c.jr rs1=0
        0x2001,  // c.addiw rd=0
        0x9c41,  // quadrant 1 CA reserved (bit12=1, funct2=10)
    ] as [UInt32])
    func reservedCompressedIsIllegal(_ word: UInt32) {
        #expect(Decoder.decode(word).opcode == .illegal)
        #expect(Decoder.decode(word).length == 2)
    }

    @Test(arguments: [
        0xffff_ffff,  // 48+-bit prefix
        0x0400_1013,  // slli with funct6 != 0
        0x0200_101b,  // slliw with shamt[5] = 1
        0x0000_7003,  // load funct3 = 7
        0x0000_4023,  // store funct3 = 4
        0x0010_0173,  // ebreak with rd != 0
        0x02c5_d553,  // fadd.d rm = 5
        0x1015_a52f,  // lr.w with rs2 != 0
        0x0000_1067,  // jalr funct3 != 0
        0x0600_0053,  // fadd.q (fmt = 3)
        0x3020_00f3,  // mret with rd != 0
        0x0000_8073,  // ecall with rs1 != 0
    ] as [UInt32])
    func reservedWordsAreIllegal(_ word: UInt32) {
        #expect(Decoder.decode(word).opcode == .illegal)
    }

    @Test func instructionIsSixteenBytes() {
        #expect(MemoryLayout<Instruction>.size == 16)
    }
}
