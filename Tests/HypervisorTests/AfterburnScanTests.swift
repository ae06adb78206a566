import Boot
import Foundation
import GuestTestSupport
import Machine
import RISCV
import Testing
@testable import Hypervisor

/// The afterburner's load-time half on its own: patch words, the linear sweep, the kernel text of
/// an ELF, and patching tinyos's text (the classification here is the opcode list of the
/// sensitive instructions; AfterburnTechniqueTests checks the translator's own).
@Suite struct AfterburnScanTests {
    /// The sensitive opcodes of RV64 without the H extension (SensitiveInstruction.swift) plus
    /// ecall, a kernel's SBI call.
    static let sensitive: Set<Opcode> = [.csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci, .sret, .mret, .wfi, .sfence_vma, .ecall]
    static func classify(_ i: Instruction) -> String? { sensitive.contains(i.opcode) ? "\(i.opcode)" : nil }

    @Test func patchWordsAreCustom0AndNameTheirSite() {
        for index in [0, 1, 77, AfterburnerPatchWord.capacity - 1] {
            let word = AfterburnerPatchWord.encode(index)
            #expect(word & 0x7f == 0b000_1011)
            let decoded = Decoder.decode(word)
            // No standard instruction lives in custom-0: it decodes as illegal, 4 bytes.
            #expect(decoded.opcode == .illegal && decoded.length == 4 && decoded.raw == word)
            #expect(AfterburnerPatchWord.index(of: decoded) == index)
        }
        #expect(AfterburnerPatchWord.index(of: Decoder.decode(0x0000_0013)) == nil)   // nop
        #expect(AfterburnerPatchWord.index(of: Decoder.decodeCompressed(0x0000)) == nil)
    }

    @Test func linearSweepStepsByEncodedLength() throws {
        let bytes = try Assembler.bytes("""
            c.addi a0, 1
            csrr a0, sscratch
            c.nop
            sret
            addi a1, a1, 2
        """)
        var steps: [SweptInstruction] = []
        let n = LinearSweep.sweep(bytes + [0x01], base: 0x8020_0000) { steps.append($0) }   // a trailing odd byte is skipped
        #expect(n == 5)
        #expect(steps.map(\.physical) == [0x8020_0000, 0x8020_0002, 0x8020_0006, 0x8020_0008, 0x8020_000c])
        #expect(steps.map(\.instruction.opcode) == [.addi, .csrrs, .addi, .sret, .addi])
    }

    static func tinyosBoard() throws -> (VirtBoard, path: String)? {
        guard let kernel = Guests.path("tinyos", "tinyos.elf") else { return nil }
        var c = VirtBoardConfiguration()
        c.memory = 32 << 20
        c.kernel = .file(kernel)
        return (try VirtBoard(c), kernel)
    }

