// virtio-mmio transport, version 2 (virtio v1.2 §4.2.2), as QEMU `virt` places it: eight slots at
// 0x1000_1000 + n*0x1000, PLIC source 1 + n, vendor "QEMU" (0x554d4551).
//
//   off    register              dir  notes
//   0x000  MagicValue            R    0x74726976 ("virt"); an empty slot answers any width
//   0x004  Version               R    2 (no legacy interface)
//   0x008  DeviceID              R    0 for an empty slot
//   0x00c  VendorID              R    0x554d4551
//   0x010  DeviceFeatures        R    32 bits selected by DeviceFeaturesSel
//   0x014  DeviceFeaturesSel     W
//   0x020  DriverFeatures        W    32 bits selected by DriverFeaturesSel
//   0x024  DriverFeaturesSel     W
//   0x030  QueueSel              W
//   0x034  QueueNumMax           R    0 for a queue that does not exist
//   0x038  QueueNum              W    reads 0, as on QEMU
//   0x044  QueueReady            RW
//   0x050  QueueNotify           W    queue index
//   0x060  InterruptStatus       R    bit 0 used buffer, bit 1 configuration change
//   0x064  InterruptACK          W
//   0x070  Status                RW   writing 0 resets the device
//   0x080  QueueDescLow/High     W    (0x084)
//   0x090  QueueDriverLow/High   W    (0x094)
//   0x0a0  QueueDeviceLow/High   W    (0x0a4)
//   0x0ac  SHMSel                W    no shared memory regions: SHMLen (0x0b0/0x0b4) reads all
//                                     ones, or 0 in an empty slot (as QEMU)
//   0x0fc  ConfigGeneration      R
//   0x100+ device configuration  RW   8/16/32/64-bit accesses, little-endian
//
// Decisions, where the spec leaves room or QEMU shows the way:
// - Offered transport features: VERSION_1, INDIRECT_DESC, EVENT_IDX. A driver that sets FEATURES_OK
//   without accepting VERSION_1 is accepted, as QEMU's modern virtio-mmio tolerates such drivers: the
//   rings stay little-endian with the version-1 layout; only what the spec ties to the feature
//   changes (virtio-net's header is then the legacy 10 bytes, without num_buffers). Accepting a feature the device did not offer makes the device refuse
//   FEATURES_OK (§2.2.2: the driver re-reads Status and sees it clear).
// - Register accesses other than 32-bit, aligned, read 0 / are ignored and logged, as QEMU does;
//   an aligned 64-bit access is split into two 32-bit ones, low address first, as QEMU splits it.
// - QueueNumMax is 1024 by default, QEMU's VIRTQUEUE_MAX_SIZE.
// - Queue memory and buffers are reached only through DMAMemory. A malformed ring sets
//   DEVICE_NEEDS_RESET, raises a configuration-change interrupt if DRIVER_OK (§2.1.2), logs a guest
//   error and stops the device until the driver resets it.
// - Nothing is consumed before DRIVER_OK (§3.1.1); setting DRIVER_OK processes every ready queue.

import Machine

public final class VirtioMMIO: MMIODevice, CountingDevice {
    public static let magic: UInt32 = 0x7472_6976
    public static let version: UInt32 = 2
    public static let vendorID: UInt32 = 0x554D_4551
    public static let configOffset: UInt64 = 0x100
    public static let defaultQueueSize: UInt16 = 1024
    public static let transportFeatures: UInt64 =
        VirtioFeature.bit(VirtioFeature.version1) | VirtioFeature.bit(VirtioFeature.indirectDesc)
        | VirtioFeature.bit(VirtioFeature.eventIdx)

    public let mmioSize: UInt64 = 0x1000
    public let name: String
    public let backend: (any VirtioBackend)?
    /// The memory its DMA reaches: the machine's, or an IOMMU's port when a VMM assigns the
    /// device to a guest.
    public var memory: any DMAMemory
    public var counters: DeviceCounters {
        var c = stats
        c.interrupts = irq.risingEdges
        return c
    }
    private var stats = DeviceCounters()
    private let irq: InterruptLine
    private let errors: GuestErrorLog?

