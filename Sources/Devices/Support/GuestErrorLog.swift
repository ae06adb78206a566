// Guest misbehaviour is never a host crash (DESIGN, style rule 6): a device that sees a bad access
// or a malformed structure records a "guest error" and carries on. Like QEMU's `-d guest_errors`,
// the record is opt-in: the board may install a sink; the count is always kept in DeviceCounters.

/// Where devices report guest errors. The board installs one shared log; tests read it back.
public final class GuestErrorLog {
    /// Messages kept, oldest first, up to `capacity` (older ones are dropped and counted).
    public private(set) var messages: [String] = []
    /// Messages dropped because the log was full.
    public private(set) var dropped: UInt64 = 0
    public let capacity: Int
    /// Called for every message as it is logged (e.g. to print when `--log guest_errors`).
    public var echo: ((String) -> Void)?

    public init(capacity: Int = 256, echo: ((String) -> Void)? = nil) {
        self.capacity = max(1, capacity)
        self.echo = echo
    }

    public func log(_ device: String, _ message: String) {
        let line = "\(device): \(message)"
        echo?(line)
        if messages.count >= capacity {
            messages.removeFirst()
            dropped &+= 1
        }
        messages.append(line)
    }

    public func clear() {
        messages.removeAll()
        dropped = 0
    }
}
