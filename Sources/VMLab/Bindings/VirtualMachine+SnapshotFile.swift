import Hypervisor
import Machine

// Snapshot files for `vmlab boot` (`--save-snapshot`, `--restore`): the same files as Lua's
// `snapshot:save` and `vmlab.load_snapshot` (GuestSnapshot+File.swift).
extension VirtualMachine {
    /// Writes the VM's state now to a snapshot file.
    public func saveSnapshot(to path: String) throws(SnapshotError) {
        let guest: Guest
        do { guest = try live() } catch { throw SnapshotError(error.message) }
        try guest.snapshot().write(to: path, vm: guest.name)
    }

    /// Puts the VM in the state a snapshot file holds; a file that cannot be read, or that does
    /// not fit this VM, changes nothing and throws, saying why.
    public func restoreSnapshot(from path: String) throws(SnapshotError) {
        let guest: Guest
        do { guest = try live() } catch { throw SnapshotError(error.message) }
        let loaded = try GuestSnapshot.read(from: path)
        do {
            try guest.restore(loaded.snapshot)
        } catch {
            throw SnapshotError("\(path): \(error.description) (it was taken of '\(loaded.vm)')")
        }
    }
}
