import Foundation
import Testing
@testable import RISCV

/// "One table, many products": for every opcode, random instances go through
/// encode → decode → disassemble → assemble and come back identical, and clang agrees on the bytes.
@Suite struct RoundTripTests {
    static let corpus = InstructionGenerator.corpus(perOpcode: 24, seed: 42)

    @Test func tableCoversEveryOpcode() {
        #expect(InstructionTable.entries.count == Opcode.allCases.count)
        for (i, entry) in InstructionTable.entries.enumerated() {
            #expect(entry.opcode.rawValue == UInt16(i))
            #expect(entry.match & ~entry.mask == 0, "\(entry.name): match has bits outside the mask")
        }
        // No two opcodes share an encoding: each entry's match decodes back to the entry.
        for entry in InstructionTable.entries.dropFirst() {
            let word = entry.match | (entry.format.hasRoundingMode ? 7 << 12 : 0)
            #expect(InstructionTable.referenceOpcode(word) == entry.opcode, "\(entry.name)")
        }
        #expect(Set(InstructionTable.entries.map(\.name)).count == InstructionTable.entries.count)
    }

    @Test func encodeDecode() {
        for inst in Self.corpus {
            let decoded = Decoder.decode(inst.raw)
            #expect(decoded == inst, "\(inst.opcode.name) 0x\(String(inst.raw, radix: 16))")
        }
    }

    @Test(arguments: [Disassembler.Style.canonical, .aliases])
    func disassembleAssemble(style: Disassembler.Style) throws {
        for inst in Self.corpus {
            let text = Disassembler.disassemble(inst, style: style)
            let bytes: [UInt8]
            do { bytes = try Assembler.bytes(text) } catch {
                Issue.record("'\(text)' does not assemble: \(error)")
                continue
            }
            #expect(words(bytes) == [inst.raw], "'\(text)'")
        }
    }

    /// The canonical text of the whole corpus, assembled by clang, gives vmlab's bytes.
    @Test(.enabled(if: Toolchain.available, "needs clang, ld.lld, llvm-objcopy and llvm-objdump (looked beside swift, then on PATH)"))
    func clangAgreesOnEveryOpcode() throws {
        guard Toolchain.available else {
            print("skipping: clang/ld.lld/llvm-objcopy not found (looked beside swift, then on PATH)")
            return
        }
        let source = ".option norvc\n" + Self.corpus.map { Disassembler.disassemble($0) }.joined(separator: "\n") + "\n"
        let ours = try Assembler.assemble(source)
        let theirs = try Toolchain.clangSections(source, sections: [(".text", ours.base)])
        let mine = words(ours.bytes), clangs = words(theirs[".text"] ?? [])
        #expect(mine.count == clangs.count)
        #expect(mine.count == Self.corpus.count)
        print("clang comparison: \(mine.count) instructions")
        let lines = source.split(separator: "\n").dropFirst()
        for (k, (a, b)) in zip(mine, clangs).enumerated() where a != b {
            Issue.record("'\(lines[lines.startIndex + k])': vmlab 0x\(String(a, radix: 16)), clang 0x\(String(b, radix: 16))")
        }
    }
}
