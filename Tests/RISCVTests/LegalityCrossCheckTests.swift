import GuestTestSupport
import Foundation
import Testing
@testable import RISCV

/// The decoder's notion of legal encodings, checked against two independent references: the
/// instruction table's masks (`InstructionTable.referenceOpcode`) and LLVM's disassembler.
@Suite struct LegalityCrossCheckTests {
    /// Words per LLVM comparison; `VMLAB_LLVM_SAMPLE=200000` for a deeper (slower) run.
    static let sampleSize = Int(ProcessInfo.processInfo.environment["VMLAB_LLVM_SAMPLE"] ?? "") ?? 6000

    /// Encodings the spec makes legal but LLVM rejects: the reserved fields of FENCE (rs1, rd, and
    /// fm values other than 0 and TSO) and of FENCE.I (imm, rs1, rd), which "base implementations
    /// shall ignore" (unprivileged spec, "Memory Ordering Instructions", "Zifencei").
    static func isSpecIgnoredFenceField(_ w: UInt32) -> Bool {
        guard w & 0x7f == 0x0f else { return false }
        let f3 = (w >> 12) & 7
        return f3 == 0 || f3 == 1
    }

    /// Random 32-bit words with the low bits of a 32-bit instruction, biased towards the major
    /// opcodes that exist so that most words land near real encodings.
    static func randomWords(count: Int, seed: UInt64) -> [UInt32] {
        var rng = SplitMix64(seed: seed)
        let majors: [UInt32] = [0x03, 0x07, 0x0f, 0x13, 0x17, 0x1b, 0x23, 0x27, 0x2f, 0x33, 0x37, 0x3b,
                                0x43, 0x47, 0x4b, 0x4f, 0x53, 0x63, 0x67, 0x6f, 0x73]
        return (0..<count).map { _ in
            let r = UInt32(truncatingIfNeeded: rng.next())
            let major = majors[Int(rng.next() % UInt64(majors.count))]
            var w = (r & ~0x7f) | major
            // Often zero the register fields too, to reach the exact-match encodings (ecall, mret...).
            if rng.next() % 4 == 0 { w &= ~(0x1f << 7 | 0x1f << 15) }
            if rng.next() % 4 == 0 { w &= ~(0x1f << 20) }
            return w
        }
    }

    @Test func decoderAgreesWithTheTable() {
        var rng = SplitMix64(seed: 7)
        var words = Self.randomWords(count: 50_000, seed: 11)
        for _ in 0..<50_000 { words.append(UInt32(truncatingIfNeeded: rng.next()) | 3) }
        for w in words {
            let fast = Decoder.decode(w).opcode
            let reference = InstructionTable.referenceOpcode(w)
            #expect(fast == reference, "word 0x\(String(w, radix: 16)): decoder \(fast), table \(reference)")
            if fast != reference { return }
            // Every decoded word prints (and printing never traps).
            #expect(!Disassembler.disassemble(Decoder.decode(w), style: .aliases, pc: 0x8000_0000).isEmpty)
        }
    }

    @Test(.enabled(if: Toolchain.available, "needs clang, ld.lld, llvm-objcopy and llvm-objdump (looked beside swift, then on PATH)"))
    func decoderAgreesWithLLVMOn32BitWords() throws {
        guard Toolchain.available else {
            print("skipping: clang/llvm-objdump not found (looked beside swift, then on PATH)")
            return
        }
        let words = Self.randomWords(count: Self.sampleSize, seed: 2024)
        var bytes: [UInt8] = []
        for w in words { for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: w >> (8 * UInt32(k)))) } }
        let listing = try Toolchain.llvmDisassembly(bytes)
        // After an encoding it rejects, llvm-objdump may resume at an odd offset and lose the
        // framing for a while; only entries that start on a word boundary are words of ours.
        let aligned = listing.filter { $0.offset % 4 == 0 }
        #expect(aligned.count > words.count * 9 / 10)
        var mismatches: [String] = []
        for (offset, text) in aligned {
            let w = words[offset / 4]
            let llvmLegal = text != "<unknown>"
            let ours = Decoder.decode(w)
            let oursLegal = ours.opcode != .illegal
            if llvmLegal != oursLegal && !(oursLegal && Self.isSpecIgnoredFenceField(w)) {
                mismatches.append("@\(offset) 0x\(String(w, radix: 16)): llvm '\(text)', vmlab \(ours.opcode)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) disagreements, first: \(mismatches.prefix(20).joined(separator: "; "))")
    }

    @Test(.enabled(if: Toolchain.available, "needs clang, ld.lld, llvm-objcopy and llvm-objdump (looked beside swift, then on PATH)"))
    func decoderAgreesWithLLVMOn16BitWords() throws {
        guard Toolchain.available else {
            print("skipping: clang/llvm-objdump not found (looked beside swift, then on PATH)")
            return
        }
        var rng = SplitMix64(seed: 99)
        var halves: [UInt16] = []
        while halves.count < Self.sampleSize {
            var h = UInt16(truncatingIfNeeded: rng.next())
            if h & 3 == 3 { continue }
            if rng.next() % 4 == 0 { h &= ~(0x1f << 7) }      // rd/rs1 = 0 cases
            if rng.next() % 4 == 0 { h &= ~(0x1f << 2) }      // rs2 / imm = 0 cases
            halves.append(h)
        }
        var bytes: [UInt8] = []
        for h in halves { bytes.append(UInt8(h & 0xff)); bytes.append(UInt8(h >> 8)) }
        let listing = try Toolchain.llvmDisassembly(bytes)
        let aligned = listing.filter { $0.offset % 2 == 0 }
        #expect(aligned.count > halves.count * 9 / 10)
        var mismatches: [String] = []
        for (offset, text) in aligned {
            let h = halves[offset / 2]
            // LLVM spells the all-zero halfword "c.unimp": a name for the defined-illegal encoding.
            let llvmLegal = text != "<unknown>" && text != "c.unimp"
            let ours = Decoder.decode(UInt32(h))
            if llvmLegal != (ours.opcode != .illegal) {
                mismatches.append("0x\(String(h, radix: 16)): llvm '\(text)', vmlab \(ours.opcode)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) disagreements, first: \(mismatches.prefix(20).joined(separator: "; "))")
    }
}