    public private(set) var status: UInt32 = 0
    public private(set) var interruptStatus: UInt32 = 0
    public private(set) var driverFeatures: UInt64 = 0
    public private(set) var configGeneration: UInt32 = 0
    private var deviceFeaturesSel: UInt32 = 0
    private var driverFeaturesSel: UInt32 = 0
    private var queueSel: UInt32 = 0
    public private(set) var queues: [SplitVirtqueue]

    public init(backend: (any VirtioBackend)?, memory: any DMAMemory, irq: InterruptLine = .unconnected(),
                queueSize: UInt16 = VirtioMMIO.defaultQueueSize, errors: GuestErrorLog? = nil, name: String? = nil) {
        precondition(queueSize >= 8, "virtio queues hold at least 8 entries")
        self.backend = backend
        self.memory = memory
        self.irq = irq
        self.errors = errors
        let kind = backend.map { "\($0.deviceID)" } ?? "empty"
        self.name = name ?? "virtio-\(kind)"
        queues = Array(repeating: SplitVirtqueue(maxSize: queueSize), count: backend?.queueCount ?? 0)
        backend?.attach(to: self)
    }

    /// Feature bits the device offers: the backend's and the transport's.
    public var offeredFeatures: UInt64 {
        guard let backend else { return 0 }
        return backend.deviceFeatures | Self.transportFeatures
    }

    /// Whether the driver accepted feature bit `n` (only meaningful once FEATURES_OK is set).
    public func negotiated(_ bit: Int) -> Bool { driverFeatures & VirtioFeature.bit(bit) != 0 }

    /// The driver has finished initialisation and the device is not broken.
    public var isLive: Bool {
        status & VirtioStatus.driverOK != 0 && status & VirtioStatus.deviceNeedsReset == 0
    }

    // MARK: Backend services

    /// The next available chain of `queue`, or nil (none, queue not ready, or device not live).
    public func popChain(queue: Int) throws(VirtioRingError) -> DescriptorChain? {
        guard isLive, queue < queues.count else { return nil }
        let chain = try queues[queue].pop(queue: queue, memory: memory,
                                          indirectAllowed: negotiated(VirtioFeature.indirectDesc))
        if chain != nil { stats.requests &+= 1 }
        return chain
    }

    /// Returns a chain to the driver with `written` bytes placed in its writable part.
    public func pushUsed(_ chain: DescriptorChain, written: Int) throws(VirtioRingError) {
        try queues[chain.queue].pushUsed(head: chain.head, written: UInt32(clamping: written), memory: memory)
    }

    /// Ends a batch on `queue`: publishes avail_event and interrupts if the driver wants it.
    public func signalUsed(queue: Int) throws(VirtioRingError) {
        let eventIdx = negotiated(VirtioFeature.eventIdx)
        if eventIdx { try queues[queue].publishAvailEvent(memory: memory) }
        if try queues[queue].needsInterrupt(memory: memory, eventIdx: eventIdx) {
            interruptStatus |= 1
            irq.set(true)
        }
    }

    /// Runs backend work, turning a ring error into DEVICE_NEEDS_RESET (host-initiated work, e.g. a
    /// frame arriving from the switch, uses this; guest notifications go through it too).
    public func guarded(_ body: () throws(VirtioRingError) -> Void) {
        do { try body() } catch { deviceError(error) }
    }

    /// The device's configuration changed (§2.5.1): bump the generation and interrupt.
    public func configurationChanged() {
        configGeneration &+= 1
        if status & VirtioStatus.driverOK != 0 {
            interruptStatus |= 2
            irq.set(true)
        }
    }

