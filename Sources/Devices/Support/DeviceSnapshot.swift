// Device state as values, for `vm:snapshot()` / `vm:restore()`, checkpoints and migration. A
// snapshot holds what the guest can observe (registers, FIFOs, queue positions, a copy-on-write
// disk's overlay, queued input) and nothing of the host side (console sinks, switches, image files,
// error logs). Counters are not state: they count what happened, across restores too.
//
// Restoring a device re-drives its outputs (interrupt pins) to match the restored registers, so
// the order in which a board restores its devices does not matter, except that a board restores
// its interrupt controller's state rather than replaying device lines (InterruptLine restores
// silently for that reason).

/// A device's saved state; each device type has its own concrete state type.
public protocol DeviceState: Sendable, Codable {}

/// A device whose guest-visible state can be saved and put back.
public protocol SnapshottableDevice: AnyObject {
    func saveState() -> any DeviceState
    /// Whether `restoreState` would take `state`: a board asks every device before it changes
    /// anything, so a state that does not fit leaves the whole board as it was.
    func accepts(_ state: any DeviceState) -> Bool
    /// Puts back a state saved by a device of the same type and configuration; returns false, and
    /// changes nothing, for any other state.
    @discardableResult
    func restoreState(_ state: any DeviceState) -> Bool
}

/// A device state with the name of its type, as a snapshot file stores it: reading one back
/// needs to know which state type to decode, and only the types listed here are accepted (a file
/// naming anything else is refused).
public struct CodedDeviceState: Codable, Sendable {
    public let state: any DeviceState

    public init(_ state: any DeviceState) { self.state = state }

    static let types: [any DeviceState.Type] = [
        CLINTState.self, PLICState.self, UART16550State.self, GoldfishRTCState.self, HTIFState.self,
        VirtioMMIOState.self, VirtioBlockState.self, BlockImageState.self, VirtioNetState.self,
        VirtioRNGState.self, VirtioConsoleState.self,
    ]

    private enum CodingKeys: String, CodingKey { case kind, state }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(String.self, forKey: .kind)
        guard let type = Self.types.first(where: { String(describing: $0) == kind }) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "no device state of kind '\(kind)'")
        }
        func decode<T: DeviceState>(_ type: T.Type) throws -> any DeviceState { try c.decode(type, forKey: .state) }
        state = try decode(type)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(String(describing: Swift.type(of: state)), forKey: .kind)
        try c.encode(state, forKey: .state)
    }
}
