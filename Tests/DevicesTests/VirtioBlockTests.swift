import Foundation
import Testing
import Machine
@testable import Devices

@Suite struct VirtioBlockTests {
    let ram = FakeRAM()

    /// A fixture image: sector n is filled with byte n.
    static func fixture(sectors: Int = 16) -> [UInt8] {
        (0..<sectors).flatMap { [UInt8](repeating: UInt8($0), count: 512) }
    }

    func withImageFile(_ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("vmlab-blk-\(UInt64.random(in: 0...UInt64.max)).img").path
        try Data(Self.fixture()).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    func header(_ type: UInt32, sector: UInt64) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 16)
        for i in 0..<4 { h[i] = UInt8(truncatingIfNeeded: type >> UInt32(8 * i)) }
        for i in 0..<8 { h[8 + i] = UInt8(truncatingIfNeeded: sector >> UInt64(8 * i)) }
        return h
    }

    func start(_ image: BlockImage) -> VirtioTestDriver {
        let t = VirtioMMIO(backend: VirtioBlock(image: image), memory: ram)
        let d = VirtioTestDriver(t, ram: ram)
        let s = d.initialize(queueSizes: [16])
        #expect(s & VirtioStatus.driverOK != 0)
        return d
    }

    /// Reads `count` sectors; returns (data, status).
    func read(_ d: VirtioTestDriver, sector: UInt64, count: Int, indirect: Bool = false) -> ([UInt8], UInt8) {
        let (_, bufs) = d.submit(0, out: [header(0, sector: sector)], inLengths: [512 * count, 1], indirect: indirect)
        d.notify(0)
        let used = d.takeUsed(0)
        #expect(used.count == 1)
        return (ram.load(bufs[0], 512 * count), ram.load(bufs[1], 1)[0])
    }

    func write(_ d: VirtioTestDriver, sector: UInt64, data: [UInt8]) -> UInt8 {
        let (_, bufs) = d.submit(0, out: [header(1, sector: sector), data], inLengths: [1])
        d.notify(0)
        #expect(d.takeUsed(0).count == 1)
        return ram.load(bufs[0], 1)[0]
    }

    @Test func configAndFeatures() {
        let d = start(BlockImage(bytes: Self.fixture(), mode: .readOnly))
        #expect(d.config(0, 8) == 16)                     // capacity in sectors
        #expect(d.config(0, 4) == 16 && d.config(4, 4) == 0)
        #expect(d.config(0x14, 4) == 512)
        #expect(d.deviceFeatures & (1 << 5) != 0)         // VIRTIO_BLK_F_RO
        let rw = VirtioTestDriver(VirtioMMIO(backend: VirtioBlock(image: BlockImage(bytes: [], mode: .writable)), memory: ram), ram: ram)
        #expect(rw.deviceFeatures & (1 << 5) == 0)
    }

    @Test func readWithDirectAndIndirectChains() {
        let d = start(BlockImage(bytes: Self.fixture(), mode: .readOnly))
        let (data, status) = read(d, sector: 3, count: 2)
        #expect(status == 0)
        #expect(data == [UInt8](repeating: 3, count: 512) + [UInt8](repeating: 4, count: 512))
        let (data2, status2) = read(d, sector: 15, count: 1, indirect: true)
        #expect(status2 == 0 && data2 == [UInt8](repeating: 15, count: 512))
        let (_, past) = read(d, sector: 15, count: 2)     // past the end
        #expect(past == 1)
        #expect(d.dev.counters.bytesToGuest == 1536)
    }

    @Test func readOnlyFileIsNeverModified() throws {
        try withImageFile { path in
            let d = start(try BlockImage(path: path, mode: .readOnly))
            #expect(write(d, sector: 2, data: [UInt8](repeating: 0xAA, count: 512)) == 1)   // IOERR
            #expect(read(d, sector: 2, count: 1).0 == [UInt8](repeating: 2, count: 512))
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(Self.fixture()))
        }
    }

    @Test func copyOnWriteKeepsTheFileAndShowsTheWrite() throws {
        try withImageFile { path in
            let image = try BlockImage(path: path, mode: .copyOnWrite)
            let d = start(image)
            #expect(write(d, sector: 2, data: [UInt8](repeating: 0xAA, count: 1024)) == 0)
            #expect(read(d, sector: 1, count: 3).0 == [UInt8](repeating: 1, count: 512) + [UInt8](repeating: 0xAA, count: 1024))
            #expect(image.overlaySectorCount == 2)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(Self.fixture()))
        }
    }

    @Test func writableFileIsChanged() throws {
        try withImageFile { path in
            let d = start(try BlockImage(path: path, mode: .writable))
            #expect(write(d, sector: 5, data: [UInt8](repeating: 0x5A, count: 512)) == 0)
            // flush
            let (_, bufs) = d.submit(0, out: [header(4, sector: 0)], inLengths: [1])
            d.notify(0)
            #expect(d.takeUsed(0).count == 1 && ram.load(bufs[0], 1) == [0])
            var expected = Self.fixture()
            expected.replaceSubrange(2560..<3072, with: [UInt8](repeating: 0x5A, count: 512))
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(expected))
        }
    }

    @Test func getIDUnsupportedAndBadLengths() {
        let d = start(BlockImage(bytes: Self.fixture(), mode: .copyOnWrite))
        let (_, bufs) = d.submit(0, out: [header(8, sector: 0)], inLengths: [20, 1])
        d.notify(0)
        #expect(d.takeUsed(0).first?.length == 21)
        #expect(String(decoding: ram.load(bufs[0], 10), as: UTF8.self) == "vmlab-disk")
        #expect(ram.load(bufs[1], 1) == [0])
        let (_, b2) = d.submit(0, out: [header(99, sector: 0)], inLengths: [1])
        d.notify(0)
        _ = d.takeUsed(0)
        #expect(ram.load(b2[0], 1) == [2])                 // UNSUPP
        #expect(write(d, sector: 0, data: [1, 2, 3]) == 1) // not a whole sector: IOERR
        #expect(BlockImage(bytes: Self.fixture(), mode: .readOnly).read(sector: 16, count: 1) == nil)   // past the end
    }

    @Test func missingFileIsAnError() {
        #expect(throws: BlockImage.OpenError.self) { try BlockImage(path: "/nonexistent/vmlab.img", mode: .readOnly) }
    }

    /// Only a regular file is an image: a directory opened read-only seemed to hold 2^54-1 sectors.
    @Test func anImageMustBeARegularFile() {
        let folder = FileManager.default.temporaryDirectory.path
        for mode in [BlockImage.Mode.readOnly, .copyOnWrite, .writable] {
            #expect(throws: BlockImage.OpenError.notRegularFile(path: folder, kind: "a directory")) { try BlockImage(path: folder, mode: mode) }
        }
        #expect(throws: BlockImage.OpenError.notRegularFile(path: "/dev/zero", kind: "a character device")) {
            try BlockImage(path: "/dev/zero", mode: .readOnly)
        }
        #expect(BlockImage.OpenError.notRegularFile(path: folder, kind: "a directory").description == "disk image '\(folder)' is a directory")
    }

    /// A file with a partial last sector is refused, in every mode, naming its size: it was cut to
    /// whole sectors, and the guest never saw its tail.
    @Test func anImageFileMustBeWholeSectors() throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("vmlab-blk-\(UInt64.random(in: 0...UInt64.max)).img").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(Self.fixture() + [1, 2, 3]).write(to: URL(fileURLWithPath: path))
        for mode in [BlockImage.Mode.readOnly, .copyOnWrite, .writable] {
            #expect(throws: BlockImage.OpenError.partialSector(path: path, size: 8195)) { try BlockImage(path: path, mode: mode) }
        }
        #expect(BlockImage.OpenError.partialSector(path: path, size: 8195).description
                == "disk image '\(path)' is 8195 bytes, not a whole number of 512-byte sectors: virtio-blk reads and writes whole sectors, so its last 3 bytes would be out of the guest's reach (pad it to 8704 bytes, e.g. truncate -s 8704 '\(path)')")
    }
}
