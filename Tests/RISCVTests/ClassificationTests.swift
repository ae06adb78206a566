import Testing
@testable import RISCV

@Suite struct ClassificationTests {
    @Test func memoryAccesses() {
        for op in Opcode.allCases {
            // Every memory instruction has a width and every other has none.
            #expect((op.memoryAccessWidth != 0) == op.accessesMemory, "\(op.name)")
            // Nothing is both a plain load and a plain store.
            #expect(!(op.isLoad && op.isStore), "\(op.name)")
        }
        #expect(Opcode.lbu.memoryAccessWidth == 1 && !Opcode.lbu.signExtendsLoad)
        #expect(Opcode.lh.signExtendsLoad)
        #expect(Opcode.hlvx_wu.memoryAccessWidth == 4 && Opcode.hlvx_wu.isLoad)
        #expect(Opcode.amomaxu_w.memoryAccessWidth == 4 && Opcode.amomaxu_w.isAMO && Opcode.amomaxu_w.signExtendsLoad)
        #expect(Opcode.amoswap_d.memoryAccessWidth == 8)
        #expect(Opcode.sc_d.isStore && Opcode.lr_d.isLoad)
        #expect(Opcode.fsd.isStore && Opcode.fsd.memoryAccessWidth == 8)
    }

    @Test func controlFlow() {
        #expect(Opcode.bgeu.isBranch && !Opcode.jal.isBranch)
        #expect(Opcode.jalr.isJump)
        for op in [Opcode.beq, .jal, .jalr, .ecall, .ebreak, .mret, .sret, .wfi, .fence_i, .sfence_vma, .hfence_gvma, .csrrw, .illegal] {
            #expect(op.endsBlock, "\(op.name)")
        }
        for op in [Opcode.add, .ld, .sd, .fence, .amoadd_w, .fadd_d, .hlv_d] {
            #expect(!op.endsBlock, "\(op.name)")
        }
        #expect(Instruction(opcode: .jal, rd: 1).isCall)
        #expect(!Instruction(opcode: .jal, rd: 0).isCall)
    }

    @Test func misaRequirements() {
        let rv64imafd: UInt64 = (1 << 8) | (1 << 12) | (1 << 0) | (1 << 5) | (1 << 3) | (1 << 18) | (1 << 20)
        #expect(Decoder.decode(0x0015_0513).isImplemented(misa: rv64imafd))          // addi
        #expect(!Decoder.decode(0x0505).isImplemented(misa: rv64imafd))               // c.addi needs C
        #expect(Decoder.decode(0x0505).isImplemented(misa: rv64imafd | 1 << 2))
        #expect(!Decoder.decode(0x2008).isImplemented(misa: (1 << 8) | (1 << 2)))     // c.fld needs D
        #expect(!Decoder.decode(0x6005_c573).isImplemented(misa: rv64imafd))          // hlv.b needs H
        #expect(Decoder.decode(0x3020_0073).isImplemented(misa: 1 << 8))               // mret: base
        #expect(!Decoder.decode(0x1020_0073).isImplemented(misa: 1 << 8))              // sret needs S
    }

    @Test func privilegeAndSensitivity() throws {
        #expect(Opcode.mret.isPrivileged && Opcode.sfence_vma.isPrivileged && Opcode.hlv_b.isPrivileged)
        #expect(!Opcode.ecall.isPrivileged && !Opcode.csrrw.isPrivileged)
        // csrr a0, sstatus reads, does not write
        let readStatus = Decoder.decode(0x1000_2573)
        #expect(readStatus.csr == CSR.sstatus && readStatus.readsCSR && !readStatus.writesCSR && readStatus.isSensitive)
        // csrw satp, a0 writes without reading
        let writeSatp = Decoder.decode(0x1805_1073)
        #expect(writeSatp.writesCSR && !writeSatp.readsCSR && writeSatp.isSensitive)
        // frflags a0 is not sensitive; rdtime is (a VMM virtualises time)
        #expect(!Decoder.decode(0x0010_2573).isSensitive)
        #expect(try Decoder.decode(words(Assembler.bytes("rdtime a0"))[0]).isSensitive)
        // csrrsi with uimm 0 does not write
        #expect(!Instruction(opcode: .csrrsi, rd: 1, rs1: 0, imm: 0x300).writesCSR)
        #expect(!Instruction(opcode: .add, rd: 1, rs1: 2, rs2: 3).isSensitive)
        #expect(Instruction(opcode: .wfi).isSensitive)
        #expect(Opcode.fmadd_d.usesFloatingPoint && !Opcode.add.usesFloatingPoint)
    }
}

@Suite struct TransformedInstructionTests {
    @Test func loadsStoresAndAtomics() throws {
        // ld a0, 8(sp): imm and rs1 cleared
        #expect(TransformedInstruction.of(Decoder.decode(0x0081_3503)) == 0x0000_3503)
        // sd ra, -8(sp): both immediate fields and rs1 cleared, rs2 kept
        let sd = try words(Assembler.bytes("sd ra, -8(sp)"))[0]
        #expect(TransformedInstruction.of(Decoder.decode(sd)) == 0x0010_3023)
        // amoadd.d.aqrl a0, a1, (a2): all but rs1 kept; address offset goes into rs1
        #expect(TransformedInstruction.of(Decoder.decode(0x06b6_352f), addressOffset: 3) == 0x06b1_b52f)
        // c.lw a0, 0(s0) → lw a0, 0(x0) with bit 1 clear
        #expect(TransformedInstruction.of(Decoder.decode(0x4008)) == 0x0000_2501)
        // hlv.b a0, (a1)
        #expect(TransformedInstruction.of(Decoder.decode(0x6005_c573)) == 0x6000_4573)
        // not a memory access
        #expect(TransformedInstruction.of(Decoder.decode(0x0015_0513)) == 0)
    }
}
