// Event channels: the para-virtual guest's interrupts (Xen's model, [X03] §3.2 "Control
// Transfer: Hypercalls and Events"). A port is allocated by the guest, bound to an event source
// (the timer, the console, the block back-end — or left unbound for self-notification), and
// raised by the VMM or by `notify`. A raised port sets its bit in the shared info page's pending
// word; unless the port is masked there, the vCPU's upcall becomes pending, and unless the guest
// has virtual interrupts masked (the shared info page's upcall mask — a plain store, no
// hypercall), the VMM injects a supervisor software interrupt (SSIP) as the upcall.
//
// Ports are the domain's own: a port it did not allocate (never allocated, closed, out of range)
// is refused, so a guest can neither bind nor notify another domain's channel.
import Machine

/// What an event channel is bound to.
public enum EventSource: UInt64, CaseIterable, Sendable, CustomStringConvertible, Codable {
    /// Not bound: raised only by `notify` (a self-notification).
    case unbound = 0
    /// The timer set by `set_timer`: raised when the VMM finds the deadline passed.
    case timer = 1
    /// The console back-end.
    case console = 2
    /// The block back-end (split driver).
    case block = 3

    public var description: String {
        switch self {
        case .unbound: "unbound"
        case .timer: "timer"
        case .console: "console"
        case .block: "block"
        }
    }
}

/// The ports of one domain.
public struct EventChannelTable: Sendable, Codable {
    /// Per port: nil when free, else its source.
    public private(set) var ports: [EventSource?] = Array(repeating: nil, count: HypercallABI.eventChannels)

    public init() {}

    /// A free port, now allocated and unbound.
    mutating func allocate() -> Int? {
        guard let port = ports.firstIndex(where: { $0 == nil }) else { return nil }
        ports[port] = .unbound
        return port
    }

    /// The port number as an index, if it is one of this domain's allocated ports.
    func owned(_ port: UInt64) -> Int? {
        guard port < UInt64(ports.count), ports[Int(port)] != nil else { return nil }
        return Int(port)
    }

    mutating func bind(_ port: Int, to source: EventSource) -> HypercallError? {
        guard ports[port] == .unbound else { return .alreadyAvailable }
        if source != .unbound, ports.contains(where: { $0 == source }) { return .alreadyAvailable }
        ports[port] = source
        return nil
    }

    mutating func close(_ port: Int) { ports[port] = nil }

    /// The port bound to `source`, if any.
    public func port(boundTo source: EventSource) -> Int? { ports.firstIndex { $0 == source } }
}

extension ParavirtualDomain {
    /// Raises `port`: sets its pending bit and delivers the upcall the shared info page allows.
    /// Without a registered shared info page the event stays pending inside the VMM until one is.
    func raise(port: Int) {
        pendingWithoutPage |= 1 << UInt64(port)
        guard sharedInfo != nil else { return }
        flushPendingIntoPage()
        deliverUpcall()
    }

    /// Raises the port bound to `source` (a VMM back-end's event); false when none is bound.
    @discardableResult
    public func raise(_ source: EventSource) -> Bool {
        guard let port = channels.port(boundTo: source) else { return false }
        raise(port: port)
        return true
    }

    /// Moves events raised so far into the shared page: pending bits, and the upcall flag for
    /// unmasked ones.
    func flushPendingIntoPage() {
        guard let page = sharedInfo, pendingWithoutPage != 0 else { return }
        let info = SharedInfo(page)
        let pending = (load64(info.pending) ?? 0) | pendingWithoutPage
        store64(info.pending, pending)
        pendingWithoutPage = 0
        if pending & ~(load64(info.mask) ?? 0) != 0 { store8(info.upcallPending, 1) }
    }

    /// Injects the upcall (SSIP) when one is pending and the guest has not masked it.
    func deliverUpcall(hart: Int = 0) {
        guard let page = sharedInfo else { return }
        let info = SharedInfo(page)
        guard load8(info.upcallPending) == 1, load8(info.upcallMask) == 0 else { return }
        let mip = machine.readCSR(0x344, hart: hart) ?? 0
        if mip & 2 == 0 {
            machine.writeCSR(0x344, mip | 2, hart: hart)
            upcalls &+= 1
            charge(.upcall, hart: hart)
        }
    }

    /// Called at every VMM entry: fires the timer channel once its deadline has passed.
    func checkTimer() {
        guard let deadline = timerDeadline, machine.mtime >= deadline else { return }
        timerDeadline = nil
        raise(.timer)
    }

    // MARK: hypercalls

    func eventChannelAlloc() -> HypercallResult {
        guard let port = channels.allocate() else { return .failure(.denied) }
        return .success(UInt64(port))
    }

    func eventChannelBind(port: UInt64, source raw: UInt64) -> HypercallResult {
        guard let p = channels.owned(port) else { return .failure(.denied) }
        guard let source = EventSource(rawValue: raw) else { return .failure(.invalidParam) }
        if let error = channels.bind(p, to: source) { return .failure(error) }
        return .success()
    }

    func eventChannelNotify(port: UInt64) -> HypercallResult {
        guard let p = channels.owned(port), let source = channels.ports[p] else { return .failure(.denied) }
        switch source {
        case .unbound:
            raise(port: p)
        case .timer, .console, .block:
            // The back-end's side of the channel.
            notifications[source.description, default: 0] &+= 1
            if source == .block { serveBlockRing() }
        }
        return .success()
    }

    func eventChannelUnmask(port: UInt64) -> HypercallResult {
        guard let p = channels.owned(port) else { return .failure(.denied) }
        guard let page = sharedInfo else { return .failure(.invalidState) }
        let info = SharedInfo(page)
        let mask = (load64(info.mask) ?? 0) & ~(1 << UInt64(p))
        store64(info.mask, mask)
        if (load64(info.pending) ?? 0) & (1 << UInt64(p)) != 0 {
            store8(info.upcallPending, 1)
            deliverUpcall()
        }
        return .success()
    }

    func eventChannelClose(port: UInt64) -> HypercallResult {
        guard let p = channels.owned(port) else { return .failure(.denied) }
        channels.close(p)
        pendingWithoutPage &= ~(1 << UInt64(p))
        return .success()
    }
}

extension EventChannelTable {
    /// Whether it has the ABI's number of ports (a snapshot file's may not).
    var isWellFormed: Bool { ports.count == HypercallABI.eventChannels }
}