    /// Data the backend moved, for the counters.
    public func account(fromGuest: Int = 0, toGuest: Int = 0) {
        stats.bytesFromGuest &+= UInt64(fromGuest)
        stats.bytesToGuest &+= UInt64(toGuest)
    }

    /// A guest error that does not break the device (e.g. an unsupported request type).
    public func logGuestError(_ message: String) {
        stats.guestErrors &+= 1
        errors?.log(name, message)
    }

    private func deviceError(_ error: VirtioRingError) {
        logGuestError("\(error); device needs reset")
        guard status & VirtioStatus.deviceNeedsReset == 0 else { return }
        status |= VirtioStatus.deviceNeedsReset
        configurationChanged()
    }

    // MARK: MMIODevice

    public func mmioRead(offset: UInt64, size: Int) -> UInt64? {
        stats.reads &+= 1
        if offset >= Self.configOffset {
            guard let backend else { return 0 }
            return backend.readConfig(offset: Int(offset - Self.configOffset), size: size)
        }
        if size == 8 && offset % 8 == 0 {
            // QEMU splits an 8-byte access into two 32-bit ones, low address first.
            let low = mmioRead(offset: offset, size: 4) ?? 0
            let high = mmioRead(offset: offset + 4, size: 4) ?? 0
            stats.reads &-= 2
            return high << 32 | low
        }
        if backend == nil && size < 4 {
            // An empty slot answers any width with its (truncated) register, as QEMU's does.
            let word = mmioRead(offset: offset & ~3, size: 4) ?? 0
            stats.reads &-= 1
            return (word >> (8 * (offset & 3))) & ((1 << UInt64(8 * size)) - 1)
        }
        guard size == 4, offset % 4 == 0 else {
            logGuestError("\(size)-byte read of register 0x\(String(offset, radix: 16)); registers are 32-bit")
            return 0
        }
        let q = Int(queueSel)
        let hasQueue = q < queues.count
        let v: UInt32
        switch offset {
        case 0x000: v = Self.magic
        case 0x004: v = Self.version
        case 0x008: v = backend?.deviceID.rawValue ?? 0
        case 0x00C: v = Self.vendorID
        case 0x010:
            v = deviceFeaturesSel < 2 ? UInt32(truncatingIfNeeded: offeredFeatures >> (32 * UInt64(deviceFeaturesSel))) : 0
        case 0x034: v = hasQueue ? UInt32(queues[q].maxSize) : 0
        case 0x038: v = 0                        // QueueNum is write-only (§4.2.2); QEMU reads 0
        case 0x044: v = hasQueue && queues[q].ready ? 1 : 0
        case 0x060: v = interruptStatus
        case 0x070: v = status
        case 0x080: v = hasQueue ? UInt32(truncatingIfNeeded: queues[q].descAddress) : 0
        case 0x084: v = hasQueue ? UInt32(truncatingIfNeeded: queues[q].descAddress >> 32) : 0
        case 0x090: v = hasQueue ? UInt32(truncatingIfNeeded: queues[q].driverAddress) : 0
        case 0x094: v = hasQueue ? UInt32(truncatingIfNeeded: queues[q].driverAddress >> 32) : 0
        case 0x0A0: v = hasQueue ? UInt32(truncatingIfNeeded: queues[q].deviceAddress) : 0
        case 0x0A4: v = hasQueue ? UInt32(truncatingIfNeeded: queues[q].deviceAddress >> 32) : 0
        case 0x0B0, 0x0B4: v = backend == nil ? 0 : 0xFFFF_FFFF   // no shared memory: length -1
        case 0x0FC: v = configGeneration
        default: v = 0
        }
        return UInt64(v)
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool {
        stats.writes &+= 1
        if offset >= Self.configOffset {
            backend?.writeConfig(offset: Int(offset - Self.configOffset), size: size, value: value)
            return true
        }
        if size == 8 && offset % 8 == 0 {
            _ = mmioWrite(offset: offset, size: 4, value: value & 0xFFFF_FFFF)
            _ = mmioWrite(offset: offset + 4, size: 4, value: value >> 32)
            stats.writes &-= 2
            return true
        }
        guard size == 4, offset % 4 == 0 else {
            logGuestError("\(size)-byte write of register 0x\(String(offset, radix: 16)); registers are 32-bit")
            return true
        }
        let v = UInt32(truncatingIfNeeded: value)
        guard let backend else { return true }   // an empty slot ignores everything
        let q = Int(queueSel)
        let hasQueue = q < queues.count
        switch offset {
        case 0x014: deviceFeaturesSel = v
        case 0x020:
            guard driverFeaturesSel < 2, status & VirtioStatus.featuresOK == 0 else { break }
            let shift = 32 * UInt64(driverFeaturesSel)
            driverFeatures = (driverFeatures & ~(0xFFFF_FFFF << shift)) | (UInt64(v) << shift)
        case 0x024: driverFeaturesSel = v
        case 0x030: queueSel = v
        case 0x038:
            guard hasQueue, !queues[q].ready else { break }
            // §2.7: a split virtqueue's size is a power of 2 (ring slots are index mod size, which
            // must stay continuous when the 16-bit indices wrap).
            if v == 0 || v > UInt32(queues[q].maxSize) || v & (v - 1) != 0 {
                logGuestError("queue \(q) size \(v) is not a power of 2 in 1...\(queues[q].maxSize)")
            } else {
                queues[q].size = UInt16(v)
            }
        case 0x044:
            guard hasQueue else { break }
            if v & 1 == 1 {
                guard queues[q].size > 0 else { logGuestError("queue \(q) made ready with size 0"); break }
                queues[q].ready = true
            } else {
                queues[q].ready = false
            }
        case 0x050: notify(queue: Int(v))
        case 0x064:
            interruptStatus &= ~v
            if interruptStatus == 0 { irq.set(false) }
        case 0x070: writeStatus(v, backend: backend)
        case 0x080, 0x084, 0x090, 0x094, 0x0A0, 0x0A4:
            guard hasQueue, !queues[q].ready else { break }
            let high = offset & 4 != 0
            func merge(_ old: UInt64) -> UInt64 {
                high ? (old & 0xFFFF_FFFF) | UInt64(v) << 32 : (old & ~0xFFFF_FFFF) | UInt64(v)
            }
            switch offset & ~4 {
            case 0x080: queues[q].descAddress = merge(queues[q].descAddress)
            case 0x090: queues[q].driverAddress = merge(queues[q].driverAddress)
            default: queues[q].deviceAddress = merge(queues[q].deviceAddress)
            }
        default:
            break
        }
        return true
    }

    // MARK: Internals

    private func writeStatus(_ v: UInt32, backend: any VirtioBackend) {
        if v == 0 {
            reset(backend)
            return
        }
        let old = status
        var new = v & ~VirtioStatus.deviceNeedsReset | (old & VirtioStatus.deviceNeedsReset)
        if new & VirtioStatus.featuresOK != 0 && old & VirtioStatus.featuresOK == 0 {
            let unoffered = driverFeatures & ~offeredFeatures
            if unoffered != 0 {
                logGuestError("driver accepted unoffered features 0x\(String(unoffered, radix: 16)); FEATURES_OK refused")
                new &= ~VirtioStatus.featuresOK
            }
        }
        status = new
        if new & VirtioStatus.driverOK != 0 && old & VirtioStatus.driverOK == 0 {
            for q in 0..<queues.count where queues[q].ready {
                guarded { () throws(VirtioRingError) in try backend.queueNotified(q) }
            }
        }
    }

    private func reset(_ backend: any VirtioBackend) {
        status = 0
        interruptStatus = 0
        driverFeatures = 0
        deviceFeaturesSel = 0
        driverFeaturesSel = 0
        queueSel = 0
        for q in 0..<queues.count { queues[q].reset() }
        irq.set(false)
        backend.reset()
    }

    private func notify(queue: Int) {
        guard let backend, queue < queues.count else {
            logGuestError("notify of queue \(queue), which does not exist")
            return
        }
        guard isLive, queues[queue].ready else { return }
        guarded { () throws(VirtioRingError) in try backend.queueNotified(queue) }
    }
}

// MARK: Snapshots

public struct VirtioMMIOState: DeviceState {
    public let status: UInt32
    public let interruptStatus: UInt32
    public let driverFeatures: UInt64
    public let configGeneration: UInt32
    public let selectors: [UInt32]           // DeviceFeaturesSel, DriverFeaturesSel, QueueSel
    public let queues: [SplitVirtqueue]
    public let backend: (any DeviceState)?

