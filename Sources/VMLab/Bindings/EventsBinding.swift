import Boot
import Hypervisor
import LuaKit
import Machine
import RISCV

/// `vm:on`, `vm:breakpoint`, `vm:watch` and the `vmlab.Hook` handles they return: the Lua face of
/// the Hypervisor's event taxonomy (`GuestEventKind`), hooks (`EventHub`), breakpoints and
/// watchpoints.
///
/// Filters are applied in Swift (`EventFilter`) before any Lua runs, so a hook on rare events
/// costs nothing on the others. A hook runs after its event took effect, on the Lua thread that
/// called `vm:run`; a Lua error inside it stops the run and `vm:run` raises it afterwards (the
/// error never crosses Swift frames: the hook is called protected).
enum EventsBinding {
    static let eventNames = GuestEventKind.allCases.map(\.rawValue)

    /// Every cause name a filter may use: exceptions and interrupts (RISC-V cause names), the SBI
    /// extensions as hypercalls name them ("sbi_" + `SBIExtension.name`, lowercased: `sbi_time`,
    /// `sbi_srst`...), vmlab's para-virtual hypercalls ("pv_" + `Hypercall.name`: `pv_mmu_update`...),
    /// and "fault" (a page walk that faulted).
    static var causeNames: [String] {
        RISCV.ExceptionCause.allCases.map(\.name) + RISCV.InterruptCause.allCases.map(\.name)
            + SBIExtension.allCases.map { "sbi_" + $0.name.lowercased() }
            + Hypercall.allCases.map { "pv_" + $0.name } + ["fault"]
    }

    /// Causes without a name, as the Hypervisor spells them: `exception_24`, `interrupt_13`,
    /// `sbi_0x4a` (an SBI extension this SBI does not implement), `pv_0x40` (an unknown hypercall).
    static func isNumberedCause(_ name: String) -> Bool {
        for prefix in ["exception_", "interrupt_"] where name.hasPrefix(prefix) {
            return UInt64(name.dropFirst(prefix.count)).map { $0 < 64 } ?? false
        }
        for prefix in ["sbi_0x", "pv_0x"] where name.hasPrefix(prefix) {
            return UInt64(name.dropFirst(prefix.count), radix: 16) != nil
        }
        return false
    }

    static let privilegeNames: [(String, PrivilegeMode)] = [("user", .user), ("supervisor", .supervisor), ("machine", .machine)]

    static func privilegeName(_ mode: PrivilegeMode) -> String {
        privilegeNames.first { $0.1 == mode }?.0 ?? "machine"
    }

    static let filterOptions: [LuaOption] = [
        LuaOption("cause", .oneOf([.string, .list(.string)]), "A cause name or a list of them: `ecall_u`, `store_page_fault`, `supervisor_timer`... (also `exception_N`, `interrupt_N`), `sbi_time`, `sbi_srst`... for SBI calls (`sbi_0xN` for an extension the SBI does not implement), `pv_mmu_update`, `pv_set_satp`... for para-virtual hypercalls (`pv_0xN` for an unknown call number), \"fault\" for a page walk that faulted. An unknown name raises, listing the valid ones."),
        LuaOption("address", .documented("{ [1]: integer, [2]: integer }"), "`{ lo, hi }`, inclusive: the event's address (trap value, device register, page-walk address) must lie in it; events without an address do not match."),
        LuaOption("privilege", .choice(privilegeNames.map(\.0)), "The privilege the guest was in."),
        LuaOption("asid", .integer, "The address-space identifier in use (events that carry one)."),
        LuaOption("vcpu", .integer, "The vCPU (hart) the event happened on."),
    ]

    // MARK: reading filters

