// virtio-net (virtio v1.2 §5.1), device ID 1: queue 0 receiveq, queue 1 transmitq.
//
// Configuration space (§5.1.4): 0x00 mac[6], 0x06 status u16 (VIRTIO_NET_S_LINK_UP = 1).
// Offered features: VIRTIO_NET_F_MAC (5), VIRTIO_NET_F_STATUS (16). No offloads: the guest computes
// checksums and segments itself, so frames cross the switch exactly as the guest built them.
//
// Every buffer starts with a virtio_net_hdr (§5.1.6): 12 bytes with VERSION_1 (num_buffers
// included), 10 bytes for a driver that did not negotiate VERSION_1. Transmit strips it; receive
// writes a zero header with num_buffers = 1 followed by the frame into one receive chain.
//
// The link (status bit VIRTIO_NET_S_LINK_UP) is up unless `setLink(up: false)` takes it down, as
// QEMU's `set_link` does: the driver is told by a configuration-change interrupt (§2.5.1, §5.1.4:
// it reads status again), and while the link is down every frame the driver transmits and every
// frame sent to the card is lost (counted in `framesDropped`), as on a cable pulled out.
//
// Frames arrive from the switch (or from this NIC in loopback) at any time; they wait in a backlog
// of up to `backlogLimit` frames until the driver has posted receive buffers, and are dropped (and
// counted) beyond it, as a real NIC drops when its ring is full. A frame too large for the posted
// buffer is dropped and the buffer returned empty.

import Machine

public final class VirtioNet: VirtioBackend, NetworkEndpoint {
    public static let featureMAC = 5
    public static let featureStatus = 16
    public static let receiveQueue = 0
    public static let transmitQueue = 1
    public static let backlogLimit = 256
    /// The longest frame a card sends: an Ethernet header with a VLAN tag (18 bytes) and the
    /// largest MTU Linux's driver allows a card without VIRTIO_NET_F_MTU (65 535). A chain may
    /// hold megabytes; a longer "frame" is a guest's error, and would otherwise sit in every
    /// receiving card's backlog.
    public static let maximumFrameLength = 65_535 + 18

    public let deviceID = VirtioDeviceID.network
    public let queueCount = 2
    public let deviceFeatures = VirtioFeature.bit(VirtioNet.featureMAC) | VirtioFeature.bit(VirtioNet.featureStatus)
    public let mac: [UInt8]
    /// When true, transmitted frames come straight back to this NIC (no switch needed).
    public var loopback: Bool

    /// Frames still to lose on purpose (fault injection, issue 6): the next frames this NIC would
    /// deliver to its guest are dropped and counted in `framesDropped`.
    public var injectedReceiveDrops = 0

    public private(set) var framesSent: UInt64 = 0
    public private(set) var framesReceived: UInt64 = 0
    public private(set) var framesDropped: UInt64 = 0
    /// Whether the link is up (config status VIRTIO_NET_S_LINK_UP).
    public private(set) var linkUp = true
    /// Times the link went down or came back up.
    public private(set) var linkChanges: UInt64 = 0

    /// The machine's timebase, for the time a switch's capture stamps on frames this card sends.
    public weak var time: (any TimeSource)?

    private weak var transport: VirtioMMIO?
    private weak var networkSwitch: NetworkSwitch?
    private var port = -1
    private var backlog: [[UInt8]] = []

