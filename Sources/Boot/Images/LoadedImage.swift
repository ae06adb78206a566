// What loading an image left in guest memory: where each piece went and where execution starts.
// The board uses the ranges to check that firmware, kernel, initrd and device tree do not collide.
import Machine

/// A range of guest physical memory, `[address, address + size)`.
public struct MemoryRange: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let address: UInt64
    public let size: UInt64

    public init(address: UInt64, size: UInt64) {
        self.address = address
        self.size = size
    }

    /// One past the last byte (images are checked against RAM first, so this does not overflow).
    public var end: UInt64 { address &+ size }

    public func overlaps(_ other: MemoryRange) -> Bool {
        size > 0 && other.size > 0 && address < other.end && other.address < end
    }

    public var description: String { BootError.range(address, size) }
}

/// An image placed in guest memory.
public struct LoadedImage: Equatable, Sendable {
    /// Physical address of the first instruction.
    public let entry: UInt64
    /// The ranges written, in load order (one per ELF segment; one for a raw image).
    public let ranges: [MemoryRange]

    public init(entry: UInt64, ranges: [MemoryRange]) {
        self.entry = entry
        self.ranges = ranges
    }

    /// The lowest and one-past-highest byte the image occupies.
    public var span: MemoryRange {
        let low = ranges.map(\.address).min() ?? entry
        let high = ranges.map(\.end).max() ?? entry
        return MemoryRange(address: low, size: high - low)
    }
}

/// Writes into guest RAM through the machine's DMA port, which keeps instruction caches, translated
/// blocks and reservations coherent with what was written.
enum GuestMemoryWriter {
    /// Chunk size for zero-filling, so a large `.bss` does not need one large host buffer.
    static let zeroChunk = 64 * 1024

    static func write(_ bytes: ArraySlice<UInt8>, at address: UInt64, into memory: any DMAMemory) throws(BootError) {
        guard !bytes.isEmpty else { return }
        let ok = bytes.withUnsafeBytes { memory.dmaWrite(address, from: $0) }
        guard ok else { throw .memoryWriteFailed(address: address, size: UInt64(bytes.count)) }
    }

    static func zero(_ length: UInt64, at address: UInt64, into memory: any DMAMemory) throws(BootError) {
        let zeros = [UInt8](repeating: 0, count: zeroChunk)
        var done: UInt64 = 0
        while done < length {
            let chunk = Int(min(UInt64(zeroChunk), length - done))
            try write(zeros[0..<chunk], at: address + done, into: memory)
            done += UInt64(chunk)
        }
    }
}

/// A flat binary copied byte for byte to a chosen address (QEMU's `-kernel Image`, `-device loader`).
public struct RawImage: Sendable {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Copies the image to `address`, which must leave it wholly inside `ram`; the entry point is
    /// the first byte.
    public func load(at address: UInt64, into memory: any DMAMemory, ram: RAMRegion,
                     role: String = "image") throws(BootError) -> LoadedImage {
        let size = UInt64(bytes.count)
        guard ram.contains(address, length: size) else {
            throw .doesNotFit(role: role, address: address, size: size, ram: ram)
        }
        try GuestMemoryWriter.write(bytes[...], at: address, into: memory)
        return LoadedImage(entry: address, ranges: [MemoryRange(address: address, size: size)])
    }
}