    private enum CodingKeys: String, CodingKey {
        case status, interruptStatus, driverFeatures, configGeneration, selectors, queues, backend
    }

    init(status: UInt32, interruptStatus: UInt32, driverFeatures: UInt64, configGeneration: UInt32,
         selectors: [UInt32], queues: [SplitVirtqueue], backend: (any DeviceState)?) {
        self.status = status
        self.interruptStatus = interruptStatus
        self.driverFeatures = driverFeatures
        self.configGeneration = configGeneration
        self.selectors = selectors
        self.queues = queues
        self.backend = backend
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try c.decode(UInt32.self, forKey: .status)
        interruptStatus = try c.decode(UInt32.self, forKey: .interruptStatus)
        driverFeatures = try c.decode(UInt64.self, forKey: .driverFeatures)
        configGeneration = try c.decode(UInt32.self, forKey: .configGeneration)
        selectors = try c.decode([UInt32].self, forKey: .selectors)
        queues = try c.decode([SplitVirtqueue].self, forKey: .queues)
        backend = try c.decodeIfPresent(CodedDeviceState.self, forKey: .backend)?.state
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status, forKey: .status)
        try c.encode(interruptStatus, forKey: .interruptStatus)
        try c.encode(driverFeatures, forKey: .driverFeatures)
        try c.encode(configGeneration, forKey: .configGeneration)
        try c.encode(selectors, forKey: .selectors)
        try c.encode(queues, forKey: .queues)
        try c.encodeIfPresent(backend.map(CodedDeviceState.init), forKey: .backend)
    }
}