    /// `mac` must be 6 bytes; the default is QEMU's first address, 52:54:00:12:34:56.
    public init(mac: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56], loopback: Bool = false) {
        precondition(mac.count == 6, "a MAC address is 6 bytes")
        self.mac = mac
        self.loopback = loopback
    }

    /// Parses "52:54:00:12:34:56" (or with dashes) into 6 bytes; nil for anything else, so a script's
    /// typo becomes an error message rather than a precondition failure.
    public static func parseMAC(_ text: String) -> [UInt8]? {
        let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for p in parts {
            guard p.count == 2, p.allSatisfy(\.isHexDigit), let b = UInt8(p, radix: 16) else { return nil }
            bytes.append(b)
        }
        return bytes
    }

    /// The MAC address as text, e.g. "52:54:00:12:34:56".
    public var macString: String { Self.describeMAC(mac) }

    /// Bytes as a MAC address is written, e.g. "52:54:00:12:34:56".
    public static func describeMAC(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }

    /// Plugs this NIC into a switch (unplugging it from any previous one).
    public func connect(to networkSwitch: NetworkSwitch) {
        disconnect()
        self.networkSwitch = networkSwitch
        port = networkSwitch.connect(self)
    }

    /// Unplugs this NIC from its switch, if any: frames it sends from now on are dropped, and the
    /// switch forgets it (and stops holding it).
    public func disconnect() {
        if let old = networkSwitch { old.disconnect(port: port) }
        networkSwitch = nil
        port = -1
    }

    /// The switch this NIC is plugged into.
    public var connectedSwitch: NetworkSwitch? { networkSwitch }

    public func attach(to transport: VirtioMMIO) { self.transport = transport }

    public func readConfig(offset: Int, size: Int) -> UInt64 {
        var config = mac + [0, 0]
        putLE(linkUp ? 1 : 0, bytes: 2, into: &config, at: 6)     // VIRTIO_NET_S_LINK_UP
        return readConfigBytes(config, offset: offset, size: size)
    }

    /// Takes the link down or brings it back up; a change interrupts the driver (configuration
    /// change) once it is running. Setting the state it already has does nothing.
    public func setLink(up: Bool) {
        guard up != linkUp else { return }
        linkUp = up
        linkChanges &+= 1
        transport?.configurationChanged()
    }

    public func writeConfig(offset: Int, size: Int, value: UInt64) {}
    /// A driver's reset: frames still waiting for buffers are lost, and counted so.
    public func reset() {
        framesDropped &+= UInt64(backlog.count)
        backlog.removeAll()
    }

    /// Frames waiting for receive buffers.
    public var backlogCount: Int { backlog.count }

    private var headerLength: Int {
        guard let transport else { return 12 }
        return transport.negotiated(VirtioFeature.version1) ? 12 : 10
    }

    public func queueNotified(_ queue: Int) throws(VirtioRingError) {
        guard let transport else { return }
        switch queue {
        case Self.transmitQueue:
            var sent: [[UInt8]] = []
            while let chain = try transport.popChain(queue: queue) {
                let bytes = try chain.read(transport.memory)
                try transport.pushUsed(chain, written: 0)
                guard bytes.count > headerLength else {
                    transport.logGuestError("transmit buffer of \(bytes.count) bytes holds no frame")
                    continue
                }
                let frame = Array(bytes[headerLength...])
                guard frame.count <= Self.maximumFrameLength else {
                    framesDropped &+= 1
                    transport.logGuestError("transmit frame of \(frame.count) bytes is longer than any Ethernet frame (at most \(Self.maximumFrameLength))")
                    continue
                }
                transport.account(fromGuest: frame.count)
                guard linkUp else {
                    framesDropped &+= 1                       // into a cable pulled out
                    continue
                }
                framesSent &+= 1
                sent.append(frame)
            }
            try transport.signalUsed(queue: queue)
            // Forward after completing the batch, so a frame looping back to this NIC finds the
            // transmit ring already settled.
            for frame in sent { forward(frame) }
        case Self.receiveQueue:
            try deliverBacklog()
        default:
            break
        }
    }

    public func receiveFrame(_ frame: [UInt8]) {
        if !linkUp {
            framesDropped &+= 1
            return
        }
        if injectedReceiveDrops > 0 {
            injectedReceiveDrops -= 1
            framesDropped &+= 1
            return
        }
        if backlog.count >= Self.backlogLimit {
            framesDropped &+= 1
            return
        }
        backlog.append(frame)
        transport?.guarded { () throws(VirtioRingError) in try deliverBacklog() }
    }

    private func forward(_ frame: [UInt8]) {
        if loopback {
            receiveFrame(frame)
        } else if let networkSwitch {
            networkSwitch.transmit(frame, from: port, mtime: time?.mtime)
        } else {
            framesDropped &+= 1                           // a cable to nowhere
        }
    }

    private func deliverBacklog() throws(VirtioRingError) {
        guard let transport, transport.isLive else { return }
        var delivered = false
        while !backlog.isEmpty, let chain = try transport.popChain(queue: Self.receiveQueue) {
            let frame = backlog.removeFirst()
            var header = [UInt8](repeating: 0, count: headerLength)
            if headerLength == 12 { header[10] = 1 }      // num_buffers = 1
            let packet = header + frame
            if packet.count > chain.writableLength {
                framesDropped &+= 1
                transport.logGuestError("receive buffer of \(chain.writableLength) bytes too small for a \(frame.count)-byte frame")
                try transport.pushUsed(chain, written: 0)
            } else {
                try chain.write(transport.memory, packet)
                try transport.pushUsed(chain, written: packet.count)
                framesReceived &+= 1
                transport.account(toGuest: frame.count)
            }
            delivered = true
        }
        if delivered { try transport.signalUsed(queue: Self.receiveQueue) }
    }
}

// MARK: Snapshots

public struct VirtioNetState: DeviceState, Equatable {
    public let backlog: [[UInt8]]
    public let linkUp: Bool
}

extension VirtioNet {
    public func saveBackendState() -> any DeviceState { VirtioNetState(backlog: backlog, linkUp: linkUp) }

    public func acceptsBackendState(_ state: any DeviceState) -> Bool { state is VirtioNetState }

    public func restoreBackendState(_ state: any DeviceState) -> Bool {
        guard let s = state as? VirtioNetState else { return false }
        backlog = s.backlog
        linkUp = s.linkUp
        return true
    }
}
