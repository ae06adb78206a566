import Testing
@testable import RISCV

/// Little-endian 32-bit words of an assembled program.
func words(_ bytes: [UInt8]) -> [UInt32] {
    var out: [UInt32] = []
    var i = 0
    while i + 3 < bytes.count {
        var w: UInt32 = 0
        for k in 0..<4 { w |= UInt32(bytes[i + k]) << (8 * UInt32(k)) }
        out.append(w)
        i += 4
    }
    return out
}

@Suite struct AssemblerTests {
    @Test func basicInstructions() throws {
        let p = try Assembler.assemble("addi a0, a0, 1; ld ra, 8(sp)\n csrrw zero, satp, a0 # comment\nfadd.d fa0, fa1, fa2, rtz // c\n lr.w.aq a0, (a1)")
        #expect(words(p.bytes) == [0x0015_0513, 0x0081_3083, 0x1805_1073, 0x02c5_9553, 0x1405_a52f])
        #expect(p.base == 0x8000_0000)
    }

    @Test func labelsAndBranches() throws {
        let p = try Assembler.assemble("""
        start: beq a0, a1, 1f
               jal ra, start
        1:     j 1b
        """)
        #expect(words(p.bytes) == [0x00b5_0463, 0xffdf_f0ef, 0x0000_006f])
        #expect(p.symbols["start"] == 0x8000_0000)
    }

    @Test func errorsCarryLineAndColumn() {
        #expect(throws: AssemblyError(line: 2, column: 9, message: "unknown register 'x32'")) {
            try Assembler.assemble("nop\naddi a0,x32, 1")
        }
    }
}