    /// Sensitive instructions of the executable segments of the ELF file at `path`, decoded
    /// straight from the file's bytes: what the afterburner must find.
    static func sensitiveInFile(_ path: String) throws -> [UInt64: UInt32] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let file = try ELFFile(bytes: bytes)
        var found: [UInt64: UInt32] = [:]
        for s in file.segments where s.flags & 1 != 0 {
            var o = 0
            while o + 2 <= Int(s.fileSize) {
                let at = Int(s.fileOffset) + o
                let half = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8
                if half & 3 != 3 { o += 2; continue }   // no sensitive instruction is compressed
                let word = half | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
                if sensitive.contains(Decoder.decode(word).opcode) { found[s.physicalAddress + UInt64(o)] = word }
                o += 4
            }
        }
        return found
    }

    @Test func patchesEverySensitiveInstructionOfTinyos() throws {
        guard let (board, path) = try Self.tinyosBoard() else { return }
        let machine = board.machine
        let text = AfterburnerText.of(board, in: machine)
        #expect(text.notes.isEmpty)
        #expect(text.ranges.count == 1 && text.ranges[0].address == 0x8020_0000)
        let expected = try Self.sensitiveInFile(path)
        #expect(expected.count > 20)

        let burner = Afterburner(text: text, in: machine, classify: Self.classify)
        #expect(burner.report.sitesPatched == 0)
        burner.patch(machine)
        let report = burner.report
        #expect(report.sitesPatched == UInt64(expected.count))
        #expect(report.unpatched == 0)
        #expect(report.sitesByKind.values.reduce(0, +) == report.sitesPatched)
        #expect(report.scannedInstructions > report.sitesPatched * 10)
        #expect(Dictionary(uniqueKeysWithValues: burner.sites.map { ($0.physical, $0.original.raw) }) == expected)

        for (index, site) in burner.sites.enumerated() {
            let bytes = try #require(machine.readPhysical(at: site.physical, count: 4))
            let word = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
            #expect(word == AfterburnerPatchWord.encode(index))
            #expect(burner.rewrite(Decoder.decode(word), physical: site.physical) == .callout(Afterburner.calloutTag | UInt32(index)))
        }
        // Everything but the patch sites is as loaded.
        let range = text.ranges[0]
        let file = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let elf = try ELFFile(bytes: file)
        let segment = try #require(elf.segments.first { $0.isExecutable })
        let now = try #require(machine.readPhysical(at: range.address, count: Int(range.size)))
        var differing = 0
        for o in 0..<now.count where now[o] != file[Int(segment.fileOffset) + o] { differing += 1 }
        #expect(differing > 0 && differing <= 4 * expected.count)
    }

    /// The scan works from the bytes the board read at boot: the file is not read a second time,
    /// so it may be gone (or have changed) by then.
    @Test func scansTheKernelAsItWasReadAtBoot() throws {
        guard let kernel = Guests.path("tinyos", "tinyos.elf") else { return }
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("afterburn-\(getpid()).elf").path
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: kernel, toPath: copy)
        var c = VirtBoardConfiguration()
        c.memory = 32 << 20
        c.kernel = .file(copy)
        let board = try VirtBoard(c)
        try FileManager.default.removeItem(atPath: copy)
        let text = AfterburnerText.of(board, in: board.machine)
        #expect(text.notes.isEmpty)
        #expect(text.ranges.count == 1 && text.ranges[0].address == 0x8020_0000)
    }

    @Test func foreignPatchWordsAreLeftAlone() throws {
        guard let (board, _) = try Self.tinyosBoard() else { return }
        let burner = Afterburner(text: AfterburnerText.of(board, in: board.machine), in: board.machine, classify: Self.classify)
        burner.patch(board.machine)
        let site = burner.sites[3]
        // A site's own word elsewhere, another site's word here, and an index past the table.
        #expect(burner.rewrite(Decoder.decode(AfterburnerPatchWord.encode(3)), physical: site.physical + 4) == .keep)
        #expect(burner.rewrite(Decoder.decode(AfterburnerPatchWord.encode(4)), physical: site.physical) == .keep)
        #expect(burner.rewrite(Decoder.decode(0xffff_ff8b), physical: site.physical) == .keep)
        #expect(burner.counters.foreignPatchWords == 3)
        // The original instruction at its address is not a patch word: runs as decoded (it traps).
        #expect(burner.rewrite(site.original, physical: site.physical) == .keep)
        #expect(burner.counterGroups["afterburn"]?["foreign_patch_words"] == 3)
    }

    @Test func aRawKernelImageIsNotScanned() throws {
        var c = VirtBoardConfiguration()
        c.memory = 4 << 20
        c.kernel = .bytes(try Assembler.bytes("csrr a0, sscratch\n1: j 1b"), name: "raw")
        let board = try VirtBoard(c)
        let text = AfterburnerText.of(board, in: board.machine)
        #expect(text.ranges.isEmpty && text.notes.count == 1)
        let burner = Afterburner(text: text, in: board.machine, classify: Self.classify)
        burner.patch(board.machine)
        #expect(burner.report.sitesPatched == 0 && burner.report.scannedInstructions == 0)
    }
}
