import Foundation
import GuestTestSupport
import Testing
@testable import Boot

@Suite struct ELFFileTests {
    /// The text, data and bss of a typical bare-metal program at the RAM base.
    static func program() -> ELFBuilder {
        var elf = ELFBuilder()
        elf.segments = [
            .init(physicalAddress: 0x8000_0000, data: [0x13, 0, 0, 0, 0x6f, 0, 0, 0], flags: 5),
            .init(physicalAddress: 0x8000_1000, data: [1, 2, 3, 4], memorySize: 0x20, flags: 6),
        ]
        elf.entry = 0x8000_0004
        elf.symbols = [("tohost", 0x8000_1000, true), ("fromhost", 0x8000_1008, true), ("helper", 0x8000_0000, false)]
        return elf
    }

    @Test func parsesSegmentsEntryAndSymbols() throws {
        let file = try ELFFile(bytes: Self.program().build())
        #expect(file.type == .executable)
        #expect(file.entry == 0x8000_0004)
        #expect(file.segments.count == 2)
        #expect(file.segments[1].physicalAddress == 0x8000_1000)
        #expect(file.segments[1].fileSize == 4)
        #expect(file.segments[1].memorySize == 0x20)
        #expect(file.address(of: "tohost") == 0x8000_1000)
        #expect(file.address(of: "fromhost") == 0x8000_1008)
        #expect(file.symbol(named: "helper")?.binding == .local)
        #expect(file.address(of: "missing") == nil)
        #expect(try file.physicalEntry() == 0x8000_0004)
    }

    @Test func globalSymbolWinsOverLocalOfTheSameName() throws {
        var elf = Self.program()
        elf.symbols = [("tohost", 0x8000_0100, false), ("tohost", 0x8000_1000, true)]
        #expect(try ELFFile(bytes: elf.build()).address(of: "tohost") == 0x8000_1000)
    }

    @Test func entryIsTranslatedThroughItsSegment() throws {
        var elf = ELFBuilder()
        elf.segments = [.init(physicalAddress: 0x8020_0000, virtualAddress: 0xffff_ffff_8000_0000, data: [0, 0, 0, 0])]
        elf.entry = 0xffff_ffff_8000_0000
        #expect(try ELFFile(bytes: elf.build()).physicalEntry() == 0x8020_0000)
    }

    @Test func acceptsPositionIndependentExecutables() throws {
        var elf = Self.program()
        elf.type = 3
        #expect(try ELFFile(bytes: elf.build()).type == .sharedObject)
    }

    // MARK: malformed images: each names its problem

