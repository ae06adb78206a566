// virtio-blk (virtio v1.2 §5.2), device ID 2, one request queue.
//
// Configuration space (§5.2.4), little-endian:
//   0x00 capacity u64 (512-byte sectors)   0x08 size_max u32   0x0c seg_max u32
//   0x10 geometry (cylinders u16, heads u8, sectors u8)        0x14 blk_size u32
// Offered features: VIRTIO_BLK_F_SEG_MAX (2), VIRTIO_BLK_F_BLK_SIZE (6), VIRTIO_BLK_F_FLUSH (9),
// and VIRTIO_BLK_F_RO (5) when the image is read-only.
//
// A request (§5.2.6) is a chain: readable header {type u32, reserved u32, sector u64}, then data
// (readable for writes, writable for reads), then one writable status byte (OK 0, IOERR 1, UNSUPP 2).
// Types: IN 0, OUT 1, FLUSH 4, GET_ID 8 (a 20-byte serial). A data length that is not a multiple of
// 512 or a range past the end is IOERR; a request without room for a status byte is a malformed ring.
//
// Requests complete synchronously when the driver notifies the queue: deterministic, and the cost
// a lab charges is the modelled cost of the MMIO notify plus per-request counters, not host latency.

import Machine

public final class VirtioBlock: VirtioBackend {
    public static let typeIn: UInt32 = 0
    public static let typeOut: UInt32 = 1
    public static let typeFlush: UInt32 = 4
    public static let typeGetID: UInt32 = 8
    public static let statusOK: UInt8 = 0
    public static let statusIOError: UInt8 = 1
    public static let statusUnsupported: UInt8 = 2
    public static let featureSegMax = 2
    public static let featureRO = 5
    public static let featureBlkSize = 6
    public static let featureFlush = 9
    public static let segMax: UInt32 = 126

    public let deviceID = VirtioDeviceID.block
    public let queueCount = 1
    public let image: BlockImage
    /// The serial number GET_ID returns (at most 20 bytes are used).
    public let serial: String
    private weak var transport: VirtioMMIO?

    /// Per-type request counts, for stats.
    public private(set) var reads: UInt64 = 0
    public private(set) var writes: UInt64 = 0
    public private(set) var flushes: UInt64 = 0
    public private(set) var failures: UInt64 = 0

    /// Requests still to fail on purpose (fault injection, issue 6): each completes with IOERR
    /// without touching the image, in the order the driver submits them.
    public var injectedFailures = 0

    public init(image: BlockImage, serial: String = "vmlab-disk") {
        self.image = image
        self.serial = serial
    }

    public var deviceFeatures: UInt64 {
        var f = VirtioFeature.bit(Self.featureSegMax) | VirtioFeature.bit(Self.featureBlkSize)
            | VirtioFeature.bit(Self.featureFlush)
        if image.mode == .readOnly { f |= VirtioFeature.bit(Self.featureRO) }
        return f
    }

    public func attach(to transport: VirtioMMIO) { self.transport = transport }

    public func readConfig(offset: Int, size: Int) -> UInt64 {
        var config = [UInt8](repeating: 0, count: 0x18)
        putLE(image.sectorCount, bytes: 8, into: &config, at: 0x00)
        putLE(UInt64(Self.segMax), bytes: 4, into: &config, at: 0x0C)
        putLE(UInt64(BlockImage.sectorSize), bytes: 4, into: &config, at: 0x14)
        return readConfigBytes(config, offset: offset, size: size)
    }

    public func writeConfig(offset: Int, size: Int, value: UInt64) {}   // all fields read-only
    public func reset() {}

    public func queueNotified(_ queue: Int) throws(VirtioRingError) {
        guard let transport else { return }
        while let chain = try transport.popChain(queue: queue) {
            let written = try handle(chain, transport)
            try transport.pushUsed(chain, written: written)
        }
        try transport.signalUsed(queue: queue)
    }

    /// Runs one request; returns the bytes written into the chain (data and status).
    private func handle(_ chain: DescriptorChain, _ t: VirtioMMIO) throws(VirtioRingError) -> Int {
        guard chain.writableLength >= 1 else { throw .malformed("block request without a status byte") }
        let statusAt = chain.writableLength - 1
        func finish(_ status: UInt8, dataWritten: Int = 0) throws(VirtioRingError) -> Int {
            if status != Self.statusOK { failures &+= 1 }
            try chain.write(t.memory, [status], at: statusAt)
            return dataWritten + 1
        }
        guard chain.readableLength >= 16 else {
            t.logGuestError("block request header of \(chain.readableLength) bytes")
            return try finish(Self.statusIOError)
        }
        if injectedFailures > 0 {
            injectedFailures -= 1
            return try finish(Self.statusIOError)
        }
        let header = try chain.read(t.memory, count: 16)
        let type = le32(header, 0)
        let sector = le64(header, 8)
        switch type {
        case Self.typeIn:
            let length = statusAt
            guard length % BlockImage.sectorSize == 0,
                  let data = image.read(sector: sector, count: length / BlockImage.sectorSize) else {
                return try finish(Self.statusIOError)
            }
            try chain.write(t.memory, data)
            reads &+= 1
            t.account(toGuest: length)
            return try finish(Self.statusOK, dataWritten: length)
        case Self.typeOut:
            let data = try chain.read(t.memory, offset: 16)
            guard data.count % BlockImage.sectorSize == 0, image.write(sector: sector, data: data) else {
                return try finish(Self.statusIOError)
            }
            writes &+= 1
            t.account(fromGuest: data.count)
            return try finish(Self.statusOK)
        case Self.typeFlush:
            flushes &+= 1
            return try finish(image.flush() ? Self.statusOK : Self.statusIOError)
        case Self.typeGetID:
            var id = Array(serial.utf8.prefix(20))
            id += [UInt8](repeating: 0, count: 20 - id.count)
            let n = min(20, statusAt)
            try chain.write(t.memory, Array(id.prefix(n)))
            return try finish(Self.statusOK, dataWritten: n)
        default:
            return try finish(Self.statusUnsupported)
        }
    }
}

/// Reads `size` little-endian bytes of a configuration structure; bytes past its end read 0.
func readConfigBytes(_ config: [UInt8], offset: Int, size: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<size where offset + i >= 0 && offset + i < config.count {
        v |= UInt64(config[offset + i]) << UInt64(8 * i)
    }
    return v
}

// MARK: Snapshots

public struct VirtioBlockState: DeviceState, Equatable {
    public let image: BlockImageState
}

extension VirtioBlock {
    public func saveBackendState() -> any DeviceState { VirtioBlockState(image: image.saveState()) }

    public func acceptsBackendState(_ state: any DeviceState) -> Bool {
        guard let s = state as? VirtioBlockState else { return false }
        return image.accepts(s.image)
    }

    public func restoreBackendState(_ state: any DeviceState) -> Bool {
        guard let s = state as? VirtioBlockState else { return false }
        return image.restoreState(s.image)
    }
}
