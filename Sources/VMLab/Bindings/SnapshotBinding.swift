import Hypervisor
import LuaKit
import Machine
import Synchronization

/// `vm:snapshot()` and `vm:restore(snapshot)`: checkpoints of a VM (Guest+Snapshot.swift). A
/// restored VM runs on exactly as it did from the snapshot, so a lab can go back to one moment
/// and try something else from there: another fault, another input, a breakpoint further on.
enum SnapshotBinding {
    static func contribute(to module: inout LuaModule) {
        module.classes.append(LuaDocClass(SnapshotHandle.luaClass))
        module.classes.append(infoClass)
        module.functions.append(loadSnapshot)
    }

    static let loadSnapshot = LuaFunction(
        "load_snapshot",
        summary: "Reads a snapshot file written by `snapshot:save`, for `vm:restore` on a VM built with the same options as the one it was taken of (in this process or another: a cold migration across runs). A file that is missing, not a snapshot file, of another format, truncated, damaged (its checksum) or malformed raises, naming the file and what is wrong; what it holds is checked again against the VM by `vm:restore`, which changes nothing when it does not fit.",
        parameters: [.required("path", .string, "The file.")],
        returns: [LuaReturn(.object("vmlab.Snapshot"), "snapshot")]
    ) { call in
        let path = try call.string(1)
        let loaded: (snapshot: GuestSnapshot, vm: String)
        do throws(SnapshotError) {
            loaded = try GuestSnapshot.read(from: path)
        } catch {
            throw LuaRaise.argument(1, error.description)
        }
        call.state.noteExternalMemory(bytes: loaded.snapshot.ramBytes)
        return [.object(SnapshotHandle(loaded.snapshot, vm: loaded.vm))]
    }

    static let methods: [LuaFunction] = [
        .method("snapshot", of: "vmlab.VM",
                summary: "The VM's whole state now, kept in memory: registers and CSRs of every vCPU, RAM, the TLBs, every device, the built-in firmware, the console so far, the modelled clock and the counters of `vm:stats()`. `vm:restore` goes back to it. Every mode, the VMM's state included (under `trap` its virtual CPU and shadow page tables, under `bt` also the translator's state and its translation cache, so that nothing is translated and paid for twice, under `pv` its domain's validated page tables, channels and grants, under `hw` its counters, timers, shadow pager or IOMMU); a VM alone on its private host takes the host's clock back too. Not inside a hook.",
                returns: [LuaReturn(.object("vmlab.Snapshot"), "snapshot")]) { call in
            let vm = try VMBinding.machine(call)
            let guest = try checkedGuest(vm, verb: "snapshot")
            let snapshot: GuestSnapshot
            do throws(SnapshotError) {
                snapshot = try guest.snapshot()
            } catch {
                throw LuaRaise.message(error.description)
            }
            // A dropped snapshot's RAM copy is freed when Lua collects its handle.
            call.state.noteExternalMemory(bytes: snapshot.ramBytes)
            return [.object(SnapshotHandle(snapshot, vm: guest.name))]
        },
        .method("restore", of: "vmlab.VM",
                summary: "Puts the VM back in the state `snapshot` holds: it then runs on exactly as it did from there, counters and modelled cycles included (a VM that powered off since runs again; under `bt` the engine builds its blocks again, counted in `block_cache` and `bt.blocks_translated` alone). The snapshot may also be another VM's, built with the same options (mode, profile, memory, harts, kernel, bootargs, disks, cards): a cold migration, which raises, naming the first difference, for a VM built otherwise. The console goes back to what it held; hooks, breakpoints, watchpoints, the profile and planned faults stay as they are (a fault planned for a point the restore goes back before fires again when the VM gets there), and so do the network cards' frame counts and `stats().events` and `faults`, which count what happened. A snapshot may be restored any number of times. Not inside a hook.",
                parameters: [.required("snapshot", .object("vmlab.Snapshot")),
                             .optional("options", .options(name: "vmlab.RestoreOptions", restoreOptions))]) { call in
            let vm = try VMBinding.machine(call)
            let handle = try call.object(2, as: SnapshotHandle.self)
            let o = try call.options(3)
            let guest = try checkedGuest(vm, verb: "restore")
            guard let snapshot = handle.snapshot else { throw LuaRaise.argument(2, "the snapshot is closed") }
            let translationCache = o.boolean("translation_cache")
            if translationCache != nil && guest.mode != .bt {
                throw LuaRaise.argument(3, "option 'translation_cache' is for bt VMs (this one runs under \(guest.mode.rawValue))")
            }
            do throws(SnapshotError) {
                try guest.restore(snapshot, translationCache: translationCache ?? true)
            } catch {
                throw LuaRaise.argument(2, "\(error.description) (it was taken of '\(handle.vmName)')")
            }
            return []
        },
    ]

    static let restoreOptions: [LuaOption] = [
        LuaOption("translation_cache", .boolean, "Under `bt`: restore the translation cache the snapshot holds (default true). `false` restores the VM with an empty cache, as a VMM that did not save it would: the VM runs on as before, but translates, and pays `translation` for, every kernel instruction again as it next runs it (`bt.translated_instructions`)."),
    ]

