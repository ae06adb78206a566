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
public protocol DeviceState: Sendable {}

/// A device whose guest-visible state can be saved and put back.
public protocol SnapshottableDevice: AnyObject {
    func saveState() -> any DeviceState
    /// Puts back a state saved by a device of the same type and configuration; returns false, and
    /// changes nothing, for any other state.
    @discardableResult
    func restoreState(_ state: any DeviceState) -> Bool
}
