import GuestTestSupport
import Foundation
import Testing
@testable import RISCV

/// Pins the disassembly of a corpus that covers every opcode (random operands, fixed seed) and a
/// set of compressed encodings, in both styles. Regenerate after an intended change with
/// `VMLAB_UPDATE_GOLDEN=1 swift test --filter GoldenDisassemblyTests`.
@Suite struct GoldenDisassemblyTests {
    static let goldenURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden/disassembly.txt")

    static func transcript() -> String {
        var lines = ["# vmlab RISCV disassembly golden file: raw bits, canonical text, alias text."]
        var rng = SplitMix64(seed: 1)
        for op in Opcode.allCases where op != .illegal {
            for _ in 0..<2 {
                let inst = InstructionGenerator.random(op, &rng)
                lines.append(line(inst))
            }
        }
        // Compressed: one of each quadrant/funct3 form, plus HINTs and reserved encodings.
        let halves: [UInt32] = [0x0040, 0x2008, 0x4008, 0x6008, 0xa008, 0xc008, 0xe008, 0x0001, 0x0505, 0x2505,
                                0x4515, 0x6141, 0x757d, 0x8105, 0x8505, 0x897d, 0x8d0d, 0x8d2d, 0x8d4d, 0x8d6d,
                                0x9d0d, 0x9d2d, 0xbff5, 0xc101, 0xe101, 0x050a, 0x2502, 0x4502, 0x6502, 0x8502,
                                0x852e, 0x9002, 0x9502, 0x952e, 0xa02a, 0xc02a, 0xe02a, 0x000d, 0x0000, 0x6101,
                                0x8000, 0x4002, 0x8002, 0x9c41]
        for h in halves { lines.append(line(Decoder.decode(h))) }
        // Illegal 32-bit words print as data.
        for w: UInt32 in [0xffff_ffff, 0x0000_7003, 0x02c5_d553] { lines.append(line(Decoder.decode(w))) }
        return lines.joined(separator: "\n") + "\n"
    }

    static func line(_ inst: Instruction) -> String {
        let width = inst.length == 2 ? 4 : 8
        let hex = String(inst.raw, radix: 16)
        let raw = String(repeating: "0", count: max(0, width - hex.count)) + hex
        let canonical = Disassembler.disassemble(inst)
        let alias = Disassembler.disassemble(inst, style: .aliases)
        let head = raw.padding(toLength: 10, withPad: " ", startingAt: 0)
        if alias == canonical { return head + canonical }
        return head + canonical.padding(toLength: 44, withPad: " ", startingAt: 0) + "| " + alias
    }

    @Test func disassemblyMatchesGolden() throws {
        let text = Self.transcript()
        if ProcessInfo.processInfo.environment["VMLAB_UPDATE_GOLDEN"] != nil {
            try text.write(to: Self.goldenURL, atomically: true, encoding: .utf8)
            return
        }
        let golden = try String(contentsOf: Self.goldenURL, encoding: .utf8)
        let a = text.split(separator: "\n", omittingEmptySubsequences: false)
        let b = golden.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(a.count == b.count, "line count \(a.count) vs golden \(b.count)")
        for (k, (x, y)) in zip(a, b).enumerated() where x != y {
            Issue.record("line \(k + 1): got '\(x)', golden '\(y)'")
            return
        }
    }
}
