import Testing
@testable import RISCV

/// Every legal 16-bit encoding, through the disassembler and back through the assembler.
@Suite struct CompressedRoundTripTests {
    /// HINT encodings of RV64C ("RVC Instruction Set Listings", HINT column): the assembler never
    /// produces them, and the disassembler prints them as the instruction they expand to.
    static func isHint(_ inst: Instruction) -> Bool { CompressedForm.of(inst) == nil }

    static let legal: [Instruction] = (0...UInt32(0xffff)).compactMap { h in
        guard h & 3 != 3 else { return nil }
        let inst = Decoder.decode(h)
        return inst.opcode == .illegal ? nil : inst
    }

    /// The canonical (`c.*`) text assembles to the same halfword, with or without `.option rvc`.
    /// (One source for all of them: the assembler runs once.)
    @Test func canonicalTextIsExact() throws {
        let texts = Self.legal.map { Disassembler.disassemble($0) }
        let bytes = try Assembler.bytes(texts.joined(separator: "\n"))
        var at = 0, hints = 0
        for (inst, text) in zip(Self.legal, texts) {
            guard at + 2 <= bytes.count else { Issue.record("output too short at '\(text)'"); return }
            if Self.isHint(inst) {
                // The expanded instruction, in its 4-byte form.
                hints += 1
                #expect(!text.hasPrefix("c."), "'\(text)'")
                let word = words(Array(bytes[at..<min(at + 4, bytes.count)])).first ?? 0
                var wide = inst
                wide.length = 4
                wide.raw = word
                #expect(Decoder.decode(word) == wide, "'\(text)'")
                at += 4
                continue
            }
            #expect(text.hasPrefix("c."), "'\(text)'")
            #expect((UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8) == inst.raw, "'\(text)'")
            at += 2
        }
        #expect(at == bytes.count)
        #expect(Self.legal.count > 45_000)
        #expect(hints > 0 && hints < 5000)
    }

    /// The expanded text compresses, under `.option rvc`, to the same instruction.
    @Test func expandedTextCompressesBack() throws {
        let sample = Self.legal.filter { !Self.isHint($0) }
        let texts = sample.map { Disassembler.disassemble($0, style: .aliases) }
        let bytes = try Assembler.bytes(texts.joined(separator: "\n"), options: AssemblerOptions(compressed: true))
        #expect(bytes.count == 2 * sample.count)
        for (k, (inst, text)) in zip(sample, texts).enumerated() where 2 * k + 1 < bytes.count {
            var back = Decoder.decode(UInt32(bytes[2 * k]) | UInt32(bytes[2 * k + 1]) << 8)
            // Two encodings share a meaning: c.addi16sp with an immediate c.addi can hold (clang,
            // like vmlab, picks c.addi).
            back.raw = inst.raw
            #expect(back == inst, "'\(text)'")
            if back != inst { return }
        }
    }

    /// clang reads the canonical `c.*` text and produces the same halfwords.
    @Test(.enabled(if: Toolchain.available, "needs clang, ld.lld, llvm-objcopy and llvm-objdump (looked beside swift, then on PATH)"))
    func clangAgreesOnEveryCompressedForm() throws {
        guard Toolchain.available else {
            print("skipping: clang/ld.lld/llvm-objcopy not found (looked beside swift, then on PATH)")
            return
        }
        let sample = Self.legal.enumerated().filter { !Self.isHint($0.element) && $0.offset % 3 == 0 }.map(\.element)
        let source = sample.map { Disassembler.disassemble($0) }.joined(separator: "\n") + "\n"
        let ours = try Assembler.assemble(source)
        let theirs = try Toolchain.clangSections(source, sections: [(".text", ours.base)])[".text"] ?? []
        #expect(ours.bytes.count == sample.count * 2)
        #expect(theirs.count == ours.bytes.count)
        for k in 0..<min(theirs.count, ours.bytes.count) / 2 where theirs[2 * k] != ours.bytes[2 * k] || theirs[2 * k + 1] != ours.bytes[2 * k + 1] {
            Issue.record("'\(Disassembler.disassemble(sample[k]))': clang \(theirs[2 * k]), \(theirs[2 * k + 1])")
            return
        }
    }
}
