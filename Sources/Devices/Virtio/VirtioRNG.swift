// virtio-rng, the entropy device (virtio v1.2 §5.4), device ID 4, one request queue; no features and
// no configuration space. Each chain's writable buffers are filled completely.
//
// The "entropy" is a seeded SplitMix64 stream (Steele, Lea, Flood, "Fast splittable pseudorandom
// number generators", OOPSLA 2014), so a run with the same seed sees the same bytes: labs stay
// repeatable. It is not cryptographic, and says so in the device's name in stats.

import Machine

public final class VirtioRNG: VirtioBackend {
    public let deviceID = VirtioDeviceID.entropy
    public let queueCount = 1
    public let deviceFeatures: UInt64 = 0
    public let seed: UInt64
    private var state: UInt64
    private var spare: [UInt8] = []
    private weak var transport: VirtioMMIO?

    /// The seed a board's RNG draws from unless given another: "vmlab_rn" in ASCII.
    public static let defaultSeed: UInt64 = 0x766D_6C61_625F_726E

    public init(seed: UInt64 = VirtioRNG.defaultSeed) {
        self.seed = seed
        state = seed
    }

    public func attach(to transport: VirtioMMIO) { self.transport = transport }
    public func readConfig(offset: Int, size: Int) -> UInt64 { 0 }
    public func writeConfig(offset: Int, size: Int, value: UInt64) {}

    /// A device reset does not rewind the stream: a rebooting guest sees fresh bytes, and the whole
    /// run stays a pure function of the seed.
    public func reset() {}

    /// The next `count` bytes of the stream.
    public func nextBytes(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            if spare.isEmpty {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                spare = (0..<8).map { UInt8(truncatingIfNeeded: z >> UInt64(8 * $0)) }
            }
            out.append(spare.removeFirst())
        }
        return out
    }

    public func queueNotified(_ queue: Int) throws(VirtioRingError) {
        guard let transport else { return }
        while let chain = try transport.popChain(queue: queue) {
            let bytes = nextBytes(chain.writableLength)
            try chain.write(transport.memory, bytes)
            try transport.pushUsed(chain, written: bytes.count)
            transport.account(toGuest: bytes.count)
        }
        try transport.signalUsed(queue: queue)
    }
}

// MARK: Snapshots

/// The generator's position: a restored run draws the same bytes again.
public struct VirtioRNGState: DeviceState, Equatable {
    public let state: UInt64
    public let spare: [UInt8]
}

extension VirtioRNG {
    public func saveBackendState() -> any DeviceState { VirtioRNGState(state: state, spare: spare) }

    public func acceptsBackendState(_ state: any DeviceState) -> Bool { state is VirtioRNGState }

    public func restoreBackendState(_ s: any DeviceState) -> Bool {
        guard let s = s as? VirtioRNGState else { return false }
        state = s.state
        spare = s.spare
        return true
    }
}
