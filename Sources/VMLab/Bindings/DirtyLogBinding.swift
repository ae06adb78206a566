import Hypervisor
import LuaKit

/// `vm:dirty_pages{}`: a VMM's dirty log, the pages a pre-copy migration must send again, as a
/// hypervisor finds them rather than by comparing contents (`snapshot:changed_pages`): under `hw`
/// with nested paging from the G stage's D bits and its own record of DMA and tool writes
/// (DirtyLog.swift), under shadow paging by write protection (ShadowPageTables+DirtyLog.swift),
/// under `interpret` from the software CPU's stores (InterpretTechnique+DirtyLog.swift).
enum DirtyLogBinding {
    static let options: [LuaOption] = [
        LuaOption("clear", .boolean, "Clear the log after reading it (default false): under nested paging the G stage's D bits are cleared and every vCPU's TLB flushed, so that the next store to each page sets its D bit again (and 2 MiB G-stage leaves, `gstage_page_size`, are split into 4 KiB ones, as KVM does, so that the log tells their pages apart from then on: `huge_pages_split`); under shadow paging every shadow leaf is made read-only and every vCPU's TLB flushed, so that the next store to each page is a hidden fault; under `interpret` every page is marked clean and the software CPU's soft TLBs dropped, so that the next store to each page takes its slow path."),
    ]

    static let methods: [LuaFunction] = [
        .method("dirty_pages", of: "vmlab.VM",
                summary: "The guest-physical addresses of the pages written since the dirty log was last cleared (at first: since the VM was built, so every page of its RAM), in ascending order, as the VMM keeps its log: under `hw` with nested paging the G stage's D bits, which the hart sets on a guest's store, and the pages the VMM's devices (by DMA) and `vm:write_memory` wrote, noted as they were written; under `trap`, `bt` and `hw` with shadow paging by write protection, the guest's first store to each page after a clear being a hidden fault, and what the VMM wrote itself (DMA, emulated stores, A/D bits, `vm:write_memory`) noted as written; under `interpret` from every store the software CPU makes (the first to each page after a clear takes its slow path) and every DMA or tool write. A page written back with what it held counts, unlike in `snapshot:changed_pages`. With `clear`, the log starts again from here. Reading is the VMM's work on another CPU, counted in `vm:stats().technique.dirty_log`, not charged to the guest; the guest pays for a clear afterwards (under nested paging the TLB misses of the flush and the walks that set D again; under shadow paging a write fault per page; under `interpret` nothing modelled). `native`, `pv`, and nested paging with `ad_bits = \"fault\"` keep no such log: `nil, message`. Not inside a hook.",
                parameters: [.optional("options", .options(name: "vmlab.DirtyPagesOptions", options))],
                returns: [LuaReturn(.list(.integer), "pages"), LuaReturn(.string, "message", "Why the VM keeps no dirty log.")]) { call in
            let vm = try VMBinding.machine(call)
            let o = try call.options(2)
            let guest = try SnapshotBinding.checkedGuest(vm, verb: "dirty_pages")
            let clear = o.boolean("clear") ?? false
            if let shadow = guest.shadowPageTables {
                return [.array(shadow.dirtyPages(clear: clear).map { .unsigned($0) })]
            }
            if let interpreter = guest.technique as? InterpretTechnique {
                return [.array(interpreter.dirtyPages(guest, clear: clear).map { .unsigned($0) })]
            }
            guard let hw = guest.technique as? HardwareAssistedTechnique else {
                let why = guest.mode == .native ? "there is no VMM to keep one"
                    : "the guest maps its own memory writable and this VMM keeps no shadow of its tables to take that away"
                return LuaValue.failure("no dirty log under '\(guest.mode.rawValue)': \(why) (interpret, trap, bt and hw keep one)")
            }
            switch Result(catching: { () throws(DirtyLogError) in try hw.dirtyPages(clear: clear) }) {
            case .success(let pages): return [.array(pages.map { .unsigned($0) })]
            case .failure(let error): return LuaValue.failure(error.description)
            }
        },
    ]
}
