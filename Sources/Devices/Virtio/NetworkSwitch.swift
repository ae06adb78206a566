// An in-process Ethernet switch connecting the virtual NICs of several VMs (or two NICs of one VM).
// It learns source MAC addresses per port, forwards a known unicast destination to its port only,
// and floods broadcasts, multicasts and unknown destinations to every other port, in the order the
// ports were connected — so delivery is deterministic.
//
// Delivery is synchronous: `transmit` hands the frame to each receiving port before returning. All
// ports must therefore be driven from one thread (the hypervisor's scheduler runs VMs in turn).
// The switch holds its endpoints weakly: a card whose machine is gone has left it, as if unplugged.

/// Something that can receive Ethernet frames from a switch (a virtio-net device).
public protocol NetworkEndpoint: AnyObject {
    /// A frame for this endpoint; it queues or drops it, never blocks.
    func receiveFrame(_ frame: [UInt8])
}

public final class NetworkSwitch {
    public struct Statistics: Sendable, Equatable {
        public var framesIn: UInt64 = 0
        public var framesDelivered: UInt64 = 0
        public var framesFlooded: UInt64 = 0
        public var framesDropped: UInt64 = 0
    }

    public private(set) var statistics = Statistics()
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

    /// Forwards a frame sent by `port`. Frames shorter than an Ethernet header are dropped.
    public func transmit(_ frame: [UInt8], from port: Int) {
        statistics.framesIn &+= 1
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
}
