import Testing
@testable import Boot

/// The generic FDT writer and parser, checked against the DTSpec v0.4 layout byte by byte.
@Suite struct DeviceTreeTests {
    static func be32(_ blob: [UInt8], _ offset: Int) -> UInt32 {
        blob[offset..<(offset + 4)].reduce(0) { ($0 << 8) | UInt32($1) }
    }

    static let sample = DeviceTree(root: FDTNode("", [
        .u32("#address-cells", 2),
        .string("compatible", "vmlab,test"),
    ], children: [
        FDTNode("node@1000", [.reg64("reg", [(0x1000, 0x100)]), .empty("flag"), .strings("compatible", ["a", "bc"])]),
        FDTNode("empty"),
    ]), reservations: [FDTReservation(address: 0x8000_0000, size: 0x20_0000)], bootCPU: 3)

    @Test func headerFollowsDTSpec() {
        let blob = Self.sample.flattened()
        #expect(Self.be32(blob, 0) == 0xd00d_feed)
        #expect(Int(Self.be32(blob, 4)) == blob.count)            // totalsize
        #expect(Self.be32(blob, 16) == 40)                        // reservation block right after header
        #expect(Self.be32(blob, 8) == 40 + 2 * 16)                // one entry plus the terminator
        #expect(Self.be32(blob, 20) == 17)
        #expect(Self.be32(blob, 24) == 16)
        #expect(Self.be32(blob, 28) == 3)                         // boot_cpuid_phys
        let structOffset = Int(Self.be32(blob, 8)), structSize = Int(Self.be32(blob, 36))
        let stringsOffset = Int(Self.be32(blob, 12)), stringsSize = Int(Self.be32(blob, 32))
        #expect(structOffset + structSize == stringsOffset)
        #expect(stringsOffset + stringsSize == blob.count)
        #expect(Self.be32(blob, structOffset) == 1)                   // FDT_BEGIN_NODE (root)
        #expect(Self.be32(blob, structOffset + structSize - 4) == 9)  // FDT_END
        // "compatible" is used twice but stored once.
        let strings = String(decoding: blob[stringsOffset...], as: UTF8.self)
        #expect(strings.components(separatedBy: "compatible").count == 2)
    }

    @Test func reservationBlockHoldsEntriesThenZeroPair() {
        let blob = Self.sample.flattened()
        #expect(Array(blob[40..<56]) == [0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0])
        #expect(blob[56..<72].allSatisfy { $0 == 0 })
    }

    @Test func parsingInvertsWriting() throws {
        let parsed = try DeviceTree(flattened: Self.sample.flattened())
        #expect(parsed == Self.sample)
        #expect(parsed.root.node(at: "/node@1000")?.property("compatible")?.stringValues == ["a", "bc"])
        #expect(parsed.root.node(at: "/node@1000")?.property("reg")?.cellValues == [0, 0x1000, 0, 0x100])
    }

    @Test func parserRejectsMalformedBlobs() {
        let good = Self.sample.flattened()
        func error(_ blob: [UInt8]) -> String? {
            do { _ = try DeviceTree(flattened: blob); return nil } catch { return error.description }
        }
        #expect(error(Array(good[0..<20])) == "blob is shorter than an FDT header")
        var bad = good
        bad[0] = 0
        #expect(error(bad) == "bad FDT magic 0xdfeed")
        bad = good
        bad[7] = bad[7] &+ 1   // totalsize one more than the blob
        #expect(error(bad)?.hasPrefix("totalsize") == true)
        #expect(error(Array(good.dropLast(8)))?.hasPrefix("totalsize") == true)
        // Every corruption and truncation ends in an error or a tree, never a crash.
        for index in 0..<good.count {
            for value: UInt8 in [0, 0xff, 3] {
                var corrupt = good
                corrupt[index] = value
                _ = try? DeviceTree(flattened: corrupt)
            }
        }
    }
}
