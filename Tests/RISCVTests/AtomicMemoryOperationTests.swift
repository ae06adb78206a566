import Testing
import RISCV

/// The AMO read-modify-write the hart and the VMMs share (`Opcode.amoResult`): word forms look at
/// the low 32 bits only, signed or unsigned as the opcode says.
@Suite struct AtomicMemoryOperationTests {
    @Test func doublewordForms() {
        let minusOne = UInt64.max, one: UInt64 = 1
        #expect(Opcode.amoswap_d.amoResult(old: 5, operand: 7) == 7)
        #expect(Opcode.amoadd_d.amoResult(old: minusOne, operand: 2) == 1)
        #expect(Opcode.amoxor_d.amoResult(old: 0b1100, operand: 0b1010) == 0b0110)
        #expect(Opcode.amoand_d.amoResult(old: 0b1100, operand: 0b1010) == 0b1000)
        #expect(Opcode.amoor_d.amoResult(old: 0b1100, operand: 0b1010) == 0b1110)
        #expect(Opcode.amomin_d.amoResult(old: minusOne, operand: one) == minusOne)
        #expect(Opcode.amomax_d.amoResult(old: minusOne, operand: one) == one)
        #expect(Opcode.amominu_d.amoResult(old: minusOne, operand: one) == one)
        #expect(Opcode.amomaxu_d.amoResult(old: minusOne, operand: one) == minusOne)
    }

    /// 0x8000_0000 is the most negative word: below 1 signed, above it unsigned, whether or not
    /// it arrives sign-extended (the hart extends what it loads, a VMM reading guest memory may not).
    @Test(arguments: [UInt64(0x8000_0000), 0xFFFF_FFFF_8000_0000])
    func wordFormsCompareTheLowWord(_ negative: UInt64) {
        let one: UInt64 = 0x1234_5678_0000_0001   // upper bits that must not count
        #expect(Opcode.amomin_w.amoResult(old: negative, operand: one) == negative)
        #expect(Opcode.amomax_w.amoResult(old: negative, operand: one) == one)
        #expect(Opcode.amominu_w.amoResult(old: negative, operand: one) == one)
        #expect(Opcode.amomaxu_w.amoResult(old: negative, operand: one) == negative)
        #expect(UInt32(truncatingIfNeeded: Opcode.amoadd_w.amoResult(old: 0xFFFF_FFFF, operand: one)) == 0)
    }
}