    /// A filter from a table of `filterOptions` (plus `extra` keys the caller reads itself);
    /// unknown keys raise as any options table does.
    static func filter(_ value: LuaValue, function: String, extra: [String] = []) throws -> EventFilter {
        guard case .table(let fields) = value else { return .any }
        let names = filterOptions.map(\.name) + extra
        for key in fields.keys {
            guard let name = key.string, case .string = key, names.contains(name) else {
                throw LuaRaise.message("unknown option '\(key.string ?? key.typeName)' to '\(function)' (expected one of: \(names.sorted().joined(separator: ", ")))")
            }
        }
        var filter = EventFilter()
        switch value["cause"] {
        case .nil: break
        case .table(let t):
            let causes = value["cause"].arrayItems.compactMap(\.string)
            guard !causes.isEmpty, causes.count == t.count else { throw LuaRaise.message("filter 'cause': a cause name or a non-empty list of them expected") }
            filter.causes = Set(try causes.map(cause))
        case let other:
            guard let name = other.string else { throw LuaRaise.message("filter 'cause': string or list expected, got \(other.typeName)") }
            filter.causes = [try cause(name)]
        }
        switch value["address"] {
        case .nil: break
        case let range:
            guard let lo = range[1].uint64, let hi = range[2].uint64, range.arrayItems.count == 2 else {
                throw LuaRaise.message("filter 'address': { lo, hi } expected (two integers)")
            }
            guard lo <= hi else { throw LuaRaise.message("filter 'address': lo (\(Formatting.hexText(lo))) is above hi (\(Formatting.hexText(hi)))") }
            filter.addresses = lo...hi
        }
        if let name = value["privilege"].string {
            guard let mode = privilegeNames.first(where: { $0.0 == name })?.1 else {
                throw LuaRaise.message("unknown privilege '\(name)' (expected one of: \(privilegeNames.map(\.0).joined(separator: ", ")))")
            }
            filter.privilege = mode
        } else if value["privilege"] != .nil {
            throw LuaRaise.message("filter 'privilege': string expected, got \(value["privilege"].typeName)")
        }
        if value["asid"] != .nil {
            guard let asid = value["asid"].int64, (0...0xFFFF).contains(asid) else {
                throw LuaRaise.message("filter 'asid': an integer 0 to 65535 expected")
            }
            filter.asid = UInt16(asid)
        }
        if value["vcpu"] != .nil {
            guard let vcpu = value["vcpu"].int64, vcpu >= 0 else { throw LuaRaise.message("filter 'vcpu': a non-negative integer expected") }
            filter.vcpu = Int(vcpu)
        }
        return filter
    }

    static func cause(_ name: String) throws -> String {
        guard causeNames.contains(name) || isNumberedCause(name) else {
            throw LuaRaise.message("unknown cause '\(name)' (expected one of: \(causeNames.joined(separator: ", ")))")
        }
        return name
    }

    static func kind(_ name: String) throws -> GuestEventKind {
        guard let kind = GuestEventKind(rawValue: name) else {
            throw LuaRaise.message("unknown event '\(name)' (expected one of: \(eventNames.joined(separator: ", ")))")
        }
        return kind
    }

    // MARK: events as Lua tables

    /// The plain table a hook receives.
    static func value(_ e: GuestEvent) -> LuaValue {
        var t: [String: LuaValue] = [
            "kind": .string(e.kind.rawValue), "vcpu": .integer(Int64(e.vcpu)), "pc": .unsigned(e.pc),
            "privilege": .string(privilegeName(e.privilege)), "instructions": .unsigned(e.instructions),
            "cycles": .unsigned(e.cycles),
        ]
        if let cause = e.cause { t["cause"] = .string(cause) }
        if let code = e.causeCode { t["cause_code"] = .unsigned(code) }
        if let address = e.address { t["address"] = .unsigned(address) }
        if let value = e.value { t["value"] = .unsigned(value) }
        if let instruction = e.instruction { t["insn"] = .integer(Int64(instruction)) }
        if let size = e.size { t["size"] = .integer(Int64(size)) }
        if let write = e.isWrite { t["write"] = .boolean(write) }
        if let asid = e.asid { t["asid"] = .integer(Int64(asid)) }
        if let references = e.references { t["references"] = .integer(Int64(references)) }
        return .record(t)
    }

