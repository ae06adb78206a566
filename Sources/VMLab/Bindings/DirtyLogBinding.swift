import Hypervisor
import LuaKit

/// `vm:dirty_pages{}`: the `hw` VMM's dirty log (DirtyLog.swift), the pages a pre-copy migration
/// must send again, as a hypervisor finds them: from the G stage's D bits and its own record of
/// DMA, not by comparing contents (`snapshot:changed_pages`).
enum DirtyLogBinding {
    static let options: [LuaOption] = [
        LuaOption("clear", .boolean, "Clear the log after reading it (default false): the G stage's D bits, and every vCPU's TLB is flushed, so that the next store to each page sets its D bit again."),
    ]

    static let methods: [LuaFunction] = [
        .method("dirty_pages", of: "vmlab.VM",
                summary: "The guest-physical addresses of the pages written since the dirty log was last cleared (at first: since the VM was built, so every page of its RAM), in ascending order, as a `hw` VMM with nested paging keeps its log: the G stage's D bits, which the hart sets on a guest's store, and the pages the VMM's devices wrote by DMA, noted as they were written. A page written back with what it held counts, unlike in `snapshot:changed_pages`. With `clear`, the log starts again from here. Reading is the VMM's work on another CPU, counted in `vm:stats().technique.dirty_log`, not charged to the guest; the guest pays for a clear afterwards (the TLB misses of the flush, the walks that set D again). Other modes, shadow paging and `ad_bits = \"fault\"` keep no such log: `nil, message`. Not inside a hook.",
                parameters: [.optional("options", .options(name: "vmlab.DirtyPagesOptions", options))],
                returns: [LuaReturn(.list(.integer), "pages"), LuaReturn(.string, "message", "Why the VM keeps no dirty log.")]) { call in
            let vm = try VMBinding.machine(call)
            let o = try call.options(2)
            let guest = try SnapshotBinding.checkedGuest(vm, verb: "dirty_pages")
            guard let hw = guest.technique as? HardwareAssistedTechnique else {
                return LuaValue.failure("no dirty log under '\(guest.mode.rawValue)': only hw (with nested paging) keeps one, in the G stage's D bits")
            }
            let clear = o.boolean("clear") ?? false
            switch Result(catching: { () throws(DirtyLogError) in try hw.dirtyPages(clear: clear) }) {
            case .success(let pages): return [.array(pages.map { .unsigned($0) })]
            case .failure(let error): return LuaValue.failure(error.description)
            }
        },
    ]
}
