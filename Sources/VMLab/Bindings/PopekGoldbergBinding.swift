import Hypervisor
import LuaKit
import Machine

/// `vmlab.popek_goldberg{...}`: the Popek–Goldberg checker (Hypervisor's `PopekGoldberg`, article
/// PopekGoldberg.md) as plain data, and the `holes` option that `vmlab.vm` shares with it.
///
/// A hole (`SensitiveHole`) is a sensitive instruction made not to trap when executed with too
/// little privilege, as on pre-VT x86; the names are the ones `SensitiveHole.parse` reads.
enum PopekGoldbergBinding {
    static func contribute(to module: inout LuaModule) {
        module.functions.append(popekGoldberg)
        module.classes.append(reportClass)
        module.classes.append(rowClass)
        module.classes.append(PageTablesBinding.walkClass)
        module.classes.append(PageTablesBinding.levelClass)
        module.classes.append(PageTablesBinding.incoherenceClass)
        module.classes.append(TLBBinding.entryClass)
        module.classes.append(TLBBinding.nestedEntryClass)
        module.classes.append(TLBBinding.walkCacheEntryClass)
    }

    /// Every spelling `holes` takes, for the documentation and for the error naming an unknown one.
    static let holeSyntax = "sret, mret, wfi, sfence_vma, csr_read:NAME, csr_write:NAME, csr:NAME (both; NAME a CSR name such as sstatus, or a number such as 0x100), or a group: "
        + SensitiveHole.groupNames.joined(separator: ", ")

    static let holesDescription = "Sensitive instructions made NOT to trap when executed with too little privilege (`SensitiveHole`): a deprivileged CSR read returns the real value (`csr_read:sstatus`, like x86's PUSHF), a deprivileged CSR write is silently dropped (`csr_write:sstatus`, like POPF), `sret`, `mret`, `wfi`, `sfence_vma` become no-ops. Names: \(holeSyntax). An unknown name raises."

    /// The holes a `holes` list names; an unknown name raises, listing what is valid.
    static func holes(_ value: LuaValue, argument: Int32) throws -> Set<SensitiveHole> {
        var holes: Set<SensitiveHole> = []
        for item in value.arrayItems {
            guard let name = item.string else {
                throw LuaRaise.argument(argument, "option 'holes': hole names (strings) expected, got \(item.typeName)")
            }
            guard let parsed = SensitiveHole.parse(name) else {
                throw LuaRaise.argument(argument, "option 'holes': unknown hole '\(name)' (valid: \(holeSyntax))")
            }
            holes.formUnion(parsed)
        }
        return holes
    }

    static let options: [LuaOption] = [
        LuaOption("guest", .choice(["user", "supervisor"]), "Where the guest kernel runs: \"user\" (default: trap-and-emulate, ring compression) or \"supervisor\" (an M-mode VMM relying on TVM/TSR/TW)."),
        LuaOption("tvm", .boolean, "mstatus.TVM: satp and sfence.vma trap from S-mode (default false)."),
        LuaOption("tsr", .boolean, "mstatus.TSR: sret traps from S-mode (default false)."),
        LuaOption("tw", .boolean, "mstatus.TW: wfi traps from S-mode (default false)."),
        LuaOption("mcounteren", .integer, "Counters S-mode may read: bit 0 cycle, 1 time, 2 instret (default 0)."),
        LuaOption("scounteren", .integer, "Counters U-mode may read, within `mcounteren` (default 0)."),
        LuaOption("holes", .list(.string), holesDescription),
        LuaOption("vm", .object("vmlab.VM"), "Start from a VM's configuration now: its hart 0's mstatus TVM/TSR/TW and counter enables, and its machine's holes (`vmlab.vm{ holes = ... }`); the other options override. `guest` defaults to \"user\" under `trap` and to \"supervisor\" otherwise."),
    ]

    static let popekGoldberg = LuaFunction(
        "popek_goldberg",
        summary: """
        The Popek–Goldberg checker: executes every sensitive instruction of RV64 (every CSR \
        instruction on a supervisor- or machine-level CSR, the counters, sret, mret, wfi, \
        sfence.vma) at the guest kernel's privilege under the given configuration and reports \
        which trap. The ISA is classically virtualisable when every sensitive instruction traps. \
        A misspelt option, a bad value or an unknown hole raises.
        """,
        parameters: [.optional("options", .options(name: "vmlab.PopekGoldbergOptions", options))],
        returns: [LuaReturn(.documented("vmlab.PopekGoldbergReport"), "report")]
    ) { call in
        let o = try call.options(1)
        var c = PopekGoldbergConfiguration()
        if case .object(let box) = o["vm"] {
            // The option's type (`vmlab.VM`) was checked with the options.
            guard let vm = box.object as? VirtualMachine else { throw LuaRaise.argument(1, "option 'vm': a vmlab.VM expected") }
            if vm.isClosed { throw LuaRaise.message("the VM is closed") }
            let guest = try VMBinding.misuse { () throws(VirtualMachine.Misuse) in try vm.live() }
            c = PopekGoldbergConfiguration(machine: guest.machine, guestPrivilege: guest.mode == .trap ? .user : .supervisor)
        }
        if let name = o.string("guest") { c.guestPrivilege = name == "user" ? .user : .supervisor }
        if let b = o.boolean("tvm") { c.tvm = b }
        if let b = o.boolean("tsr") { c.tsr = b }
        if let b = o.boolean("tw") { c.tw = b }
        for name in ["mcounteren", "scounteren"] {
            guard let n = o.integer(name) else { continue }
            guard (0...Int64(UInt32.max)).contains(n) else {
                throw LuaRaise.argument(1, "option '\(name)': must be 0 to 0xffffffff, got \(n)")
            }
            if name == "mcounteren" { c.mcounteren = UInt32(n) } else { c.scounteren = UInt32(n) }
        }
        if o["holes"] != .nil { c.holes = try holes(o["holes"], argument: 1) }
        return [value(PopekGoldberg.check(c))]
    }

