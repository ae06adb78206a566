// Per-device counters, kept as plain data so `vm:stats()` can copy them into a Lua table without
// touching live device state. Counting is unconditional: it costs an add on the MMIO slow path.

/// What a device has done since it was built (counters are never reset by a guest-visible reset, so
/// a lab can see work done across guest reboots).
public struct DeviceCounters: Sendable, Equatable {
    /// MMIO loads the device answered (accepted or not).
    public var reads: UInt64 = 0
    /// MMIO stores the device received (accepted or not).
    public var writes: UInt64 = 0
    /// Rising edges of the device's interrupt output (a level held high counts once); for the CLINT,
    /// msip and mtip assertions; for the PLIC, rising edges of its source inputs.
    public var interrupts: UInt64 = 0
    /// Device-level operations: virtio chains taken, HTIF commands, finisher events, RTC alarms
    /// armed, PLIC claims that returned a source.
    public var requests: UInt64 = 0
    /// Bytes the device took from the guest (UART/console transmit, disk writes, frames sent).
    public var bytesFromGuest: UInt64 = 0
    /// Bytes the device gave to the guest (UART/console receive, disk reads, frames received, entropy).
    public var bytesToGuest: UInt64 = 0
    /// Guest misbehaviour the device noticed and survived (bad offsets, malformed rings, ...).
    public var guestErrors: UInt64 = 0

    public init() {}

    /// Every MMIO access, loads and stores together.
    public var accesses: UInt64 { reads &+ writes }

    /// The counters as name → value pairs, in a stable order, for reports and Lua tables.
    public var fields: [(name: String, value: UInt64)] {
        [("reads", reads), ("writes", writes), ("accesses", accesses), ("interrupts", interrupts),
         ("requests", requests), ("bytes_from_guest", bytesFromGuest), ("bytes_to_guest", bytesToGuest),
         ("guest_errors", guestErrors)]
    }
}

/// A platform device that reports counters and a short name for stats and logs.
public protocol CountingDevice: AnyObject {
    /// A short stable name for reports ("uart0", "plic", "virtio-blk@0x10001000").
    var name: String { get }
    var counters: DeviceCounters { get }
}
