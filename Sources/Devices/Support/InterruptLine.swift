// How a device's interrupt output reaches the interrupt controller. On QEMU `virt` every platform
// device's line goes to a PLIC source (UART 10, RTC 11, virtio-mmio slot n at 1 + n); the board
// wires each device to its source by handing it an `InterruptLine`.

/// An interrupt controller with numbered, level-sensitive inputs (the PLIC).
public protocol InterruptController: AnyObject {
    /// Drives input `source` to `level`; levels, not edges: the device holds it until the cause clears.
    func setIRQ(source: Int, level: Bool)
}

/// One device's interrupt output: a controller and a source number. Tracks the level it last drove
/// so a device can set it freely and only edges reach the controller (and the counters).
public final class InterruptLine {
    public let controller: (any InterruptController)?
    public let source: Int
    /// The level currently driven.
    public private(set) var level = false
    /// Rising edges driven so far.
    public private(set) var risingEdges: UInt64 = 0

    public init(_ controller: (any InterruptController)?, source: Int) {
        self.controller = controller
        self.source = source
    }

    /// A line connected to nothing (a device used without a controller, e.g. polled by a test).
    public static func unconnected() -> InterruptLine { InterruptLine(nil, source: 0) }

    public func set(_ newLevel: Bool) {
        guard newLevel != level else { return }
        level = newLevel
        if newLevel { risingEdges &+= 1 }
        controller?.setIRQ(source: source, level: newLevel)
    }
}
