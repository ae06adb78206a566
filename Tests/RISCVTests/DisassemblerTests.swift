import Testing
@testable import RISCV

@Suite struct DisassemblerTests {
    func text(_ source: String, style: Disassembler.Style = .canonical, pc: UInt64? = nil) throws -> String {
        let b = try Assembler.bytes(source)
        return Disassembler.disassemble(Decoder.decode(words(b)[0]), style: style, pc: pc)
    }

    @Test func standardSyntax() throws {
        #expect(try text("addi a0, a0, 1") == "addi a0, a0, 1")
        #expect(try text("ld ra, 8(sp)") == "ld ra, 8(sp)")
        #expect(try text("csrw satp, a0") == "csrrw zero, satp, a0")
        #expect(try text("csrw satp, a0", style: .aliases) == "csrw satp, a0")
        #expect(try text("fadd.d fa0, fa1, fa2, rtz") == "fadd.d fa0, fa1, fa2, rtz")
        #expect(try text("fadd.d fa0, fa1, fa2") == "fadd.d fa0, fa1, fa2")
        #expect(try text("lr.w.aq a0, (a1)") == "lr.w.aq a0, (a1)")
        #expect(try text("amoswap.d.aqrl a0, a1, (a2)") == "amoswap.d.aqrl a0, a1, (a2)")
        #expect(try text("fence") == "fence iorw, iorw")
        #expect(try text("fence", style: .aliases) == "fence")
        #expect(try text("fence.tso") == "fence.tso")
        #expect(try text("lui a0, 0x12345") == "lui a0, 0x12345")
        #expect(try text("csrrwi a0, 0x7c0, 3") == "csrrwi a0, 0x7c0, 3")
        #expect(try text("hlv.wu a0, (a1)") == "hlv.wu a0, (a1)")
        #expect(try text("hsv.d a0, (a1)") == "hsv.d a0, (a1)")
        #expect(try text("sfence.vma") == "sfence.vma zero, zero")
        #expect(try text("sfence.vma", style: .aliases) == "sfence.vma")
        #expect(try text("fcvt.d.w fa0, a0") == "fcvt.d.w fa0, a0")
        #expect(try text("fcvt.w.d a0, fa0, rtz") == "fcvt.w.d a0, fa0, rtz")
    }

    @Test func aliases() throws {
        #expect(try text("li a0, -5", style: .aliases) == "li a0, -5")
        #expect(try text("mv a0, a1", style: .aliases) == "mv a0, a1")
        #expect(try text("ret", style: .aliases) == "ret")
        #expect(try text("nop", style: .aliases) == "nop")
        #expect(try text("not a0, a1", style: .aliases) == "not a0, a1")
        #expect(try text("rdcycle a0", style: .aliases) == "rdcycle a0")
        #expect(try text("csrr a0, mcause", style: .aliases) == "csrr a0, mcause")
        #expect(try text("fneg.d fa0, fa1", style: .aliases) == "fneg.d fa0, fa1")
        #expect(try text("bgtz a0, 8", style: .aliases) == "bgtz a0, 8")
    }

    @Test func targetsWithAnAddress() throws {
        #expect(try text("beq a0, a1, -8", pc: 0x8000_0010) == "beq a0, a1, -8 # 0x80000008")
        #expect(try text("j 16", style: .aliases, pc: 0x8000_0000) == "j 16 # 0x80000010")
    }

    @Test func illegalPrintsAsData() {
        #expect(Disassembler.disassemble(Decoder.decode(0)) == ".half 0x0")
        #expect(Disassembler.disassemble(Decoder.decode(0xffff_ffff)) == ".word 0xffffffff")
    }
}

@Suite struct ListingTests {
    @Test func mixedWidthsAndTrailingBytes() throws {
        let code = try Assembler.bytes(".option rvc\naddi a0, a0, 1\nlui a0, 0x12345\nret\n.byte 0x13")
        let lines = Disassembler.listing(code, address: 0x8000_0000)
        #expect(lines.map(\.address) == [0x8000_0000, 0x8000_0002, 0x8000_0006, 0x8000_0008])
        #expect(lines.map(\.text) == ["c.addi a0, 1", "lui a0, 0x12345", "c.jr ra", ".byte 0x13"])
        #expect(Disassembler.listing(code, address: 0, style: .aliases)[2].text == "ret")
    }
}
