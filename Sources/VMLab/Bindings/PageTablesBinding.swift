import Hypervisor
import LuaKit
import Machine
import RISCV

/// `vm:page_tables{...}` and `vm:check_shadows()`: page walks as plain data for students, and the
/// shadow coherence checker.
///
/// Under `trap` and `bt` the hart walks shadow tables the VMM built from the guest's (TrapAndEmulate.md), so
/// there are two walks of one address: the guest's own (guest-physical PTE addresses, what the
/// guest kernel believes) and the shadow (machine-physical, what the MMU uses), each in the guest
/// kernel's or the guest user's view (ring compression keeps them apart). In the other modes the
/// hart walks the guest's tables itself: "guest" is the machine's walk (`Machine.pageWalk`) and
/// there is no shadow. `Guest.pageWalk` decides which walks a mode has; GDB's `monitor walk`
/// prints the same walks.
enum PageTablesBinding {
    static let options: [LuaOption] = [
        LuaOption("va", .integer, required: true, "The guest-virtual address to walk."),
        LuaOption("which", .choice(GuestWalkSource.allCases.map(\.rawValue)),
                  "\"guest\" (default: the guest's own tables, PTE addresses guest-physical) or \"shadow\" (under `trap`, `bt` and `hw` with `paging = \"shadow\"`: the tables the hart walks, PTE addresses machine-physical; other modes have none and return `nil, message`) or \"nested\" (under `hw` with nested paging: every entry the two-dimensional walk reads, the guest's and the VMM's G stage's, in order, each level with its `stage`; other modes return `nil, message`)."),
        LuaOption("view", .choice(ShadowView.allCases.map(\.description)),
                  "Under `trap` and `bt`: the guest kernel's (\"kernel\") or the guest user's (\"user\") view; default the view the vCPU is in now. Under `hw` with shadow paging, whose one shadow keeps the guest's U bits: the privilege the guest's tables are walked at (default that of the VMM's last walk). Other modes have one view and ignore it."),
        LuaOption("vcpu", .integer, "The vCPU whose satp the walk starts from, in modes other than `trap` and `bt` (default 0)."),
    ]

    static let methods: [LuaFunction] = [
        .method("page_tables", of: "vmlab.VM",
                summary: "The page walk of `va` as plain data: the PTEs read, root first (address, value, decoded flags), and where it ends (a physical address, or the fault the access would raise). Reads memory only: no TLB fill, no A/D update, no trap. `which = \"shadow\"` outside `trap`, `bt` and shadow-paging `hw` returns `nil, message`.",
                parameters: [.required("options", .options(name: "vmlab.PageTablesOptions", options))],
                returns: [LuaReturn(.documented("vmlab.PageWalk"), "walk"), LuaReturn(.string, "message", "Why there is no such walk.")]) { call in
            let vm = try VMBinding.machine(call)
            let o = try call.options(2)
            let source = o.string("which").flatMap(GuestWalkSource.init(rawValue:)) ?? .guest
            let view = o.string("view").flatMap { name in ShadowView.allCases.first { $0.description == name } }
            let guest = try VMBinding.misuse { () throws(VirtualMachine.Misuse) in try vm.live() }
            switch guest.pageWalk(o.uint64("va") ?? 0, source: source, view: view, vcpu: Int(o.integer("vcpu") ?? 0)) {
            case .success(let walk): return [value(walk)]
            case .failure(.unavailable(let why)): return LuaValue.failure(why)
            case .failure(let misuse): throw LuaRaise.message(misuse.description)
            }
        },
        .method("check_shadows", of: "vmlab.VM",
                summary: "The shadow coherence checker (under `trap`, `bt` and shadow-paging `hw`): every shadow entry that disagrees with the guest's tables now — mapping another page, or allowing what the guest's tables deny, or writable over a page-table page — and every entry in a vCPU's TLB that the shadows no longer back (its `problem` names the hart and machine ASID). An empty list means coherent. Other modes have no shadows: always empty.",
                returns: [LuaReturn(.list(.documented("vmlab.ShadowIncoherence")), "problems")]) { call in
            let vm = try VMBinding.machine(call)
            let guest = try VMBinding.misuse { () throws(VirtualMachine.Misuse) in try vm.live() }
            guard let shadowing = guest.technique as? ShadowPagingTechnique else { return [.array([])] }
            return [.array(shadowing.checkCoherence().map { p in
                .record([
                    "satp": .unsigned(p.guestSATP), "view": .string(p.view.description), "va": .unsigned(p.va),
                    "shadow_pte": .unsigned(p.shadowPTE), "shadow_address": .unsigned(p.shadowAddress),
                    "problem": .string(p.problem), "message": .string(p.description),
                ])
            })]
        },
    ]

