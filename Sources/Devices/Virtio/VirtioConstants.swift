// Numbers from the virtio specification v1.2 (docs.oasis-open.org/virtio/virtio/v1.2) that the
// transport and the devices share: device status bits (§2.1), reserved feature bits (§6), device IDs
// (§5), descriptor flags (§2.7.5) and ring flags (§2.7.6-§2.7.8).

/// Device types (§5): the DeviceID register of a transport.
public enum VirtioDeviceID: UInt32, Sendable {
    case none = 0          // an empty virtio-mmio slot, as QEMU `virt` leaves unused ones
    case network = 1
    case block = 2
    case console = 3
    case entropy = 4
}

/// Device status field bits (§2.1).
public enum VirtioStatus {
    public static let acknowledge: UInt32 = 1
    public static let driver: UInt32 = 2
    public static let driverOK: UInt32 = 4
    public static let featuresOK: UInt32 = 8
    public static let deviceNeedsReset: UInt32 = 64
    public static let failed: UInt32 = 128
}

/// Reserved (transport) feature bits (§6), as bit numbers.
public enum VirtioFeature {
    public static let indirectDesc = 28
    public static let eventIdx = 29
    public static let version1 = 32
    public static let accessPlatform = 33
    public static let ringPacked = 34

    @inline(__always) public static func bit(_ n: Int) -> UInt64 { 1 << UInt64(n) }
}

/// Split virtqueue layout constants (§2.7).
enum VirtqLayout {
    static let descriptorSize: UInt64 = 16
    static let descFlagNext: UInt16 = 1
    static let descFlagWrite: UInt16 = 2
    static let descFlagIndirect: UInt16 = 4
    static let availFlagNoInterrupt: UInt16 = 1
    static let usedFlagNoNotify: UInt16 = 1
}

/// Why a virtqueue could not be used: the driver broke the ring rules or pointed outside RAM. The
/// transport answers with DEVICE_NEEDS_RESET (§2.1.2) and a logged guest error — never a host crash.
public enum VirtioRingError: Error, Sendable, Equatable, CustomStringConvertible {
    case notRAM(address: UInt64, length: UInt64)
    case malformed(String)

    public var description: String {
        switch self {
        case .notRAM(let a, let n): "ring or buffer [0x\(String(a, radix: 16)), +\(n)) is not RAM"
        case .malformed(let why): why
        }
    }
}
