import GuestTestSupport
import Testing
@testable import RISCV

/// Lab scripts hand the assembler arbitrary text: whatever it is, the answer is bytes or an
/// `AssemblyError`, never a crash or a hang.
@Suite struct AssemblerFuzzTests {
    static let vocabulary = [
        "addi", "lui", "li", "la", "call", "j", "beq", "c.addi", "c.j", "lw", "sd", "fadd.d", "lr.w.aq",
        "csrr", "fence", ".rept", ".endr", ".align", ".balign", ".zero", ".word", ".dword", ".ascii",
        ".equ", ".option", "rvc", "norvc", ".section", ".data", ".text", "x", "y", "1", "1b", "1f",
        "a0", "sp", "zero", "x31", "fa0", "f32", "mstatus", "rtz", "(", ")", ",", ":", ";", "\n", "+", "-",
        "*", "/", "%", "<<", ">>", "&", "|", "^", "~", "%hi", "%lo", "%pcrel_hi", "%pcrel_lo", ".",
        "0", "-1", "2047", "4096", "0x7fffffffffffffff", "-9223372036854775808", "'a'", "\"s\"", "#", "//",
        "64", "65536", "iorw", "=", "!", ".macro", ".endm", "m", "\\x", "\\m",
    ]

    @Test func randomTokenSoupNeverCrashes() {
        var rng = SplitMix64(seed: 31337)
        var accepted = 0
        for _ in 0..<3000 {
            let count = Int(rng.next() % 24) + 1
            var source = ""
            for _ in 0..<count {
                source += Self.vocabulary[Int(rng.next() % UInt64(Self.vocabulary.count))]
                source += rng.next() % 3 == 0 ? "" : " "
            }
            do {
                _ = try Assembler.assemble(source)
                accepted += 1
            } catch {
                #expect(error.line >= 1 && error.column >= 1, "\(source): \(error)")
            }
        }
        #expect(accepted > 0)
    }

    @Test func mutatedProgramsNeverCrash() {
        let program = """
        .option rvc
        start: li a0, 0x123456789
               la a1, data
        1:     lw t0, 0(a1)
               beqz t0, 2f
               c.addi a0, -1
               j 1b
        2:     .rept 3
               csrrw zero, mscratch, a0
               .endr
               call start
        data:  .word 1, 2, 3
        """
        var rng = SplitMix64(seed: 4)
        let bytes = Array(program.utf8)
        for _ in 0..<1500 {
            var mutated = bytes
            for _ in 0..<Int(rng.next() % 4) + 1 {
                let at = Int(rng.next() % UInt64(mutated.count))
                switch rng.next() % 3 {
                case 0: mutated.remove(at: at)
                case 1: mutated.insert(UInt8(rng.next() % 96 + 32), at: at)
                default: mutated[at] = UInt8(rng.next() % 96 + 32)
                }
            }
            _ = try? Assembler.assemble(String(decoding: mutated, as: UTF8.self))
        }
    }
}