    static let eventClass = LuaDocClass(
        "vmlab.Event", summary: "What a hook receives: a plain table describing one event, after it took effect.",
        fields: [
            .required("kind", .choice(GuestEventKind.allCases.map(\.rawValue)), "The event's kind (the name `vm:on` was given)."),
            .required("vcpu", .integer, "The vCPU it happened on."),
            .optional("cause", .string, "For traps, exits, hypercalls: `ecall_u`, `store_page_fault`, `sbi_time`..."),
            .optional("cause_code", .integer, "The cause as `mcause`/`scause` encodes it (interrupts with bit 63 set)."),
            .required("pc", .integer, "The guest pc of the instruction concerned (for an interrupt, where the guest was)."),
            .optional("address", .integer, "A trap's value (faulting address), a device register's or DMA's physical address, a page walk's virtual address."),
            .optional("value", .integer, "The value read or written (MMIO)."),
            .optional("insn", .integer, "For an exit: the bits of the instruction that trapped (16 bits when compressed; `vmlab.disasm(ev.insn)`), read through the guest's own page tables; absent when they do not map it for a fetch."),
            .optional("size", .integer, "The access size in bytes (MMIO), or bytes moved (DMA)."),
            .optional("write", .boolean, "Whether the access was a write."),
            .required("privilege", .choice(privilegeNames.map(\.0)), "The privilege the guest was in."),
            .optional("asid", .integer, "The ASID in use."),
            .optional("references", .integer, "Page-table entries a walk read or wrote back."),
            .required("instructions", .integer, "The guest's instructions retired when it happened."),
            .required("cycles", .integer, "The guest's modelled cycles when it happened."),
        ])

    // MARK: handles

    static let handleClass = LuaDocClass(HookHandle.luaClass)

    static let watchOptions: [LuaOption] = [
        LuaOption("address", .integer, required: true, "The first byte watched."),
        LuaOption("size", .integer, "Bytes watched (default 8)."),
        LuaOption("access", .choice(["write", "read", "rw"]), "Which accesses hit (default \"write\")."),
        LuaOption("space", .choice(["guest-physical", "guest-virtual"]), "How `address` is read (default \"guest-physical\"); a virtual range is translated now, through vCPU `vcpu`'s page tables, and the watchpoint stays on the physical bytes."),
        LuaOption("vcpu", .integer, "The vCPU whose page tables translate a virtual address (default 0)."),
    ]