    static let snapshotMethods: [LuaFunction] = [
        .method("info", of: "vmlab.Snapshot", summary: "Where the snapshot was taken, as plain data (see `vmlab.SnapshotInfo`).",
                returns: [LuaReturn(.documented("vmlab.SnapshotInfo"), "info")]) { call in
            let handle = try call.object(1, as: SnapshotHandle.self)
            guard let s = handle.snapshot else { throw LuaRaise.message("the snapshot is closed") }
            let board = s.boardConfiguration
            var info: [String: LuaValue] = [
                "vm": .string(handle.vmName), "instructions": .unsigned(s.instructions),
                "cycles": .unsigned(s.cycles), "ram_bytes": .integer(Int64(s.ramBytes)),
                "mode": .string(s.mode.rawValue), "profile": .string(s.profile.name),
                "memory": .unsigned(board.memory), "harts": .integer(Int64(board.harts)),
                "bootargs": .string(board.bootargs),
            ]
            if case .file(let path) = board.kernel { info["kernel"] = .string(path) }
            return [.record(info)]
        },
        .method("changed_pages", of: "vmlab.Snapshot",
                summary: "The guest-physical addresses of the guest's RAM pages whose contents differ between `earlier` and this snapshot, in address order: what a pre-copy live migration that had sent `earlier` must send again (dirty pages, found by comparing contents). Both must be of VMs built with the same options.",
                parameters: [.required("earlier", .object("vmlab.Snapshot"))],
                returns: [LuaReturn(.list(.integer), "pages")]) { call in
            let handle = try call.object(1, as: SnapshotHandle.self)
            let earlier = try call.object(2, as: SnapshotHandle.self)
            guard let s = handle.snapshot else { throw LuaRaise.message("the snapshot is closed") }
            guard let e = earlier.snapshot else { throw LuaRaise.argument(2, "the snapshot is closed") }
            do throws(SnapshotError) {
                return [.array(try s.changedPages(since: e).map { .unsigned($0) })]
            } catch {
                throw LuaRaise.argument(2, error.description)
            }
        },
        .method("save", of: "vmlab.Snapshot",
                summary: "Writes the snapshot to a file (`vmlab.load_snapshot` reads it back): a header, the saved state as JSON, the RAM pages it keeps as raw bytes, and a checksum. The file is written whole and then renamed into place, so a failed save leaves an existing file as it was. Disk images are not in it (only a copy-on-write disk's overlay is): a restore needs the same image files, and the file records the contents of each (but a writable disk's, whose file changes as the guest writes), so that `vm:restore` refuses an image whose contents differ.",
                parameters: [.required("path", .string, "The file to write (replaced if it exists).")]) { call in
            let handle = try call.object(1, as: SnapshotHandle.self)
            let path = try call.string(2)
            guard let s = handle.snapshot else { throw LuaRaise.message("the snapshot is closed") }
            do throws(SnapshotError) {
                try s.write(to: path, vm: handle.vmName)
            } catch {
                throw LuaRaise.argument(2, error.description)
            }
            return []
        },
        .method("close", of: "vmlab.Snapshot", summary: "Lets go of the snapshot's memory now rather than when Lua collects it (also at the end of a `<close>` variable's scope); closing twice is harmless.") { call in
            try call.object(1, as: SnapshotHandle.self).snapshot = nil
            return []
        },
    ]

    static let infoClass = LuaDocClass(
        "vmlab.SnapshotInfo", summary: "Where a snapshot was taken (`snapshot:info()`), and what the VM it was taken of was built with: the options a VM needs to take it (with the same disks, cards and policies), for a snapshot read from a file.",
        fields: [
            .required("vm", .string, "The name of the VM it was taken of."),
            .required("instructions", .integer, "`vm:stats().instructions` then."),
            .required("cycles", .integer, "`vm:stats().cycles.total` then: the modelled clock."),
            .required("ram_bytes", .integer, "Bytes of guest RAM it keeps: only pages that were not all zero."),
            .required("mode", .string, "The VM's mode (`vmlab.vm { mode = }`)."),
            .required("profile", .string, "The name of its cost profile (of the built-in one it was edited from, if it was)."),
            .required("memory", .integer, "Its guest RAM, in bytes (`memory`)."),
            .required("harts", .integer, "Its harts (vCPUs)."),
            .required("bootargs", .string, "Its kernel command line."),
            .optional("kernel", .string, "The path of its kernel, when it was loaded from a file (not for `image =` bytes)."),
        ])

    /// The VM's guest, when a snapshot, a restore or another look at the whole VM may be made now:
    /// between runs, not from inside a hook.
    static func checkedGuest(_ vm: VirtualMachine, verb: String) throws -> Guest {
        guard vm.hookDepth == 0 && vm.lua == nil else {
            throw LuaRaise.message("vm:\(verb)() is not allowed while the VM runs (inside a hook)")
        }
        return try VMBinding.misuse { () throws(VirtualMachine.Misuse) in try vm.live() }
    }
}

/// A `GuestSnapshot` as Lua holds it. Nil once closed.
final class SnapshotHandle: LuaObject {
    var snapshot: GuestSnapshot?
    let vmName: String
    /// Handles alive in this process: what shows that Lua collects dropped snapshots in time
    /// (`LuaState.noteExternalMemory`).
    static let alive = Mutex(0)

    init(_ snapshot: GuestSnapshot, vm: String) {
        self.snapshot = snapshot
        vmName = vm
        Self.alive.withLock { $0 += 1 }
    }

    deinit { Self.alive.withLock { $0 -= 1 } }

    static let luaClass = LuaClass(
        "vmlab.Snapshot",
        summary: "A VM's state at one moment (`vm:snapshot()`), which `vm:restore` goes back to. It lives in memory, up to the guest's RAM in size: `:close()` (or a `<close>` variable) lets go of it at once.",
        methods: SnapshotBinding.snapshotMethods,
        close: { ($0 as? SnapshotHandle)?.snapshot = nil },
        describe: { object in
            guard let handle = object as? SnapshotHandle else { return "vmlab.Snapshot" }
            guard let s = handle.snapshot else { return "vmlab.Snapshot (closed)" }
            return "vmlab.Snapshot (\(handle.vmName) at \(s.instructions) instructions, \(s.cycles) cycles)"
        })
}
