// A descriptor chain taken from a split virtqueue (§2.7.5): the driver's buffers for one request,
// readable ones (device reads) before writable ones (device writes). The chain only records guest
// addresses; bytes move through DMAMemory when a device reads or writes, so a chain pointing outside
// RAM fails at that moment as a ring error, not a host crash.

import Machine

public struct DescriptorChain: Sendable {
    /// One guest buffer.
    public struct Segment: Sendable, Equatable {
        public let address: UInt64
        public let length: UInt32
    }

    /// The queue it came from and the head index to return in the used ring.
    public let queue: Int
    public let head: UInt16
    public internal(set) var readable: [Segment] = []
    public internal(set) var writable: [Segment] = []

    public var readableLength: Int { readable.reduce(0) { $0 + Int($1.length) } }
    public var writableLength: Int { writable.reduce(0) { $0 + Int($1.length) } }

    init(queue: Int, head: UInt16) {
        self.queue = queue
        self.head = head
    }

    /// Gathers `count` readable bytes starting `offset` bytes into the readable part (fewer if the
    /// chain is shorter).
    public func read(_ memory: any DMAMemory, offset: Int = 0, count: Int? = nil) throws(VirtioRingError) -> [UInt8] {
        let total = readableLength
        let start = min(offset, total)
        let n = min(count ?? (total - start), total - start)
        var out = [UInt8](repeating: 0, count: n)
        var skip = start
        var filled = 0
        for seg in readable where filled < n {
            let len = Int(seg.length)
            if skip >= len { skip -= len; continue }
            let take = min(len - skip, n - filled)
            let address = seg.address &+ UInt64(skip)
            let ok = out.withUnsafeMutableBytes { buf in
                memory.dmaRead(address, into: UnsafeMutableRawBufferPointer(rebasing: buf[filled..<(filled + take)]))
            }
            guard ok else { throw .notRAM(address: address, length: UInt64(take)) }
            filled += take
            skip = 0
        }
        return out
    }

    /// Scatters `bytes` into the writable part starting `offset` bytes in; returns how many bytes
    /// fit (the rest is dropped, which callers check against `writableLength` first).
    @discardableResult
    public func write(_ memory: any DMAMemory, _ bytes: [UInt8], at offset: Int = 0) throws(VirtioRingError) -> Int {
        var skip = offset
        var done = 0
        for seg in writable where done < bytes.count {
            let len = Int(seg.length)
            if skip >= len { skip -= len; continue }
            let put = min(len - skip, bytes.count - done)
            let address = seg.address &+ UInt64(skip)
            let ok = bytes.withUnsafeBytes { buf in
                memory.dmaWrite(address, from: UnsafeRawBufferPointer(rebasing: buf[done..<(done + put)]))
            }
            guard ok else { throw .notRAM(address: address, length: UInt64(put)) }
            done += put
            skip = 0
        }
        return done
    }
}
