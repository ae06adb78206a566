// The device side of a split virtqueue (virtio v1.2 §2.7): the driver publishes descriptor chain
// heads in the available ring; the device consumes them in order and returns them through the used
// ring.
//
//   descriptor table  16 bytes each: addr u64, len u32, flags u16 (NEXT 1, WRITE 2, INDIRECT 4), next u16
//   available ring    flags u16, idx u16, ring[size] u16, used_event u16 (with EVENT_IDX)
//   used ring         flags u16, idx u16, ring[size] {id u32, len u32}, avail_event u16 (with EVENT_IDX)
//
// All ring memory is reached through DMAMemory, so every address is checked against RAM. A chain is
// rejected (VirtioRingError) when: a head or next index is past the table, a chain is longer than its
// table (which catches loops), an indirect table is empty, not a multiple of 16 bytes, nested, or
// combined with NEXT (§2.7.5.3.1), a readable descriptor follows a writable one (§2.7.4.2), the
// chain's total length exceeds `maxChainBytes`, or the available index runs more than `size` ahead.

import Machine

public struct SplitVirtqueue: Sendable, Codable {
    /// Upper bound on the bytes one chain may describe, so a guest cannot make the host allocate
    /// without limit (32 MiB, above any request Linux issues).
    public static let maxChainBytes = 32 << 20
    /// Upper bound on an indirect table's entries (the largest queue size the spec allows).
    public static let maxIndirectEntries: UInt32 = 32768

    public let maxSize: UInt16
    public var size: UInt16 = 0
    public var ready = false
    public var descAddress: UInt64 = 0
    public var driverAddress: UInt64 = 0
    public var deviceAddress: UInt64 = 0
    /// The next available-ring slot the device will read.
    public private(set) var lastAvailIndex: UInt16 = 0
    /// The device's used index (what it last published).
    public private(set) var usedIndex: UInt16 = 0
    /// The used index at the last interrupt decision, for EVENT_IDX (§2.7.10).
    private var signalledUsed: UInt16 = 0

    public init(maxSize: UInt16) { self.maxSize = maxSize }

    /// Back to the reset state (§2.1.2 and §4.2.3.1: a reset clears every queue's registers).
    public mutating func reset() { self = SplitVirtqueue(maxSize: maxSize) }

    /// The next chain the driver made available, or nil when there is none.
    public mutating func pop(queue: Int, memory: any DMAMemory, indirectAllowed: Bool) throws(VirtioRingError) -> DescriptorChain? {
        guard ready, size > 0 else { return nil }
        let availIdx = try read16(memory, driverAddress &+ 2)
        let outstanding = availIdx &- lastAvailIndex
        if outstanding == 0 { return nil }
        if outstanding > size {
            throw .malformed("available index \(availIdx) is \(outstanding) entries ahead of \(lastAvailIndex) in a queue of \(size)")
        }
        let slot = UInt64(lastAvailIndex % size)
        let head = try read16(memory, driverAddress &+ 4 &+ 2 &* slot)
        lastAvailIndex &+= 1
        return try walk(queue: queue, head: head, memory: memory, indirectAllowed: indirectAllowed)
    }

    /// Publishes a completed chain in the used ring (§2.7.8): entry first, then the index.
    public mutating func pushUsed(head: UInt16, written: UInt32, memory: any DMAMemory) throws(VirtioRingError) {
        let slot = UInt64(usedIndex % size)
        let entry = deviceAddress &+ 4 &+ 8 &* slot
        try write32(memory, entry, UInt32(head))
        try write32(memory, entry &+ 4, written)
        usedIndex &+= 1
        try write16(memory, deviceAddress &+ 2, usedIndex)
    }

    /// Whether the driver wants an interrupt for the used entries published since the last call
    /// (§2.7.7.2 with VIRTQ_AVAIL_F_NO_INTERRUPT, §2.7.10 with EVENT_IDX's used_event).
    public mutating func needsInterrupt(memory: any DMAMemory, eventIdx: Bool) throws(VirtioRingError) -> Bool {
        let old = signalledUsed
        let new = usedIndex
        signalledUsed = new
        if old == new { return false }
        if eventIdx {
            let usedEvent = try read16(memory, driverAddress &+ 4 &+ 2 &* UInt64(size))
            // vring_need_event: the driver asked to hear once used_idx passes used_event.
            return (new &- usedEvent &- 1) < (new &- old)
        }
        let flags = try read16(memory, driverAddress)
        return flags & VirtqLayout.availFlagNoInterrupt == 0
    }