    static let methods: [LuaFunction] = [
        .method("on", of: "vmlab.VM",
                summary: """
                Calls `fn(event)` after every event of kind `event` that matches `filter` (checked in Swift, \
                before Lua runs), while `vm:run`, `vm:step` or `host:run` runs this VM. Kinds: \
                \(eventNames.joined(separator: ", ")) (kinds a mode never produces simply never fire). \
                The hook runs after the event took effect (a trap has been delivered, an MMIO access \
                completed, a page walk finished), except `privileged`, which runs before the instruction's \
                effect; it may read and write registers, CSRs and memory with `vm:read`, `vm:write`, \
                `vm:read_memory`, `vm:write_memory`, and the changes are what the vCPU sees when it \
                resumes. Returning \"stop\" (or false) stops the run after the current instruction \
                (reason \"hook\"); returning nothing (or true) lets it go on, and any other value is an \
                error. An error in the hook stops the run and `vm:run` raises it: a message as \
                "error in a hook: " with the hook's message and traceback, any other value (`error({ code = 1 })`) \
                unchanged, so `pcall` gets it back. It may not run or step the VM; closing it from a hook stops the run and closes it when the run returns.
                """,
                parameters: [.required("event", .choice(eventNames)),
                             .optional("filter", .oneOf([.options(name: "vmlab.EventFilter", filterOptions), .function]),
                                       "What must match (may be omitted: `vm:on(\"trap\", fn)`)."),
                             .optional("fn", .function, "`function(event: vmlab.Event): \"stop\"|boolean|nil`")],
                returns: [LuaReturn(.object("vmlab.Hook"), "hook", "Remove it with `hook:remove()` (or `:close()`, or a `<close>` variable).")]) { call in
            let vm = try VMBinding.machine(call)
            let kind = try kind(try call.string(2))
            let filterValue: LuaValue
            let fnIndex: Int32
            if case .reference(let ref) = try call.value(2 + 1), ref.typeName == "function", call.isNil(4) {
                filterValue = .nil
                fnIndex = 3
            } else {
                filterValue = try call.value(3)
                fnIndex = 4
            }
            if call.isNil(fnIndex) { throw LuaRaise.argument(fnIndex, "function expected, got no value") }
            guard case .reference(let function) = try call.value(fnIndex), function.typeName == "function" else {
                throw LuaRaise.argument(fnIndex, "function expected, got \(try call.value(fnIndex).typeName)")
            }
            switch filterValue {
            case .nil, .table: break
            default: throw LuaRaise.argument(3, "table expected, got \(filterValue.typeName)")
            }
            let filter = try filter(filterValue, function: "on")
            let handle = try VMBinding.misuse { () throws(VirtualMachine.Misuse) in
                try vm.addHook(kind, filter: filter, function: function)
            }
            return [.object(handle)]
        },
        .method("breakpoint", of: "vmlab.VM",
                summary: "Stops a run (reason \"breakpoint\", with `pc` and `hart`) before the instruction at a guest pc executes: an address, or a symbol of `vm:symbols()`. An unknown symbol raises.",
                parameters: [.required("at", .oneOf([.integer, .string]), "A guest pc or a symbol name.")],
                returns: [LuaReturn(.object("vmlab.Hook"), "breakpoint", "`:remove()` it to run past it.")]) { call in
            let vm = try VMBinding.machine(call)
            let pc = try VMBinding.address(call, 2, vm)
            return [.object(vm.addBreakpoint(pc))]
        },
        .method("watch", of: "vmlab.VM",
                summary: "A watchpoint on guest memory: a run stops (reason \"watchpoint\", with `pc`, `address` and `write`) after an instruction that accessed the range as `access` says. Device memory cannot be watched (it raises), nor a virtual range that is not mapped.",
                parameters: [.required("options", .options(name: "vmlab.WatchOptions", watchOptions))],
                returns: [LuaReturn(.object("vmlab.Hook"), "watchpoint")]) { call in
            let vm = try VMBinding.machine(call)
            let o = try call.options(2)
            let size = o.integer("size") ?? 8
            guard size > 0 && size <= 1 << 30 else { throw LuaRaise.argument(2, "option 'size': must be 1 to 2^30, got \(size)") }
            let access: WatchAccess = switch o.string("access") {
            case "read": .read
            case "rw": .readWrite
            default: .write
            }
            let virtual = o.string("space") == "guest-virtual"
            let vcpu = Int(o.integer("vcpu") ?? 0)
            let handle = try VMBinding.misuse { () throws(VirtualMachine.Misuse) in
                try vm.addWatchpoint(o.uint64("address") ?? 0, size: UInt64(size), access: access,
                                     space: virtual ? .guestVirtual(vcpu: vcpu) : .guestPhysical)
            }
            return [.object(handle)]
        },
    ]
}

/// What `vm:on`, `vm:breakpoint` and `vm:watch` return: removing it undoes what made it. It never
/// keeps its VM alive; once the VM is closed, removing it does nothing.
final class HookHandle: LuaObject {
    let what: String
    private var removal: (() -> Void)?

    init(_ what: String, removal: @escaping () -> Void) {
        self.what = what
        self.removal = removal
    }

    var isRemoved: Bool { removal == nil }

    /// Idempotent.
    func remove() {
        let action = removal
        removal = nil
        action?()
    }

    static let luaClass = LuaClass(
        "vmlab.Hook",
        summary: "A hook, breakpoint or watchpoint on a VM. `:remove()` (or `:close()`, or the end of a `<close>` variable's scope) takes it away; removing twice is harmless.",
        methods: [
            .method("remove", of: "vmlab.Hook", summary: "Takes the hook, breakpoint or watchpoint away (also from inside a hook: it runs no more).") { call in
                try call.object(1, as: HookHandle.self).remove()
                return []
            },
        ],
        close: { ($0 as? HookHandle)?.remove() },
        describe: { object in
            guard let handle = object as? HookHandle else { return "vmlab.Hook" }
            return "vmlab.Hook (\(handle.what)\(handle.isRemoved ? ", removed" : ""))"
        })
}