extension VirtioMMIO: SnapshottableDevice {
    public func saveState() -> any DeviceState {
        VirtioMMIOState(status: status, interruptStatus: interruptStatus, driverFeatures: driverFeatures,
                        configGeneration: configGeneration,
                        selectors: [deviceFeaturesSel, driverFeaturesSel, queueSel], queues: queues,
                        backend: backend?.saveBackendState())
    }

    public func accepts(_ state: any DeviceState) -> Bool {
        guard let s = state as? VirtioMMIOState, s.queues.count == queues.count, s.selectors.count == 3,
              (s.backend == nil) == (backend == nil),
              zip(s.queues, queues).allSatisfy({ $0.maxSize == $1.maxSize && $0.size <= $0.maxSize }) else { return false }
        if let backend, let b = s.backend { return backend.acceptsBackendState(b) }
        return true
    }

    @discardableResult
    public func restoreState(_ state: any DeviceState) -> Bool {
        guard accepts(state), let s = state as? VirtioMMIOState else { return false }
        if let backend, let b = s.backend, !backend.restoreBackendState(b) { return false }
        status = s.status
        interruptStatus = s.interruptStatus
        driverFeatures = s.driverFeatures
        configGeneration = s.configGeneration
        (deviceFeaturesSel, driverFeaturesSel, queueSel) = (s.selectors[0], s.selectors[1], s.selectors[2])
        queues = s.queues
        irq.restoreLevel(interruptStatus != 0)
        return true
    }
}
