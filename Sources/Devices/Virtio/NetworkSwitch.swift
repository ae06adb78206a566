// An in-process Ethernet switch connecting the virtual NICs of several VMs (or two NICs of one VM).
// It learns source MAC addresses per port, forwards a known unicast destination to its port only,
// and floods broadcasts, multicasts and unknown destinations to every other port, in the order the
// ports were connected — so delivery is deterministic.
//
// Delivery is synchronous: `transmit` hands the frame to each receiving port before returning. All
// ports must therefore be driven from one thread (the hypervisor's scheduler runs VMs in turn).
// The switch holds its endpoints weakly: a card whose machine is gone has left it, as if unplugged.
//
// A capture (`captureLimit` > 0) keeps the most recent frames that entered the switch, whatever
// became of them, with the sending card's address and guest time, as a port mirror would see
// them; `pcap()` writes them in the libpcap format (Wireshark, tcpdump).

/// Something that can receive Ethernet frames from a switch (a virtio-net device).
public protocol NetworkEndpoint: AnyObject {
    /// The endpoint's own MAC address (what a capture names a sender by).
    var mac: [UInt8] { get }
    /// A frame for this endpoint; it queues or drops it, never blocks.
    func receiveFrame(_ frame: [UInt8])
}

/// A frame as the switch's capture recorded it.
public struct CapturedFrame: Sendable, Equatable {
    /// The switch port it came in on, and the address of the card plugged in there.
    public let port: Int
    public let sender: [UInt8]
    /// The sender's guest time when it sent the frame, in ticks of the 10 MHz timebase (nil when
    /// the sender has no clock).
    public let mtime: UInt64?
    public let bytes: [UInt8]
}

public final class NetworkSwitch {
    public struct Statistics: Sendable, Equatable {
        public var framesIn: UInt64 = 0
        public var framesDelivered: UInt64 = 0
        public var framesFlooded: UInt64 = 0
        public var framesDropped: UInt64 = 0
    }

    public private(set) var statistics = Statistics()

    /// How many of the most recent frames the capture keeps (0: no capture). Lowering it drops
    /// the oldest frames kept.
    public var captureLimit = 0 {
        didSet { trimCapture() }
    }
    /// The frames captured, oldest first.
    public private(set) var captured: [CapturedFrame] = []
    /// Frames the capture recorded and later let go of to stay within its limit.
    public private(set) var capturesDiscarded: UInt64 = 0
    private struct Port {
        let id: Int
        weak var endpoint: (any NetworkEndpoint)?
    }

    private var ports: [Port] = []
    private var nextID = 0
    private var macTable: [[UInt8]: Int] = [:]

    public init() {}

    /// Connects an endpoint; returns its port number for `transmit`.
    @discardableResult
    public func connect(_ endpoint: any NetworkEndpoint) -> Int {
        let id = nextID
        nextID += 1
        ports.removeAll { $0.endpoint == nil }
        ports.append(Port(id: id, endpoint: endpoint))
        return id
    }

    public func disconnect(port: Int) {
        ports.removeAll { $0.id == port }
        macTable = macTable.filter { $0.value != port }
    }

    /// Ports with something still plugged in.
    public var portCount: Int { endpoints.count }

    /// What is plugged in, in the order the ports were connected.
    public var endpoints: [any NetworkEndpoint] { ports.compactMap(\.endpoint) }

    /// Forwards a frame sent by `port` at the sender's guest time `mtime` (timebase ticks, for
    /// the capture). Frames shorter than an Ethernet header are dropped.
    public func transmit(_ frame: [UInt8], from port: Int, mtime: UInt64? = nil) {
        statistics.framesIn &+= 1
        if captureLimit > 0 {
            let sender = ports.first { $0.id == port }?.endpoint?.mac ?? []
            captured.append(CapturedFrame(port: port, sender: sender, mtime: mtime, bytes: frame))
            trimCapture()
        }
        guard frame.count >= 14 else {
            statistics.framesDropped &+= 1
            return
        }
        let destination = Array(frame[0..<6])
        let source = Array(frame[6..<12])
        if source[0] & 1 == 0 { macTable[source] = port }
        if destination[0] & 1 == 0, let target = macTable[destination] {
            guard target != port, let endpoint = ports.first(where: { $0.id == target })?.endpoint else {
                statistics.framesDropped &+= 1
                return
            }
            statistics.framesDelivered &+= 1
            endpoint.receiveFrame(frame)
            return
        }
        statistics.framesFlooded &+= 1
        for p in ports where p.id != port {
            guard let endpoint = p.endpoint else { continue }
            statistics.framesDelivered &+= 1
            endpoint.receiveFrame(frame)
        }
    }

    private func trimCapture() {
        let excess = captured.count - captureLimit
        guard excess > 0 else { return }
        captured.removeFirst(excess)
        capturesDiscarded &+= UInt64(excess)
    }

    /// The capture as a libpcap file (the classic format: magic 0xa1b2c3d4 little-endian, version
    /// 2.4, link type 1, Ethernet): each record stamped with its sender's guest time in
    /// microseconds (0 without a clock), whole frames (the snap length is above the longest frame a card
    /// sends, `VirtioNet.maximumFrameLength`).
    public func pcap() -> [UInt8] {
        var out: [UInt8] = []
        func put(_ value: UInt64, _ bytes: Int) {
            for i in 0..<bytes { out.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * i))) }
        }
        put(0xA1B2_C3D4, 4)
        put(2, 2); put(4, 2)              // version 2.4
        put(0, 4); put(0, 4)              // thiszone, sigfigs
        put(262_144, 4)                   // snaplen: tcpdump's default, above any frame a card sends
        put(1, 4)                         // LINKTYPE_ETHERNET
        for frame in captured {
            let microseconds = (frame.mtime ?? 0) / 10
            put(microseconds / 1_000_000, 4)
            put(microseconds % 1_000_000, 4)
            put(UInt64(frame.bytes.count), 4); put(UInt64(frame.bytes.count), 4)
            out += frame.bytes
        }
        return out
    }
}
