import Testing
@testable import RISCV

/// Known encodings (cross-checked against the LLVM 21 disassembler) decode to the expected fields.
@Suite struct DecoderTests {
    /// Decoding from parcels reads the second only for a 32-bit instruction, and gives nil when
    /// a parcel it needs cannot be read.
    @Test func decodesFromParcels() {
        // csrr a0, sstatus; c.nop; the lower half of csrr with nothing after it
        let memory: [UInt64: UInt16] = [0x100: 0x2573, 0x102: 0x1000, 0x200: 0x0001, 0x300: 0x2573]
        var reads: [UInt64] = []
        func parcel(_ a: UInt64) -> UInt16? { reads.append(a); return memory[a] }
        #expect(Decoder.decode(at: 0x100, parcel: parcel) == Decoder.decode(0x1000_2573))
        #expect(reads == [0x100, 0x102])
        reads = []
        #expect(Decoder.decode(at: 0x200, parcel: parcel) == Decoder.decode(0x0001))
        #expect(reads == [0x200], "a compressed instruction reads one parcel")
        #expect(Decoder.decode(at: 0x300, parcel: parcel) == nil, "32 bits, and 0x302 is unreadable")
        #expect(Decoder.decode(at: 0x400, parcel: parcel) == nil)
    }

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

/// The opcode list is a contract with the interpreter (raw values index its dispatch tables).
@Suite struct OpcodeContractTests {
    @Test func casesAndOrderAreTheAgreedOnes() {
        let agreed = """
        illegal lui auipc jal jalr beq bne blt bge bltu bgeu lb lh lw ld lbu lhu lwu \
        sb sh sw sd addi slti sltiu xori ori andi slli srli srai add sub sll slt sltu \
        xor srl sra or and addiw slliw srliw sraiw addw subw sllw srlw sraw \
        fence fence_i ecall ebreak mret sret wfi sfence_vma \
        csrrw csrrs csrrc csrrwi csrrsi csrrci \
        mul mulh mulhsu mulhu div divu rem remu mulw divw divuw remw remuw \
        lr_w sc_w amoswap_w amoadd_w amoxor_w amoand_w amoor_w amomin_w amomax_w amominu_w amomaxu_w \
        lr_d sc_d amoswap_d amoadd_d amoxor_d amoand_d amoor_d amomin_d amomax_d amominu_d amomaxu_d \
        flw fsw fmadd_s fmsub_s fnmsub_s fnmadd_s fadd_s fsub_s fmul_s fdiv_s fsqrt_s \
        fsgnj_s fsgnjn_s fsgnjx_s fmin_s fmax_s fcvt_w_s fcvt_wu_s fmv_x_w feq_s flt_s fle_s \
        fclass_s fcvt_s_w fcvt_s_wu fmv_w_x fcvt_l_s fcvt_lu_s fcvt_s_l fcvt_s_lu \
        fld fsd fmadd_d fmsub_d fnmsub_d fnmadd_d fadd_d fsub_d fmul_d fdiv_d fsqrt_d \
        fsgnj_d fsgnjn_d fsgnjx_d fmin_d fmax_d fcvt_s_d fcvt_d_s feq_d flt_d fle_d fclass_d \
        fcvt_w_d fcvt_wu_d fcvt_d_w fcvt_d_wu fcvt_l_d fcvt_lu_d fmv_x_d fcvt_d_l fcvt_d_lu fmv_d_x \
        hfence_vvma hfence_gvma hlv_b hlv_bu hlv_h hlv_hu hlvx_hu hlv_w hlvx_wu hlv_wu hlv_d \
        hsv_b hsv_h hsv_w hsv_d
        """
        #expect(Opcode.allCases.map { String(describing: $0) } == agreed.split(separator: " ").map(String.init))
        #expect(Opcode.allCases.enumerated().allSatisfy { Int($0.element.rawValue) == $0.offset })
    }
}
