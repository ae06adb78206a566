// A 64-bit hash of a byte sequence, to tell contents apart: FNV-1a's mixing over the bytes taken
// eight at a time (little-endian, the last word padded with zeros and mixed with the length). Fed
// in pieces of any size, it gives what it gives the whole. A snapshot file's checksum is one, and
// so is the record of the disk images it was saved with. It finds a damaged file or another
// image; it is no defence against contents made to pass it.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public struct ContentHash {
    private static let prime: UInt64 = 0x100_0000_01b3
    private var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    private var count: UInt64 = 0
    /// The bytes of the word not complete yet, little-endian.
    private var partial: UInt64 = 0

    public init() {}

    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        // Complete the word a previous piece began, byte by byte.
        while count % 8 != 0 && i < bytes.count {
            partial |= UInt64(bytes[i]) << (8 * (count % 8))
            i += 1
            count += 1
            if count % 8 == 0 {
                hash = (hash ^ partial) &* Self.prime
                partial = 0
            }
        }
        let words = (bytes.count - i) / 8
        for w in 0..<words {
            hash = (hash ^ bytes.loadUnaligned(fromByteOffset: i + w * 8, as: UInt64.self).littleEndian) &* Self.prime
        }
        i += words * 8
        count += UInt64(words * 8)
        while i < bytes.count {
            partial |= UInt64(bytes[i]) << (8 * (count % 8))
            i += 1
            count += 1
        }
    }

    /// The hash of everything added so far.
    public var value: UInt64 { (hash ^ partial ^ count) &* Self.prime }

    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = ContentHash()
        h.add(bytes)
        return h.value
    }

    public static func of(_ bytes: ArraySlice<UInt8>) -> UInt64 { bytes.withUnsafeBytes { of($0) } }
}

extension HostFile {
    /// The `ContentHash` of the file at `path`, read a piece at a time (a disk image need not fit
    /// in memory); `role` goes into the error message, as for `read`. It must be a regular file.
    public static func contentHash(_ path: String, role: String) throws(BootError) -> UInt64 {
        let fd = try openRegular(path, role: role).fd
        defer { close(fd) }
        var hash = ContentHash()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try readChunk(fd, into: &chunk, count: chunk.count, role: role, path: path)
            if n == 0 { return hash.value }
            chunk.withUnsafeBytes { hash.add(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
    }
}