    static func value(_ r: PopekGoldbergRow) -> LuaValue {
        var fields: [String: LuaValue] = [
            "instruction": .string(r.instruction), "name": .string(r.name), "writes": .boolean(r.writes),
            "class": .string(r.sensitivity.rawValue), "sensitive": .boolean(r.sensitive), "reason": .string(r.reason),
            "traps": .boolean(r.traps), "effect": .string(r.effect), "verdict": .string(r.verdict.rawValue),
        ]
        if let cause = r.cause { fields["cause"] = .string(cause) }
        return .record(fields)
    }

    static func value(_ report: PopekGoldbergReport) -> LuaValue {
        let c = report.configuration
        return .record([
            "virtualisable": .boolean(report.isClassicallyVirtualisable),
            "summary": .string(report.summary),
            "configuration": .record([
                "guest": .string(c.guestPrivilege == .user ? "user" : c.guestPrivilege == .supervisor ? "supervisor" : "machine"),
                "tvm": .boolean(c.tvm), "tsr": .boolean(c.tsr), "tw": .boolean(c.tw),
                "mcounteren": .integer(Int64(c.mcounteren)), "scounteren": .integer(Int64(c.scounteren)),
                "holes": .array(c.holes.map(\.description).sorted().map { .string($0) }),
                "description": .string(report.configurationDescription),
            ]),
            "rows": .array(report.rows.map(value)),
            "violations": .array(report.violations.map(value)),
            "table": .string(report.groupedTable),
            "violations_table": .string(report.violations.isEmpty ? "" : report.groupedTable(verdicts: [.violation])),
            "full_table": .string(report.table),
        ])
    }

    static let reportClass = LuaDocClass(
        "vmlab.PopekGoldbergReport", summary: "What `vmlab.popek_goldberg` found.",
        fields: [
            .required("virtualisable", .boolean, "Every sensitive instruction traps: trap-and-emulate suffices (Popek and Goldberg's theorem 1)."),
            .required("summary", .string, "The verdict in one line, naming up to ten violations."),
            .required("configuration", .documented("{ guest: string, tvm: boolean, tsr: boolean, tw: boolean, mcounteren: integer, scounteren: integer, holes: string[], description: string }"), "The configuration checked."),
            .required("rows", .list(.documented("vmlab.PopekGoldbergRow")), "Every instruction executed, in catalogue order."),
            .required("violations", .list(.documented("vmlab.PopekGoldbergRow")), "The sensitive instructions that did not trap."),
            .required("table", .string, "Markdown, condensed: forms of one CSR that behave alike share a line."),
            .required("violations_table", .string, "The condensed table of the violations only (empty when there are none)."),
            .required("full_table", .string, "Markdown, one line per instruction, with why it is sensitive."),
        ])

    static let rowClass = LuaDocClass(
        "vmlab.PopekGoldbergRow", summary: "One instruction as the checker executed it.",
        fields: [
            .required("instruction", .string, "Its text: `csrw sstatus, t1`, `sret`."),
            .required("name", .string, "The CSR it accesses, or the mnemonic."),
            .required("writes", .boolean, "A write form of a CSR instruction."),
            .required("class", .choice(SensitivityClass.allCases.map(\.rawValue)), "Popek and Goldberg's kind of sensitivity."),
            .required("sensitive", .boolean, "Sensitive for a guest kernel at the configured privilege."),
            .required("reason", .string, "Why it is sensitive."),
            .required("traps", .boolean, "It raised an exception when executed."),
            .optional("cause", .string, "The exception (`illegal_instruction`) when it trapped."),
            .required("effect", .string, "What it did: `traps (illegal_instruction)`, `the write is silently dropped`..."),
            .required("verdict", .choice(PopekGoldbergVerdict.allCases.map(\.rawValue)), "\"traps\", \"does not trap\" (a violation) or \"guest state\" (not sensitive here)."),
        ])
}