    static func message(_ bytes: [UInt8]) -> String? {
        do {
            _ = try ELFFile(bytes: bytes)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func rejectsNonELF() {
        #expect(Self.message(Array("#!/bin/sh\necho hi\n".utf8)) == "not an ELF file")
        #expect(Self.message([]) == "not an ELF file")
        #expect(Self.message([0x7f, 0x45, 0x4c]) == "not an ELF file")
    }

    @Test func rejectsTruncatedHeader() {
        let bytes = Array(Self.program().build()[0..<40])
        #expect(Self.message(bytes) == "ELF header is truncated (file has 40 bytes, the header needs 64)")
    }

    @Test func rejects32BitBigEndianAndOtherMachines() {
        var elf = Self.program()
        elf.elfClass = 1
        #expect(Self.message(elf.build()) == "ELF class 32 is not supported (vmlab runs RV64)")
        elf = Self.program()
        elf.byteOrder = 2
        #expect(Self.message(elf.build()) == "big-endian ELF is not supported (RISC-V is little-endian)")
        elf = Self.program()
        elf.machine = 62
        #expect(Self.message(elf.build()) == "ELF machine 62 is not RISC-V (243)")
        elf = Self.program()
        elf.type = 1
        #expect(Self.message(elf.build()) == "ELF type ET_REL (an object file, not linked) cannot be loaded (expected an executable)")
    }

    @Test func rejectsSegmentPastEndOfFile() {
        var elf = Self.program()
        elf.segments.append(.init(physicalAddress: 0x8000_2000, data: [9], fileOffset: 0x10_0000))
        #expect(Self.message(elf.build()) == "segment 2 extends past end of file")
        elf = Self.program()
        elf.segments[0].fileSize = 0xffff_ffff_ffff_fff0   // offset + size wraps
        elf.segments[0].memorySize = 0xffff_ffff_ffff_fff0
        #expect(Self.message(elf.build()) == "segment 0 extends past end of file")
    }

    @Test func rejectsFileSizeLargerThanMemorySize() {
        var elf = Self.program()
        elf.segments[1].memorySize = 2
        #expect(Self.message(elf.build()) == "segment 1 has file size 0x4 larger than its memory size 0x2")
    }

    @Test func rejectsOverlappingSegments() {
        var elf = Self.program()
        elf.segments.append(.init(physicalAddress: 0x8000_1010, data: [1]))
        #expect(Self.message(elf.build()) == "segments 1 and 2 overlap")
    }

    @Test func rejectsWrappingSegments() {
        var elf = Self.program()
        elf.segments[1].physicalAddress = 0xffff_ffff_ffff_fff0
        #expect(Self.message(elf.build()) == "segment 1 wraps around the end of the address space")
    }

    @Test func rejectsImagesWithoutLoadableSegments() {
        var elf = Self.program()
        elf.segments = [.init(type: 4, physicalAddress: 0, data: [1, 2])]   // PT_NOTE only
        #expect(Self.message(elf.build()) == "ELF file has no loadable segments")
    }

    @Test func rejectsProgramHeaderTablePastEnd() {
        var bytes = Self.program().build()
        bytes.replaceSubrange(32..<40, with: [0, 0, 0, 0, 1, 0, 0, 0])   // e_phoff = 2^32
        #expect(Self.message(bytes) == "ELF program header table extends past end of file")
        bytes = Self.program().build()
        bytes.replaceSubrange(54..<56, with: [16, 0])
        #expect(Self.message(bytes) == "ELF program header entry size 16 is too small (expected 56)")
    }

    @Test func rejectsBrokenSymbolTables() {
        var bytes = Self.program().build()
        let shoff = Int(bytes[40..<48].reversed().reduce(UInt64(0)) { ($0 << 8) | UInt64($1) })
        // Point .symtab's sh_link at itself: not a string table.
        bytes[shoff + 64 + 40] = 1
        #expect(Self.message(bytes) == "section 1 links to section 1, which is not a string table")
        bytes = Self.program().build()
        bytes.replaceSubrange((shoff + 64 + 24)..<(shoff + 64 + 32), with: [0, 0, 0, 0, 0, 0, 0, 0x7f])
        #expect(Self.message(bytes) == "section 1 extends past end of file")
        bytes = Self.program().build()
        bytes.replaceSubrange(40..<48, with: [0xf0, 0xff, 0xff, 0xff, 0, 0, 0, 0])
        #expect(Self.message(bytes) == "ELF section header table extends past end of file")
    }

    /// Every single-byte corruption of the header and tables must give an error or a valid file.
    @Test func survivesCorruptionOfEveryHeaderByte() {
        let good = Self.program().build()
        for index in 0..<min(good.count, 400) {
            for value: UInt8 in [0x00, 0xff, 0x80] {
                var bytes = good
                bytes[index] = value
                _ = try? ELFFile(bytes: bytes)
            }
        }
        for length in 0..<good.count { _ = try? ELFFile(bytes: Array(good[0..<length])) }
    }

    @Test func parsesDebianOpenSBIWhenInstalled() throws {
        let path = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipping: \(path) not installed (apt install opensbi)")
            return
        }
        let file = try ELFFile(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(file.entry == 0x8000_0000)
        #expect(file.segments.count == 1)
        #expect(file.segments[0].physicalAddress == 0x8000_0000)
        #expect(file.segments[0].memorySize > file.segments[0].fileSize)   // it has a .bss
    }
}
