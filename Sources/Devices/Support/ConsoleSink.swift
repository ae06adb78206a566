// Where a console device (UART, virtio-console, HTIF, an SBI console) sends what the guest prints.
// The board installs one `ConsoleCapture` per VM so `vm:console()` can return everything printed,
// optionally echoing to the host terminal as it arrives.

/// A destination for console output bytes.
public protocol ConsoleSink: AnyObject {
    func consoleWrite(_ bytes: [UInt8])
}

/// Captures console output in memory (for `vm:console()`) and optionally echoes it.
public final class ConsoleCapture: ConsoleSink {
    /// Everything written so far.
    public private(set) var bytes: [UInt8] = []
    /// Called with each write as it arrives, e.g. to copy it to the host's stdout.
    public var echo: (([UInt8]) -> Void)?

    public init(echo: (([UInt8]) -> Void)? = nil) { self.echo = echo }

    public func consoleWrite(_ newBytes: [UInt8]) {
        bytes.append(contentsOf: newBytes)
        echo?(newBytes)
    }

    /// The captured output as text (invalid UTF-8 is repaired, never a crash).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public func clear() { bytes.removeAll() }

    /// Puts back what was captured at a snapshot (`VirtBoard.restore`): the output of a run the
    /// restore undid is no longer the guest's. Nothing is echoed again.
    public func restore(_ captured: [UInt8]) { bytes = captured }

    /// Everything captured since the last drain, removing it (for a console read incrementally).
    public func drain() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }
}