    static let walkClass = LuaDocClass(
        "vmlab.PageWalk", summary: "A page walk (`vm:page_tables`).",
        fields: [
            .required("va", .integer, "The address walked."),
            .required("which", .string, "\"guest\", \"shadow\" or \"nested\"."),
            .optional("view", .string, "Under `trap` and `bt`: \"kernel\" or \"user\"."),
            .required("mode", .string, "\"bare\", \"sv39\", \"sv48\" or \"sv57\"."),
            .required("root", .integer, "The root table's address (0 for bare)."),
            .required("levels", .list(.documented("vmlab.PageWalkLevel")), "The PTEs read, root first."),
            .required("ok", .boolean, "Whether the walk translates `va`."),
            .optional("physical", .integer, "Where `va` maps to (guest-physical for \"guest\", machine-physical for \"shadow\")."),
            .optional("page_size", .integer, "The size of the page the leaf maps (4096, 2 MiB, 1 GiB...)."),
            .optional("fault", .string, "The exception the access would raise (`load_page_fault`...)."),
        ])

    static let levelClass = LuaDocClass(
        "vmlab.PageWalkLevel", summary: "One page-table entry read by a walk.",
        fields: [
            .required("level", .integer, "Its level: the root's is the highest, 0 maps 4 KiB pages."),
            .required("pte_address", .integer, "Where the entry is."),
            .required("pte", .integer, "Its value."),
            .required("flags", .documented("{ v: boolean, r: boolean, w: boolean, x: boolean, u: boolean, g: boolean, a: boolean, d: boolean }"), "The permission and status bits 0–7 (privileged spec, \"Sv39\")."),
            .required("flags_text", .string, "The same bits as text, `DAGUXWRV` with `-` for a clear bit."),
            .required("leaf", .boolean, "Whether it is a leaf (valid, with R or X set)."),
            .required("next", .integer, "The address its PPN names: the next table, or the page for a leaf."),
            .optional("stage", .string, "In a \"nested\" walk: \"guest\" (the guest's own tables; `pte_address` host-physical, `guest_physical` where the guest put it) or \"host\" (the VMM's G stage)."),
            .optional("guest_physical", .integer, "In a \"nested\" walk, for a guest entry: its guest physical address."),
        ])

    static let incoherenceClass = LuaDocClass(
        "vmlab.ShadowIncoherence", summary: "A shadow entry that disagrees with the guest's tables, or a TLB entry the shadows no longer back (`vm:check_shadows`).",
        fields: [
            .required("satp", .integer, "The guest satp of the shadowed address space."),
            .required("view", .string, "\"kernel\" or \"user\"."),
            .required("va", .integer, "The virtual address the entry maps."),
            .required("shadow_pte", .integer, "The shadow entry (for a TLB entry: the shadow's entry for its address, 0 if none)."),
            .required("shadow_address", .integer, "Where it is (machine-physical; 0 when the shadow has no table there)."),
            .required("problem", .string, "What is wrong."),
            .required("message", .string, "All of it in one line."),
        ])

    // MARK: plain data

    /// A PTE's bits 0–7 (privileged spec, "Sv39": V R W X U G A D) by name, and as text.
    static func flags(_ pte: UInt64) -> (flags: [String: LuaValue], text: String) {
        let names = ["v", "r", "w", "x", "u", "g", "a", "d"]
        var flags: [String: LuaValue] = [:]
        var text = ""
        for (bit, name) in names.enumerated() {
            let on = pte >> UInt64(bit) & 1 != 0
            flags[name] = .boolean(on)
            text = (on ? name.uppercased() : "-") + text   // printed high bit first, as the spec draws it
        }
        return (flags, text)
    }

    /// One PTE's bits 0–7, and the PPN as an address.
    static func levelFields(_ level: Int, address: UInt64, pte: UInt64) -> [String: LuaValue] {
        let (flags, text) = self.flags(pte)
        let ppn = (pte >> 10) & ((1 << 44) - 1)
        return [
            "level": .integer(Int64(level)), "pte_address": .unsigned(address), "pte": .unsigned(pte),
            "flags": .record(flags), "flags_text": .string(text),
            "leaf": .boolean(pte & 1 != 0 && pte & 0b1010 != 0), "next": .unsigned(ppn << 12),
        ]
    }

    /// A walk (`Guest.pageWalk`) as plain data.
    static func value(_ walk: GuestPageWalk) -> LuaValue {
        var fields: [String: LuaValue] = [
            "va": .unsigned(walk.va), "which": .string(walk.source.rawValue),
            "mode": .string(walk.mode), "root": .unsigned(walk.root),
            "levels": .array(walk.steps.map { step in
                var entry = levelFields(step.level, address: step.pteAddress, pte: step.pte)
                if let stage = step.stage { entry["stage"] = .string(stage.rawValue) }
                if let gpa = step.guestPhysical { entry["guest_physical"] = .unsigned(gpa) }
                return .record(entry)
            }),
        ]
        if let view = walk.view { fields["view"] = .string(view.description) }
        switch walk.outcome {
        case .translated(let physical, let pageLevel):
            fields["ok"] = .boolean(true)
            fields["physical"] = .unsigned(physical)
            if let pageLevel { fields["page_size"] = .unsigned(1 << (12 + 9 * UInt64(pageLevel))) }
        case .fault(let cause):
            fields["ok"] = .boolean(false)
            fields["fault"] = .string(cause.name)
        }
        return .record(fields)
    }
}
