// How a device's interrupt output reaches the interrupt controller. On QEMU `virt` every platform
// device's line goes to a PLIC source (UART 10, RTC 11, virtio-mmio slot n at 1 + n); the board
// wires each device to its source by handing it an `InterruptLine`.
//
// The line is also where a lab injects interrupt faults (issue 6: "drop, delay or spuriously raise
// an interrupt"): while `masked`, the device's level is tracked but the controller sees the line low
// (a dropped interrupt; unmasking delivers a still-asserted level late, which is a delayed one), and
// `injectPulse()` raises and lowers the controller's input once with no device cause (a spurious one).

/// An interrupt controller with numbered, level-sensitive inputs (the PLIC).
public protocol InterruptController: AnyObject {
    /// Drives input `source` to `level`; levels, not edges: the device holds it until the cause clears.
    /// `true` again while the input is high means the device re-evaluated its interrupt after a
    /// change of its state (QEMU's devices re-raise then); the controller may take it as a request.
    func setIRQ(source: Int, level: Bool)
}

/// One device's interrupt output: a controller and a source number. Tracks the level it last drove:
/// edges reach the controller and the counters; driving it high again while high reaches the
/// controller as a re-raise (a device calls `set` where its interrupt state may have changed).
public final class InterruptLine {
    public let controller: (any InterruptController)?
    public let source: Int
    /// The level the device drives.
    public private(set) var level = false
    /// Rising edges the device drove (whether or not a mask hid them).
    public private(set) var risingEdges: UInt64 = 0
    /// Rising edges hidden from the controller by `masked`.
    public private(set) var droppedEdges: UInt64 = 0
    /// Spurious pulses injected.
    public private(set) var injectedPulses: UInt64 = 0
    /// What the controller currently sees.
    private var driven = false

    /// While true the controller sees the line low, whatever the device drives; clearing it drives
    /// the device's current level.
    public var masked = false {
        didSet { drive(masked ? false : level) }
    }

    public init(_ controller: (any InterruptController)?, source: Int) {
        self.controller = controller
        self.source = source
    }

    /// A line connected to nothing (a device used without a controller, e.g. polled by a test).
    public static func unconnected() -> InterruptLine { InterruptLine(nil, source: 0) }

    public func set(_ newLevel: Bool) {
        guard newLevel != level else {
            // Driven high again while high: the device re-evaluated its interrupt after a change of
            // its state. The controller decides whether that is a new request (PLICGateway).
            if newLevel && !masked { controller?.setIRQ(source: source, level: true) }
            return
        }
        level = newLevel
        if newLevel {
            risingEdges &+= 1
            if masked { droppedEdges &+= 1 }
        }
        drive(masked ? false : newLevel)
    }

    /// Raises the controller's input and restores it at once: a request with no device cause.
    public func injectPulse() {
        injectedPulses &+= 1
        guard !driven else { return }          // already asserted: the pulse changes nothing
        controller?.setIRQ(source: source, level: true)
        controller?.setIRQ(source: source, level: false)
    }

    private func drive(_ value: Bool) {
        guard value != driven else { return }
        driven = value
        controller?.setIRQ(source: source, level: value)
    }

    /// Sets the level after a snapshot restore without telling the controller, whose own restored
    /// state already holds the request (see DeviceSnapshot.swift).
    public func restoreLevel(_ newLevel: Bool) {
        level = newLevel
        driven = masked ? false : newLevel
    }
}
