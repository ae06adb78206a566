import GuestTestSupport
import Testing
@testable import Boot

@Suite struct ImageLoadTests {
    @Test func loadsSegmentsAndZeroFillsBSS() throws {
        let ram = FakeRAM(fill: 0xaa)
        let file = try ELFFile(bytes: ELFFileTests.program().build())
        let image = try file.load(into: ram, ram: ram.region)
        #expect(image.entry == 0x8000_0004)
        #expect(ram.read(0x8000_0000, count: 8) == [0x13, 0, 0, 0, 0x6f, 0, 0, 0])
        #expect(ram.read(0x8000_1000, count: 4) == [1, 2, 3, 4])
        #expect(ram.read(0x8000_1004, count: 0x1c) == [UInt8](repeating: 0, count: 0x1c))
        #expect(ram.read(0x8000_1020, count: 1) == [0xaa])   // past memsz: untouched
        #expect(image.ranges == [MemoryRange(address: 0x8000_0000, size: 8), MemoryRange(address: 0x8000_1000, size: 0x20)])
        #expect(image.span == MemoryRange(address: 0x8000_0000, size: 0x1020))
    }

    @Test func zeroFillsLargeBSSInChunks() throws {
        var elf = ELFBuilder()
        elf.segments = [.init(physicalAddress: 0x8000_0000, data: [1], memorySize: 0x3_0001)]
        let ram = FakeRAM(fill: 0x55)
        _ = try ELFFile(bytes: elf.build()).load(into: ram, ram: ram.region)
        #expect(ram.read(0x8000_0000, count: 1) == [1])
        #expect(ram.read(0x8000_0001, count: 0x3_0000).allSatisfy { $0 == 0 })
        #expect(ram.read(0x8003_0001, count: 1) == [0x55])
    }

    @Test func refusesSegmentsOutsideRAMWithoutWritingAnything() throws {
        var elf = ELFFileTests.program()
        elf.segments.append(.init(physicalAddress: 0x8800_0000, data: [1, 2]))
        let ram = FakeRAM(size: 128 << 20)
        let file = try ELFFile(bytes: elf.build())
        #expect {
            try file.load(into: ram, ram: ram.region)
        } throws: { error in
            "\(error)" == "segment 2 at 0x88000000-0x88000001 lies outside RAM (0x80000000-0x87ffffff)"
        }
        #expect(ram.writes == 0)
    }

    @Test func refusesAnEntryOutsideTheSegments() throws {
        var elf = ELFFileTests.program()
        elf.entry = 0x8000_0800
        let ram = FakeRAM()
        let file = try ELFFile(bytes: elf.build())
        #expect(throws: ELFError.entryOutsideSegments(entry: 0x8000_0800)) { try file.load(into: ram, ram: ram.region) }
    }

    @Test func rawImageLoadsAtItsAddress() throws {
        let ram = FakeRAM()
        let image = try RawImage(bytes: [9, 8, 7]).load(at: 0x8000_0100, into: ram, ram: ram.region)
        #expect(image.entry == 0x8000_0100)
        #expect(ram.read(0x8000_0100, count: 3) == [9, 8, 7])
        #expect {
            try RawImage(bytes: [1, 2]).load(at: 0x800f_ffff, into: ram, ram: ram.region, role: "kernel")
        } throws: { error in
            "\(error)" == "kernel at 0x800fffff-0x80100000 (2 bytes) does not fit in RAM (0x80000000-0x800fffff, 1 MiB); give the machine more memory"
        }
    }

    @Test func ramRegionContainsIsOverflowSafe() {
        let ram = RAMRegion(base: 0x8000_0000, size: 0x1000)
        #expect(ram.contains(0x8000_0000, length: 0x1000))
        #expect(!ram.contains(0x8000_0001, length: 0x1000))
        #expect(!ram.contains(0x7fff_ffff, length: 1))
        #expect(!ram.contains(0x8000_0800, length: UInt64.max))
        #expect(ram.contains(0x8000_1000, length: 0))
    }
}
