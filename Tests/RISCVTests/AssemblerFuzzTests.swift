import Foundation
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

    /// Assembles each source on a thread of its own with a secondary thread's stack (macOS gives
    /// one 512 KiB): an assembler that overflows this stack crashes the test run.
    static func assembleOnSmallStack(_ sources: [String]) -> [Result<AssembledProgram, AssemblyError>] {
        final class Results: @unchecked Sendable {  // written before `done` is signalled, read after
            var all: [Result<AssembledProgram, AssemblyError>] = []
        }
        let results = Results()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            results.all = sources.map { source in Result { () throws(AssemblyError) in try Assembler.assemble(source) } }
            done.signal()
        }
        thread.stackSize = 512 << 10
        thread.start()
        done.wait()
        return results.all
    }

    /// Hostile nesting is an assembly error, never a stack overflow, and the deepest expression
    /// allowed assembles on a secondary thread's stack (in a debug build too).
    @Test func deepExpressionsAreErrorsNotStackOverflows() {
        let limit = Expr.maximumNesting
        let tooDeep = [
            "li t0, " + nested("(", "1", ")", 30_000),
            "li t0, " + String(repeating: "-", count: 100_000) + "1",
            "li t0, " + nested("%lo(", "1", ")", 30_000),
            "li t0, " + nested("1+(", "1", ")", 30_000),
            "li t0, " + nested("(", "1", ")", limit),
            "li t0, " + nested("(", "1", ")", limit - 1) + "+1",
        ]
        let deepest = [
            "li t0, " + nested("(", "1", ")", limit - 1),
            "li t0, " + String(repeating: "~", count: limit - 1) + "1",
            "li t0, " + nested("%lo(", "1", ")", limit - 1),
            // Evaluated once the layout is known, where the label has an address.
            "x: .dword " + String(repeating: "-", count: limit - 1) + "x",
            "x: .dword " + nested("0+(", "x", ")", limit / 2 - 1),
        ]
        let results = Self.assembleOnSmallStack(tooDeep + deepest)
        for (source, result) in zip(tooDeep, results) {
            guard case .failure(let error) = result else { Issue.record("\(source.prefix(40))... assembled"); continue }
            #expect(error.message == "expression nested too deeply (more than \(limit) levels)", "\(source.prefix(40))...")
        }
        for (source, result) in zip(deepest, results.dropFirst(tooDeep.count)) {
            if case .failure(let error) = result { Issue.record("\(source.prefix(40))...: \(error)") }
        }
    }

    /// Blocks too: deeply nested `.rept` or `.if` is an error, not a stack overflow, and a macro
    /// recursing as deep as it may, each level inside an `.if`, assembles on a small stack.
    @Test func deepBlocksAreErrorsNotStackOverflows() throws {
        let results = Self.assembleOnSmallStack([
            nested(".rept 1\n", "nop\n", ".endr\n", 20_000),
            nested(".if 1\n", "nop\n", ".endif\n", 20_000),
            nested(".rept 2\n.if 1\n", "nop\n", ".endif\n.endr\n", 1000),
            ".macro down n\n.if \\n\n.byte \\n\ndown \\n-1\n.endif\n.endm\ndown 63",
        ])
        for result in results.prefix(3) {
            guard case .failure(let error) = result else { Issue.record("assembled"); continue }
            #expect(error.message == "blocks nested too deeply (more than 256 of .rept, .if and macros)")
        }
        #expect(try results[3].get().bytes == (1...63).reversed().map { UInt8($0) })
    }

    /// A long row of operators of one precedence is one level, not one per operator.
    @Test func longSumsAreNotDeep() throws {
        let sums = Self.assembleOnSmallStack([
            ".equ X, " + String(repeating: "1+", count: 60_000) + "1",
            ".equ X, " + String(repeating: "3*3-1*2+", count: 20_000) + "1",
        ])
        #expect(try sums[0].get().symbols["X"] == 60_001)
        #expect(try sums[1].get().symbols["X"] == 140_001)
    }
}
