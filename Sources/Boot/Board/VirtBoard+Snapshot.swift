// A board's state as a value: its machine (Machine+Snapshot.swift), every device with guest-visible
// state (DeviceSnapshot.swift), the built-in firmware's, and the console output so far. Restoring
// puts all of it back, so the board runs on from there as it did the first time.
//
// Not in a snapshot: the host's side of each device (image files, switches, console echo, error
// logs, device counters) and the board's configuration, which cannot change: a snapshot restores
// onto a board built from the same configuration (its own, usually).
import Devices
import Machine

/// The built-in firmware's state: the SBI's, and console input it has not handed out yet.
public struct BuiltinFirmwareState: Sendable, Equatable, Codable {
    let sbi: BuiltinSBIState
    let input: [UInt8]
}

extension BuiltinFirmware {
    public func saveState() -> BuiltinFirmwareState {
        BuiltinFirmwareState(sbi: sbi.saveState(), input: platform.input)
    }

    public func accepts(_ state: BuiltinFirmwareState) -> Bool { sbi.accepts(state.sbi) }

    @discardableResult
    public func restoreState(_ state: BuiltinFirmwareState) -> Bool {
        guard sbi.restoreState(state.sbi) else { return false }
        platform.input = state.input
        return true
    }
}

/// A board's state at one moment between runs (`VirtBoard.snapshot()`).
public struct BoardSnapshot: Codable {
    public var machine: MachineSnapshot
    let devices: [CodedDeviceState]
    let firmware: BuiltinFirmwareState?
    let console: [UInt8]
    /// Device types' names in order, to refuse another board's snapshot before changing anything.
    let deviceKinds: [String]
}

extension VirtBoard {
    /// The devices with guest-visible state, in a fixed order.
    var snapshottableDevices: [any SnapshottableDevice] {
        var all: [any SnapshottableDevice] = [clint, plic, uart, rtc]
        all.append(contentsOf: virtio as [any SnapshottableDevice])
        if let htif { all.append(htif) }
        return all
    }

    /// The board's state now (between runs).
    public func snapshot() -> BoardSnapshot {
        let devices = snapshottableDevices
        return BoardSnapshot(machine: machine.snapshot(), devices: devices.map { CodedDeviceState($0.saveState()) },
                             firmware: firmware?.saveState(), console: console.bytes,
                             deviceKinds: devices.map { Self.kind(of: $0) })
    }

    /// Puts the board back in the state `snapshot` holds (between runs). A snapshot of a board
    /// with other devices or another machine changes nothing and throws. The board must be built
    /// from the configuration the snapshot's was (`VirtBoardConfiguration.snapshotDifference`
    /// says whether it is, as `Guest.restore` asks before it calls this). Every device, the
    /// firmware and the machine check their states before any of them changes.
    public func restore(_ snapshot: BoardSnapshot) throws(SnapshotError) {
        let devices = snapshottableDevices
        guard snapshot.deviceKinds == devices.map({ Self.kind(of: $0) }), snapshot.devices.count == devices.count,
              (snapshot.firmware == nil) == (firmware == nil) else {
            throw SnapshotError("the snapshot is of a board with other devices or firmware")
        }
        // Every device is asked before anything changes: a state one refuses (another disk's
        // size, a malformed snapshot file) leaves the whole board as it was.
        for (device, state) in zip(devices, snapshot.devices) where !device.accepts(state.state) {
            throw SnapshotError("the snapshot's \(type(of: device)) state does not fit this board's")
        }
        if let firmware, let saved = snapshot.firmware, !firmware.accepts(saved) {
            throw SnapshotError("the snapshot's firmware state does not fit this board's")
        }
        // The machine first: devices re-drive their interrupt pins, and the CLINT and the SBI
        // timer compare their deadlines with the machine's clock.
        try machine.restore(snapshot.machine)
        for (device, state) in zip(devices, snapshot.devices) {
            let restored = device.restoreState(state.state)
            precondition(restored, "a device refused a state it accepted")
        }
        if let firmware, let saved = snapshot.firmware {
            let restored = firmware.restoreState(saved)
            precondition(restored, "the firmware refused a state it accepted")
        }
        console.restore(snapshot.console)
        machine.refreshAllDeadlines()
    }
}

extension VirtBoard {
    /// A device's type by name (a snapshot file cannot hold a type's identity).
    static func kind(of device: any SnapshottableDevice) -> String { String(reflecting: type(of: device)) }
}

extension VirtBoardConfiguration {
    /// The first option in which a board built from `other` differs from one built from this
    /// configuration in a way a snapshot cannot carry across (nil: none). A snapshot holds the
    /// machine and the devices' registers, not what the devices are connected to (disk images,
    /// cards), nor what was loaded where: those must be the same. Console echo and the machine's
    /// own options are not compared (the machine checks its shape itself).
    public func snapshotDifference(from other: VirtBoardConfiguration) -> String? {
        func mib(_ bytes: UInt64) -> String { "\(bytes >> 20) MiB" }
        if memory != other.memory { return "memory \(mib(other.memory)), not \(mib(memory))" }
        if hiddenMemory != other.hiddenMemory { return "VMM memory \(mib(other.hiddenMemory)), not \(mib(hiddenMemory))" }
        if harts != other.harts { return "\(other.harts) harts, not \(harts)" }
        if firmware != other.firmware { return "other firmware" }
        if kernel != other.kernel || kernelAddress != other.kernelAddress || initrd != other.initrd { return "another kernel or initrd" }
        if bootargs != other.bootargs { return "bootargs \"\(other.bootargs)\", not \"\(bootargs)\"" }
        if disks != other.disks { return "other disks" }
        if nics != other.nics { return "other network cards" }
        if virtioConsole != other.virtioConsole || rngSeed != other.rngSeed { return "other virtio devices" }
        if isa != other.isa || htif != other.htif || plicGateway != other.plicGateway { return "another ISA string, HTIF or PLIC gateway" }
        return nil
    }
}