    /// With EVENT_IDX, tells the driver to notify when it makes any new entry available (§2.7.10).
    public func publishAvailEvent(memory: any DMAMemory) throws(VirtioRingError) {
        try write16(memory, deviceAddress &+ 4 &+ 8 &* UInt64(size), lastAvailIndex)
    }

    // MARK: Chain walking

    private func walk(queue: Int, head: UInt16, memory: any DMAMemory, indirectAllowed: Bool) throws(VirtioRingError) -> DescriptorChain {
        var chain = DescriptorChain(queue: queue, head: head)
        var table = descAddress
        var tableSize = UInt32(size)
        var index = UInt32(head)
        var inIndirect = false
        var visited: UInt32 = 0
        var total = 0
        while true {
            guard index < tableSize else {
                throw .malformed("descriptor index \(index) outside a table of \(tableSize) (chain head \(head))")
            }
            visited += 1
            guard visited <= tableSize else { throw .malformed("descriptor chain from head \(head) loops") }
            var raw = [UInt8](repeating: 0, count: 16)
            let at = table &+ UInt64(index) &* VirtqLayout.descriptorSize
            guard raw.withUnsafeMutableBytes({ memory.dmaRead(at, into: $0) }) else {
                throw .notRAM(address: at, length: 16)
            }
            let addr = le64(raw, 0)
            let len = le32(raw, 8)
            let flags = le16(raw, 12)
            let next = le16(raw, 14)
            if flags & VirtqLayout.descFlagIndirect != 0 {
                guard indirectAllowed else { throw .malformed("indirect descriptor without VIRTIO_F_INDIRECT_DESC") }
                guard !inIndirect else { throw .malformed("nested indirect descriptor table") }
                guard flags & VirtqLayout.descFlagNext == 0 else { throw .malformed("descriptor with both INDIRECT and NEXT") }
                guard len > 0, len % 16 == 0, len / 16 <= Self.maxIndirectEntries else {
                    throw .malformed("indirect table of \(len) bytes")
                }
                table = addr
                tableSize = len / 16
                index = 0
                visited = 0
                inIndirect = true
                continue
            }
            total += Int(len)
            guard total <= Self.maxChainBytes else { throw .malformed("descriptor chain longer than \(Self.maxChainBytes) bytes") }
            let segment = DescriptorChain.Segment(address: addr, length: len)
            if flags & VirtqLayout.descFlagWrite != 0 {
                chain.writable.append(segment)
            } else {
                guard chain.writable.isEmpty else { throw .malformed("readable descriptor after a writable one (head \(head))") }
                chain.readable.append(segment)
            }
            guard flags & VirtqLayout.descFlagNext != 0 else { return chain }
            index = UInt32(next)
        }
    }

    // MARK: Little-endian ring access (§2.4: modern virtio is little-endian)

    private func read16(_ memory: any DMAMemory, _ address: UInt64) throws(VirtioRingError) -> UInt16 {
        var v: UInt16 = 0
        guard withUnsafeMutableBytes(of: &v, { memory.dmaRead(address, into: $0) }) else {
            throw .notRAM(address: address, length: 2)
        }
        return UInt16(littleEndian: v)
    }

    private func write16(_ memory: any DMAMemory, _ address: UInt64, _ value: UInt16) throws(VirtioRingError) {
        var v = value.littleEndian
        guard withUnsafeBytes(of: &v, { memory.dmaWrite(address, from: $0) }) else {
            throw .notRAM(address: address, length: 2)
        }
    }

    private func write32(_ memory: any DMAMemory, _ address: UInt64, _ value: UInt32) throws(VirtioRingError) {
        var v = value.littleEndian
        guard withUnsafeBytes(of: &v, { memory.dmaWrite(address, from: $0) }) else {
            throw .notRAM(address: address, length: 4)
        }
    }
}

@inline(__always) func le16(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
@inline(__always) func le32(_ b: [UInt8], _ o: Int) -> UInt32 { UInt32(le16(b, o)) | UInt32(le16(b, o + 2)) << 16 }
@inline(__always) func le64(_ b: [UInt8], _ o: Int) -> UInt64 { UInt64(le32(b, o)) | UInt64(le32(b, o + 4)) << 32 }
func putLE(_ value: UInt64, bytes count: Int, into b: inout [UInt8], at o: Int) {
    for i in 0..<count { b[o + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) }
}
