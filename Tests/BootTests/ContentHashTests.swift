import Foundation
import GuestTestSupport
import Testing
@testable import Boot

/// `ContentHash`: fed in pieces of any size it gives what it gives the whole, and that is the
/// word-at-a-time mixing written out plainly here; `HostFile.contentHash` reads a file in pieces
/// to the same value.
struct ContentHashTests {
    /// The definition, on the whole sequence at once.
    static func reference(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var word: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            word |= UInt64(b) << (8 * UInt64(i % 8))
            if i % 8 == 7 {
                hash = (hash ^ word) &* 0x100_0000_01b3
                word = 0
            }
        }
        return (hash ^ word ^ UInt64(bytes.count)) &* 0x100_0000_01b3
    }

    @Test func piecesOfAnySizeHashAsTheWhole() {
        var rng = SplitMix64(seed: 7)
        var mismatches = 0
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let expected = Self.reference(bytes)
            if ContentHash.of(bytes[...]) != expected { mismatches += 1 }
            // The same bytes cut at random places.
            var hash = ContentHash()
            var at = 0
            while at < length {
                let n = Int.random(in: 0...min(19, length - at), using: &rng)
                bytes[at..<(at + n)].withUnsafeBytes { hash.add($0) }
                at += n
            }
            if hash.value != expected { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(ContentHash.of([UInt8]()[...]) != ContentHash.of([UInt8](repeating: 0, count: 8)[...]), "the length counts")
        #expect(ContentHash.of([1, 0][...]) != ContentHash.of([0, 1][...]))
    }

    @Test func aFileHashesAsItsBytes() throws {
        // Past the 1 MiB read size, and not a whole number of words.
        let bytes = (0..<((1 << 20) + 13)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }
        let path = NSTemporaryDirectory() + "content-hash-\(getpid()).img"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try HostFile.contentHash(path, role: "disk image") == Self.reference(bytes))
        #expect(throws: BootError.notRegularFile(role: "disk image", path: "/tmp", kind: "a directory")) {
            try HostFile.contentHash("/tmp", role: "disk image")
        }
        #expect(throws: BootError.missingFile(role: "disk image", path: "/no/such/image")) {
            try HostFile.contentHash("/no/such/image", role: "disk image")
        }
    }
}
