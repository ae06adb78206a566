// The contract between the virtio-mmio transport and a device type behind it (block, network,
// console, entropy). The transport owns the registers, feature negotiation, queues and interrupts;
// a backend owns its configuration space and what requests mean (virtio v1.2 §5).

import Machine

public protocol VirtioBackend: AnyObject {
    /// The DeviceID register (§5).
    var deviceID: VirtioDeviceID { get }
    /// Device-type feature bits (0-23 and any above 40 the type defines); the transport adds its own.
    var deviceFeatures: UInt64 { get }
    /// How many virtqueues the device has.
    var queueCount: Int { get }
    /// Called once when the transport takes the backend; the backend keeps it (weakly or unowned).
    func attach(to transport: VirtioMMIO)
    /// A read of `size` bytes at `offset` into the device configuration space (§4.2.2, 0x100+);
    /// out-of-range bytes read 0.
    func readConfig(offset: Int, size: Int) -> UInt64
    /// A driver write to configuration space; most fields are read-only and ignore it.
    func writeConfig(offset: Int, size: Int, value: UInt64)
    /// The device was reset (status written 0): drop in-flight state.
    func reset()
    /// The driver notified `queue` (or DRIVER_OK was just set): consume what is available.
    func queueNotified(_ queue: Int) throws(VirtioRingError)
    /// The device type's own state (see DeviceSnapshot.swift): queued input, backlogs, disk overlays.
    func saveBackendState() -> any DeviceState
    /// Whether `restoreBackendState` would take `state` (checked before a board changes anything).
    func acceptsBackendState(_ state: any DeviceState) -> Bool
    /// Puts back a state from `saveBackendState` of the same type; false, changing nothing, otherwise.
    func restoreBackendState(_ state: any DeviceState) -> Bool
}
