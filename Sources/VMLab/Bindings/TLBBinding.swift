import Hypervisor
import LuaKit
import Machine

/// `vm:tlb()`: the architectural TLB's entries as plain data, so that a lab can look inside the
/// teaching object whose counters `vm:stats().tlb` shows (TLB.swift: unified, set-associative,
/// FIFO within a set). Under `trap` and `bt` the hart's TLB caches the shadow page tables: its
/// entries map guest-virtual addresses to machine-physical pages, 4 KiB each, U set (the guest
/// kernel runs in U-mode), tagged with the VMM's ASID for each cached address space and view.
enum TLBBinding {
    static let options: [LuaOption] = [
        LuaOption("vcpu", .integer, "The vCPU whose TLB to read (default 0)."),
        LuaOption("which", .choice(["tlb", "nested", "pwc"]), "Which cache: \"tlb\" (default: the TLB's entries, `vmlab.TLBEntry`), \"nested\" (the nested TLB's G-stage translations, `vmlab.NestedTLBEntry`, in slot order; `tlb = { nested = N }`) or \"pwc\" (the page-walk cache's guest non-leaf entries, `vmlab.WalkCacheEntry`, in slot order; `tlb = { pwc = N }`). Empty for a hart without that cache."),
    ]

    static let methods: [LuaFunction] = [
        .method("tlb", of: "vmlab.VM",
                summary: "The valid entries of a vCPU's TLB now, in set and way order, as plain data: what each maps (virtual and physical page, size), its ASID and global bit, its permissions, and where it sits (set, way). Reading changes nothing. Under `trap` and `bt` they are the shadow's entries (machine-physical, 4 KiB, U set, the VMM's ASIDs). With `which`, the entries of the hart's nested TLB or page-walk cache instead.",
                parameters: [.optional("options", .options(name: "vmlab.TLBReadOptions", options))],
                returns: [LuaReturn(.oneOf([.list(.documented("vmlab.TLBEntry")), .list(.documented("vmlab.NestedTLBEntry")), .list(.documented("vmlab.WalkCacheEntry"))]), "entries")]) { call in
            let vm = try VMBinding.machine(call)
            let o = try call.options(2)
            let guest = try VMBinding.misuse { () throws(VirtualMachine.Misuse) in try vm.live() }
            let vcpu = o.integer("vcpu") ?? 0
            guard vcpu >= 0 && vcpu < Int64(guest.machine.hartCount) else {
                throw LuaRaise.message("no vCPU \(vcpu) (the VM has \(guest.machine.hartCount))")
            }
            switch o.string("which") {
            case "nested"?:
                return [.array(guest.machine.nestedTLBEntries(hart: Int(vcpu)).map { e in
                    .record(["vmid": .integer(Int64(e.vmid)), "guest_physical": .unsigned(e.guestPhysical),
                             "pa": .unsigned(e.physical), "page_size": .unsigned(1 << (12 + 9 * UInt64(e.level)))])
                })]
            case "pwc"?:
                return [.array(guest.machine.walkCacheEntries(hart: Int(vcpu)).map { e in
                    .record(["vmid": .integer(Int64(e.vmid)), "asid": .integer(Int64(e.asid)), "level": .integer(Int64(e.level)),
                             "va": .unsigned(e.virtualBase), "table": .unsigned(e.table)])
                })]
            default:
                return [.array(guest.machine.tlbEntries(hart: Int(vcpu)).map(value))]
            }
        },
    ]

    static let nestedEntryClass = LuaDocClass(
        "vmlab.NestedTLBEntry", summary: "One nested TLB entry (`vm:tlb { which = \"nested\" }`): a G-stage translation.",
        fields: [
            .required("vmid", .integer, "The VMID of the guest whose G stage it caches."),
            .required("guest_physical", .integer, "The guest physical address of the page's first byte."),
            .required("pa", .integer, "The host physical address of the page's first byte."),
            .required("page_size", .integer, "4096, 2 MiB or 1 GiB: the G-stage leaf's level."),
        ])

    static let walkCacheEntryClass = LuaDocClass(
        "vmlab.WalkCacheEntry", summary: "One page-walk cache entry (`vm:tlb { which = \"pwc\" }`): where the guest's table for `level` is, for the addresses under `va`.",
        fields: [
            .required("vmid", .integer, "The guest's VMID."),
            .required("asid", .integer, "The guest's ASID (vsatp) when it was found."),
            .required("level", .integer, "The level of the table it points to (0: the leaf level)."),
            .required("va", .integer, "The first guest virtual address the entry serves (it serves 512 times the size of one of that table's pages)."),
            .required("table", .integer, "The table's guest physical address."),
        ])

    static let entryClass = LuaDocClass(
        "vmlab.TLBEntry", summary: "One valid TLB entry (`vm:tlb()`).",
        fields: [
            .required("va", .integer, "The virtual address of the page's first byte."),
            .required("pa", .integer, "The physical address of the page's first byte (machine-physical under `trap` and `bt`)."),
            .required("page_size", .integer, "4096, 2 MiB, 1 GiB or 512 GiB: the leaf's level, kept whole (a superpage is one entry)."),
            .required("asid", .integer, "The ASID of `satp` when it was filled: what it matches on a tagged TLB; an untagged one (`tlb = { tagged = false }`) records it and matches any."),
            .required("global", .boolean, "The PTE's G bit: it matches every ASID and survives an ASID's flush."),
            .optional("vmid", .integer, "Under `hw`: the VMID of the guest whose translation it caches, guest virtual to host physical with both stages combined (`va` is the guest's, `pa` the machine's, `asid` the one of `vsatp`, `flags` the VS-stage leaf's); absent for the host's own translations."),
            .required("flags", .documented("{ r: boolean, w: boolean, x: boolean, u: boolean, g: boolean, a: boolean, d: boolean }"), "The leaf PTE's permission and status bits it caches."),
            .required("flags_text", .string, "The same bits as `vmlab.PageWalkLevel.flags_text` writes them (`DAGUXWRV`)."),
            .required("set", .integer, "The set it is in (0 up to entries / ways - 1)."),
            .required("way", .integer, "Its way within the set."),
        ])

    /// The leaf PTE's low bits that `e` caches again (V R W X U G A D, bits 0-7), to name them as
    /// a walk does.
    static func leafBits(_ e: TLBEntry) -> UInt64 {
        let bits = [true, e.readable, e.writable, e.executable, e.user, e.global, e.accessed, e.dirty]
        return bits.enumerated().reduce(UInt64(0)) { $1.element ? $0 | 1 << UInt64($1.offset) : $0 }
    }

    static func value(_ e: TLBEntry) -> LuaValue {
        var (flags, text) = PageTablesBinding.flags(leafBits(e))
        flags["v"] = nil   // every entry is valid
        var record: [String: LuaValue] = [
            "va": .unsigned(e.virtualAddress), "pa": .unsigned(e.physicalAddress),
            "page_size": .unsigned(1 << (12 + 9 * UInt64(e.level))), "asid": .integer(Int64(e.asid)),
            "global": .boolean(e.global), "flags": .record(flags), "flags_text": .string(text),
            "set": .integer(Int64(e.set)), "way": .integer(Int64(e.way)),
        ]
        if let vmid = e.vmid { record["vmid"] = .integer(Int64(vmid)) }
        return .record(record)
    }
}
