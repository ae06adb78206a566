import Devices
import Foundation
import Hypervisor
import LuaKit

/// `vmlab.vm{...}` and the `vmlab.VM` handle's methods: the Lua face of `VirtualMachine`.
///
/// Misuse (a misspelt option, a bad value, an unknown register, an address outside RAM, a closed
/// VM) raises at once; expected failures while building (a missing kernel file, a malformed ELF,
/// RAM too small for the images) return `nil, message`.
enum VMBinding {
    static func contribute(to module: inout LuaModule) {
        module.functions.append(vm)
        module.classes.append(LuaDocClass(VirtualMachine.luaClass))
        module.classes.append(stopClass)
        module.classes.append(statsClass)
        module.classes.append(EventsBinding.eventClass)
        module.classes.append(EventsBinding.handleClass)
        module.classes.append(runToClass)
        SnapshotBinding.contribute(to: &module)
        IOMMUBinding.contribute(to: &module)
        // Profiles are what `profile=` takes, so they come with the VM.
        CostsBinding.contribute(to: &module)
    }

    /// Every mode the lab knows (`ExecutionMode`); those not yet available raise when named.
    static let modes = ExecutionMode.allCases.map(\.rawValue)

    /// The mode `name` names, if it is available now; otherwise raises, listing both sets.
    static func mode(named name: String) throws -> ExecutionMode {
        guard let mode = ExecutionMode(rawValue: name) else {
            throw LuaRaise.message("unknown mode '\(name)' (expected one of: \(modes.joined(separator: ", ")))")
        }
        let available = ExecutionMode.available
        guard available.contains(mode) else {
            throw LuaRaise.message("mode '\(name)' is not available yet (available: \(available.map(\.rawValue).joined(separator: ", ")); "
                + "not available yet: \(ExecutionMode.allCases.filter { !available.contains($0) }.map(\.rawValue).joined(separator: ", ")))")
        }
        return mode
    }

    /// Bytes from a `memory` option: an integer, a float with an integer value (`128 * 2^20`), or
    /// text with a binary unit ("128M"); nil when absent. Anything else raises.
    static func memory(_ value: LuaValue, argument: Int32) throws -> UInt64? {
        switch value {
        case .nil: return nil
        case let value where value.int64 != nil:
            let bytes = value.int64!
            guard bytes > 0 else { throw LuaRaise.argument(argument, "option 'memory': must be positive, got \(bytes)") }
            return UInt64(bytes)
        case .number(let number):
            throw LuaRaise.argument(argument, "option 'memory': number has no integer representation (\(number))")
        case let value:
            let text = value.string ?? ""
            guard let bytes = VMSpec.parseMemory(text) else {
                throw LuaRaise.argument(argument, "option 'memory': bad size '\(text)' (expected bytes, or a number with K, M, G or T, e.g. \"128M\")")
            }
            return bytes
        }
    }

    /// A `bootargs` option, "" when absent. The device tree holds the command line as a C string,
    /// so a NUL byte would end it there and the kernel would never see the rest.
    static func bootargs(_ text: String?, argument: Int32) throws -> String {
        guard let text else { return "" }
        if let nul = text.utf8.firstIndex(of: 0) {
            let offset = text.utf8.distance(from: text.utf8.startIndex, to: nul)
            throw LuaRaise.argument(argument, "option 'bootargs': the kernel command line holds a NUL byte at offset \(offset); the device tree stores it as a C string, which would end there")
        }
        return text
    }

    static let diskOptions: [LuaOption] = [
        LuaOption("file", .string, required: true, "A raw disk image file, a whole number of 512-byte sectors (the device reads and writes whole sectors; a file with a partial last sector is refused: `vmlab.vm` returns nil and a message naming its size)."),
        LuaOption("writable", .boolean, "Whether the guest's writes reach the file (default false: they stay in memory, copy-on-write, and the file never changes)."),
        LuaOption("slot", .integer, "The virtio-mmio slot, 0 to 7 (slot n at 0x10001000 + n × 0x1000, PLIC source n + 1), as QEMU's `bus=virtio-mmio-bus.n`: xv6, for one, looks only at slot 0. Default: QEMU's order, the highest free slot (the first disk at 0x10008000). A slot that does not exist or is taken twice: `vmlab.vm` returns nil and a message."),
    ]

    static let options: [LuaOption] = [
        LuaOption("mode", .choice(modes), "How the guest runs: \"native\" (default: directly on the machine, no VMM) or \"interpret\" (the VMM runs it in a software CPU over RAM carved out of a private host: every instruction emulated and charged the profile's `interpretation` price) or \"trap\" (trap-and-emulate: the guest kernel runs deprivileged, every privileged instruction traps to the VMM, the MMU walks shadow page tables; see `vm:page_tables`) or \"pv\" (para-virtualisation: a kernel built for vmlab's hypercall interface, such as `vmlab.guest \"tinyos-pv\"`, runs in S-mode with TVM/TW set and makes hypercalls for page-table updates, address-space switches and its block I/O; an unmodified kernel's privileged instructions trap and are emulated, but a satp write must name a page table the VMM has validated, so a kernel that turns paging on by itself is refused with an illegal-instruction exception at that write) or \"bt\" (binary translation: the unmodified kernel runs deprivileged on shadow page tables as under \"trap\", but its code is translated block by block before it runs — sensitive instructions become callouts into the VMM or inline emulation instead of traps, and hot stores to page-table pages are retranslated (adaptive BT); user code runs directly; see `bt=`) or \"hw\" (hardware assistance: the guest's machine gets the H extension and the unmodified kernel runs in VS-mode, its CSRs, traps and interrupts its own; its page tables are walked in two stages over the VMM's G-stage tables (Sv39x4, 4 KiB pages: 15 references per TLB miss where a native walk makes 3); only SBI calls, device register accesses and the external interrupt line exit to the VMM, each priced `vm_exit` + `vm_entry`)."),
        LuaOption("memory", .oneOf([.string, .integer]), "RAM at 0x80000000: bytes, or text with a binary unit (\"128M\", \"1G\"). Default 128M."),
        LuaOption("harts", .integer, "Number of harts, 1 to 64 (default 1). Modes `trap` and `bt` run one vCPU and refuse more."),
        LuaOption("firmware", .string, "\"builtin\" (vmlab's SBI in Swift), \"none\" (the kernel runs bare-metal in M-mode) or the path of an M-mode firmware ELF such as OpenSBI's fw_jump.elf. Default: builtin, or none for a kernel ELF loaded at 0x80000000 and for an `image` under native and interpret."),
        LuaOption("kernel", .string, "Path of the kernel ELF (or raw image) — `vmlab.guest \"tinyos\"`."),
        LuaOption("initrd", .string, "Path of an initial RAM disk."),
        LuaOption("bootargs", .string, "The kernel command line (/chosen/bootargs); a NUL byte in it raises (the device tree's C string would end there)."),
        LuaOption("disks", .list(.options(name: "vmlab.DiskOptions", diskOptions)), "virtio-blk disks, each in its `slot` or else in QEMU's order (the first at 0x10008000, the next below it)."),
        NetworkBinding.nicsOption,
        LuaOption("virtio_console", .boolean, "A virtio-console (one port, virtio 1.2 §5.3) after the disks and cards: what the guest writes to it joins `vm:console()`, and `vm:input` reaches it as it reaches the UART (default false)."),
        LuaOption("rng", .oneOf([.boolean, .integer]), "A virtio-rng (virtio 1.2 §5.4) after the disks, cards and console: `true` draws from vmlab's default seed, an integer from that seed (its 64 bits). The bytes are a SplitMix64 stream, the same in every run with the same seed; not cryptographic."),
        LuaOption("pv", .options(name: "vmlab.ParavirtualOptions", paravirtualOptions), "The para-virtual VMM's policy (mode \"pv\" only; see HypercallABI in the Hypervisor documentation)."),
        LuaOption("bt", .options(name: "vmlab.BinaryTranslationOptions", binaryTranslationOptions), "The binary translator's policy (mode \"bt\" only; see BinaryTranslation in the Hypervisor documentation)."),
        LuaOption("shadow", .options(name: "vmlab.ShadowOptions", shadowOptions), "The shadow pager's policy (modes \"trap\" and \"bt\", and \"hw\" with `hw = { paging = \"shadow\" }`, which shadow the guest's page tables; see TrapAndEmulate in the Hypervisor documentation)."),
        LuaOption("hw", .options(name: "vmlab.HardwareAssistOptions", hardwareAssistOptions), "The hardware-assisted VMM's policy (mode \"hw\" only; see HardwareAssisted in the Hypervisor documentation)."),
        LuaOption("image", .string, "Raw machine code (`vmlab.asm`): loaded at 0x80000000 and entered in M-mode, without firmware; or, with a firmware (`firmware = \"builtin\"`, the default under trap, bt and pv), the kernel, loaded at 0x80200000 and entered in S-mode."),
        LuaOption("symbols", Assembly.symbolsType, "More names of guest addresses, for `vm:symbols()`, `vm:breakpoint` and `vm:run{ to = }`: name → address, such as the second result of `vmlab.asm` for an `image` (give `vmlab.asm` the `base` the image is loaded at). They are added to the ELF files' symbols, and win over them."),
        LuaOption("echo", .boolean, "Copy the console to standard output as the guest writes it (default false)."),
        LuaOption("profile", .oneOf([.string, .documented("vmlab.CostProfile")]),
                  "The cost profile the machine charges (`vmlab.costs`): a name (\(CostProfile.names.map { "\"\($0)\"" }.joined(separator: ", "))) or a profile. Modelled cycles and guest-visible time (`mtime`) follow its prices. Default \"\(CostProfile.standard.name)\"."),
        LuaOption("holes", .list(.string), PopekGoldbergBinding.holesDescription + " They matter where the guest kernel runs deprivileged (`trap`); `vmlab.popek_goldberg{ vm = vm }` names what they break."),
    ] + hardwareOptions

    static let vm = LuaFunction(
        "vm",
        summary: """
        Builds a machine (QEMU `virt` board: RAM at 0x80000000, UART, CLINT, PLIC, virtio-mmio, test \
        finisher) with the images loaded and the harts at their entry; nothing runs until `vm:run`. \
        A misspelt option or a malformed value (a wrong type, a size that does not parse, a negative \
        number) raises; a machine that cannot be built as asked (a missing or malformed file, images \
        that do not fit in RAM, a RAM size the board does not take: under 1 MiB, over 1 TiB, not \
        whole 4 KiB pages) returns `nil, message`.
        """,
        parameters: [.required("options", .options(name: "vmlab.VMOptions", options))],
        returns: [LuaReturn(.object("vmlab.VM"), "vm"), LuaReturn(.string, "message", "Why the VM could not be built.")]
    ) { call in
        let o = try call.options(1)
        let spec = try readSpec(o)
        do {
            return [.object(try connected(VirtualMachine(spec), o, argument: 1))]
        } catch let error as VirtualMachine.BuildFailure {
            return LuaValue.failure(error.description)
        }
    }

    /// `vm` with its network cards plugged into the switches `o` names; closed when that fails.
    static func connected(_ vm: VirtualMachine, _ o: LuaOptions, argument: Int32) throws -> VirtualMachine {
        let switches = try NetworkBinding.read(o["nics"], argument: argument).switches
        do {
            try vm.connect(nics: switches)
        } catch {
            vm.close()
            throw error
        }
        return vm
    }

    /// The spec from checked options; the remaining misuse (values, combinations) raises here,
    /// naming `argument`, the options' place in the call (2 for the method `host:vm`, whose self
    /// is argument 1).
    static func readSpec(_ o: LuaOptions, argument: Int32 = 1) throws -> VMSpec {
        var spec = VMSpec()
        if let name = o.string("mode") { spec.mode = try mode(named: name) }
        if let memory = try memory(o["memory"], argument: argument) { spec.memory = memory }
        if let harts = o.integer("harts") {
            guard (1...64).contains(harts) else { throw LuaRaise.argument(argument, "option 'harts': must be 1 to 64, got \(harts)") }
            spec.harts = Int(harts)
        }
        spec.symbols.merge(try Assembly.symbols(o["symbols"], argument: argument)) { _, given in given }
        if let image = o["image"].bytes {
            for name in ["kernel", "initrd"] where o[name] != .nil {
                throw LuaRaise.message("'\(name)' and 'image' cannot be combined: the image is the program (or, under a firmware, the kernel)")
            }
            guard !image.isEmpty else { throw LuaRaise.argument(argument, "option 'image': the image is empty") }
            // A path passed as the image would run its characters as instructions and fault at
            // once. Machine code nearly always holds control bytes (a zero upper byte, a small
            // register field); a string with none that names a file or reads as one is a path.
            if let text = String(bytes: image, encoding: .utf8), !image.contains(where: { $0 < 0x20 || $0 == 0x7F }),
               text.contains("/") || text.hasSuffix(".elf") || FileManager.default.fileExists(atPath: text) {
                throw LuaRaise.argument(argument, "option 'image' is machine code (`vmlab.asm`), and this string reads as a path: a kernel file goes in 'kernel'")
            }
            spec.image = image
        } else {
            guard let kernel = o.string("kernel") else {
                throw LuaRaise.argument(argument, "a VM needs 'kernel' (a path) or 'image' (machine code)")
            }
            // Machine code passed as a path would be reported as a file that does not exist,
            // named by its bytes. A path holds no control bytes (and never a NUL).
            if kernel.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                throw LuaRaise.argument(argument, "option 'kernel' is a path, and this string holds control bytes: machine code (`vmlab.asm`) goes in 'image'")
            }
            spec.kernel = kernel
        }
        switch o.string("firmware") {
        case nil: break
        case "builtin": spec.firmware = .builtin
        case "none": spec.firmware = .none
        case let path?: spec.firmware = .file(path)
        }
        spec.initrd = o.string("initrd")
        spec.bootargs = try bootargs(o.string("bootargs"), argument: argument)
        spec.disks = o["disks"].arrayItems.map { disk in
            VMSpec.Disk(path: disk["file"].string ?? "", writable: disk["writable"].bool ?? false,
                        slot: disk["slot"].int64.map { Int(clamping: $0) })
        }
        spec.nics = try NetworkBinding.read(o["nics"], argument: argument).nics
        spec.virtioConsole = o.boolean("virtio_console") ?? false
        switch o["rng"] {
        case .boolean(true): spec.rngSeed = VirtioRNG.defaultSeed
        case let value where value.int64 != nil: spec.rngSeed = UInt64(bitPattern: value.int64!)
        default: break
        }
        spec.echo = o.boolean("echo") ?? false
        if o["profile"] != .nil { spec.profile = try CostsBinding.read(o["profile"], argument: argument) }
        if o["holes"] != .nil { spec.holes = try PopekGoldbergBinding.holes(o["holes"], argument: argument) }
        try readHardware(o, into: &spec, argument: argument)
        if o["pv"] != .nil {
            spec.paravirtualPolicy = try paravirtualPolicy(o["pv"], argument: argument)
            try requireMode(.pv, for: "pv", got: spec.mode, argument: argument)
        }
        if o["bt"] != .nil {
            spec.binaryTranslationPolicy = try binaryTranslationPolicy(o["bt"], argument: argument)
            try requireMode(.bt, for: "bt", got: spec.mode, argument: argument)
        }
        if o["shadow"] != .nil {
            spec.shadowPolicy = try shadowPolicy(o["shadow"], argument: argument)
        }
        if o["h_extension"] != .nil {
            // A VMM that deprivileges its guest does not virtualise the extension, and hw's guest
            // sees none (nested virtualisation is not modelled): only a machine the guest runs on.
            try requireMode([.native, .interpret], for: "h_extension", got: spec.mode, argument: argument)
        }
        if o["hw"] != .nil {
            spec.hardwarePolicy = try hardwareAssistPolicy(o["hw"], argument: argument)
            try requireMode(.hw, for: "hw", got: spec.mode, argument: argument)
        }
        if o["shadow"] != .nil {
            try requireShadowing(got: spec.mode, hardware: spec.hardwarePolicy, argument: argument)
        }
        if let cache = VMSpec.hypervisorCaches(spec.tlb).first, spec.mode != .hw && !spec.hypervisorExtension {
            throw LuaRaise.argument(argument, "option 'tlb.\(cache)' needs the hypervisor extension (mode \"hw\" or h_extension = true)")
        }
        return spec
    }

    // MARK: the handle

    static func machine(_ call: LuaCall) throws -> VirtualMachine {
        let vm = try call.object(1, as: VirtualMachine.self)
        if vm.isClosed { throw LuaRaise.message("the VM is closed") }
        return vm
    }

    static let runOptions: [LuaOption] = [
        LuaOption("max_instructions", .integer, "Stop after this many instructions (summed over harts), retired or trapped: an instruction that raised an exception counts too, so a guest looping through faults comes back; one that a VMM traps and then emulates counts once, as retired. A trap a VMM takes for itself and the guest never sees (a hidden shadow fault) does not count, so the same budget takes a guest exactly as far in every mode; `vm:stats().instructions` counts retired ones only."),
        LuaOption("max_cycles", .integer, "Stop after this many modelled cycles."),
        // `until` would read best, but it is a Lua keyword: `{ until = x }` does not parse.
        LuaOption("to", .oneOf([.integer, .string, .documented("vmlab.RunToEvent")]),
                  "Run to a point and stop there (reason \"reached\"): before the instruction at a guest pc (an integer, or a symbol of `vm:symbols()`: `vm:run{ to = \"sys_getpid\" }`), or after the `count`th event matching `{ event = \"mmio\", count = 3, <filter> }` (the filter keys of `vm:on`), counted from the start of this run."),
    ]

    /// The `to` of `vm:run`.
    static func runTo(_ value: LuaValue, _ vm: VirtualMachine) throws -> StopCondition? {
        switch value {
        case .nil: return nil
        case .table:
            guard let name = value["event"].string else { throw LuaRaise.argument(2, "option 'to': a table needs 'event' (an event name)") }
            let kind = try EventsBinding.kind(name)
            let count = value["count"] == .nil ? 1 : value["count"].int64 ?? 0
            guard count >= 1 else { throw LuaRaise.argument(2, "option 'to': 'count' must be a positive integer") }
            let filter = try EventsBinding.filter(value, function: "run", extra: ["event", "count"])
            return .event(kind, filter, count: Int(count))
        case let other:
            return .pc(try address(other, argument: 2, vm, what: "option 'to'"))
        }
    }

    /// A guest address given as an integer or a symbol name. `what` names the option it came
    /// from in errors (nil: the argument itself).
    static func address(_ value: LuaValue, argument: Int32, _ vm: VirtualMachine, what: String?) throws -> UInt64 {
        if let n = value.int64 { return UInt64(bitPattern: n) }
        let prefix = what.map { "\($0): " } ?? ""
        if case .number = value { throw LuaRaise.argument(argument, prefix + "number has no integer representation") }
        guard case .string(let name) = value else {
            throw LuaRaise.argument(argument, prefix + "an address or a symbol name expected, got \(value.typeName)")
        }
        if let n = Int64(name) { return UInt64(bitPattern: n) }
        guard let address = vm.symbols[name] else {
            throw LuaRaise.message("unknown symbol '\(name)' (the VM has \(vm.symbols.count) symbols; see vm:symbols())")
        }
        return address
    }

    static func address(_ call: LuaCall, _ index: Int32, _ vm: VirtualMachine) throws -> UInt64 {
        try address(try call.value(index), argument: index, vm, what: nil)
    }


    /// A stop as `vm:run`'s two results; `stepped` for `vm:step { vcpu = N }`.
    static func stopValues(_ stop: VirtualMachine.Stop, stepped: Bool? = nil) -> [LuaValue] {
        var details: [String: LuaValue] = ["message": .string(stop.message), "instructions": .unsigned(stop.instructions)]
        if let stepped { details["stepped"] = .boolean(stepped) }
        if let code = stop.exitCode { details["exit_code"] = .integer(Int64(code)) }
        if let pc = stop.pc { details["pc"] = .unsigned(pc) }
        if let hart = stop.hart { details["hart"] = .integer(Int64(hart)) }
        if let address = stop.address { details["address"] = .unsigned(address) }
        if let write = stop.isWrite { details["write"] = .boolean(write) }
        return [.string(stop.name), .record(details)]
    }

    static let runToClass = LuaDocClass(
        "vmlab.RunToEvent", summary: "A `to` of `vm:run` that waits for events: the filter keys of `vm:on` (`cause`, `address`, `privilege`, `asid`, `vcpu`) may be added.",
        fields: [
            .required("event", .choice(EventsBinding.eventNames), "The kind of event."),
            .optional("count", .integer, "Stop after this many matching events of this run (default 1)."),
        ])

    static let stopClass = LuaDocClass(
        "vmlab.Stop", summary: "Details of why a run stopped (the second result of `vm:run`).",
        fields: [
            .required("message", .string, "A sentence for people."),
            .required("instructions", .integer, "Instructions retired during this run, over all harts."),
            .optional("exit_code", .integer, "The guest's exit code, for \"poweroff\"."),
            .optional("pc", .integer, "For \"breakpoint\" and \"reached\" at a pc: the pc reached (not yet executed); for \"watchpoint\": the pc of the accessing instruction, which has completed (the hart's own pc is past it)."),
            .optional("hart", .integer, "The hart (vCPU) at the breakpoint or watchpoint."),
            .optional("address", .integer, "For \"watchpoint\": the first watched byte the access touched (guest-physical)."),
            .optional("write", .boolean, "For \"watchpoint\": whether the access wrote."),
            .optional("stepped", .boolean, "For `vm:step { vcpu = N }`: whether vCPU N executed its instruction."),
        ])

    static let statsClass = LuaDocClass(
        "vmlab.Stats", summary: "The counters of `vm:stats()`: a plain table, summed over harts. Every count is an integer.",
        fields: [
            .required("profile", .string, "The cost profile that priced the cycles, with its edits: `classic-2006 (edited: vm_entry=1000)`."),
            .required("mode", .string, "The execution mode: \"native\", \"interpret\"..."),
            .required("instructions", .integer, "Instructions retired."),
            .required("cycles", .documented("{ total: integer, by_category: table<string, integer>, by_event: table<string, { count: integer, cycles: integer }> }"),
                      "Modelled cycles: `total` is the machine's clock (the one `mtime` follows); `by_category` (`guest`, `mmu`, `trap`, `exit`, `emulation`, `hypercall`, `translation`, `device`, `interpretation`, and `waited`: WFI sleep and catching up with another hart) and `by_event` (every event of `vmlab.costs`, with its count) split the harts' work, priced by `profile`. With one hart `by_category` sums to `total`."),
            .required("traps", .documented("{ total: integer, exceptions: integer, interrupts: integer, by_cause: table<string, integer>, firmware: { total: integer, by_cause: table<string, integer> } }"),
                      "Traps taken, by cause name (`ecall_u`, `store_page_fault`, `supervisor_timer`...; every cause present); `firmware`: those the built-in SBI handled."),
            .required("tlb", .documented("{ hits: integer, misses: integer, flushes: integer, evictions: integer, nested_hits: integer, nested_misses: integer, pwc_hits: integer, pwc_misses: integer, fetch: { hits: integer, misses: integer }, load: { hits: integer, misses: integer }, store: { hits: integer, misses: integer }, flushes_by_kind: { full: integer, asid: integer, address: integer, satp: integer, host: integer } }"),
                      "The architectural TLB."),
            .required("walk", .documented("{ references: integer }"), "Page-table entries read, or written back to set A/D, by the page walker."),
            .required("wfi", .integer, "WFI instructions that put a hart to sleep."),
            .required("mmio", .documented("{ accesses: integer }"), "Device register accesses the guest made, whether the hardware performed them or the VMM did for it (under trap and bt), so that the same work counts the same in every mode; `cycles.by_event` prices them (`mmio_access`, `device_emulated`, `bt_inline`)."),
            .required("exits", .documented("{ total: integer, by_cause: table<string, integer> }"), "VM exits to the VMM by cause (every trap cause present; none under `native` and `interpret`)."),
            .required("hypercalls", .documented("{ total: integer, by_cause: table<string, integer> }"), "Calls into the VMM's virtual SBI by extension (`sbi_time`, `sbi_srst`...); under `native` the built-in firmware serves them (`traps.firmware`) and this is empty."),
            .required("privileged", .integer, "Privileged and CSR instructions the guest executed (counted while a hook or trigger observes them)."),
            .required("dma", .documented("{ reads: integer, writes: integer, bytes_read: integer, bytes_written: integer }"), "Device transfers to and from guest memory."),
            .required("nics", .list(.documented("{ mac: string, frames_sent: integer, frames_received: integer, frames_dropped: integer, backlog: integer, link: \"up\"|\"down\" }")), "Each network card (`nics`), in order: frames the guest sent and received, frames lost (no switch, a full backlog, a receive buffer too small, `device_failure`, sent or received while the link is down), frames waiting for the guest to post receive buffers, and its link (`link_down` takes it down)."),
            .required("events", .documented("table<string, integer>"), "Events by kind (every kind of `vm:on` present), counted while some hook, `vm:run{ to = ... }` or fault trigger observes that kind."),
            .required("vcpus", .list(.documented("{ instructions: integer, cycles: integer, traps: integer }")), "Per vCPU: instructions, cycles priced by the technique, traps delivered."),
            .required("technique", .documented("table<string, table<string, integer>>"), "The technique's own counters, by group (`interpreter.instructions`, `hypercalls.sbi_time`...; under trap `trap`, `shadow`; under bt also `bt.blocks_translated`, `bt.callouts`, `bt.adaptations`..., `callouts_by_kind`, and `afterburn` with `bt={afterburn=true}`; under pv `pv`, `hypercalls`)."),
            .required("faults", .list(.documented("vmlab.InjectedFault")), "The faults that fired (`vm:inject`), in order, each with its effect."),
            .optional("host", .documented("{ cycles: integer, switches: integer, vms: integer }"), "For a VM under a VMM: the host's modelled time, its VM switches, and how many VMs share it."),
        ])

    static let stopReturns = [
        LuaReturn(.choice(["budget", "poweroff", "reset", "breakpoint", "watchpoint", "reached", "hook", "idle", "halted"]), "reason",
                  "\"budget\": a budget ran out (run again to go on); \"poweroff\" (test finisher, HTIF or SBI system reset; see `exit_code`) and \"reset\" end the guest for good: later runs return them again at once; \"breakpoint\" (`vm:breakpoint`), \"watchpoint\" (`vm:watch`), \"reached\" (the run reached its `to`) and \"hook\" (a hook returned \"stop\") can run on; \"idle\": every hart waits and nothing can wake one; \"halted\": the machine cannot go on (a trap that no firmware handles, or a hart stuck on a trap vector it cannot fetch: mtvec in M-mode, or a kernel's stvec with its translation off, under the built-in SBI or any VMM, and with its translation on once the same fault has come back 100000 times with no instruction retired; with several harts, once every hart is stuck so, stopped, or asleep in `wfi` with no interrupt enabled in `mie`; `pc`, `hart`; run again and it stops again)."),
        LuaReturn(.documented("vmlab.Stop"), "details"),
    ]

    static let stepOptions: [LuaOption] = [
        LuaOption("vcpu", .integer, "The vCPU to step (default: the one whose turn it is)."),
        LuaOption("max_instructions", .integer, "With `vcpu`: the most instructions the step waits for it (default 1000000)."),
    ]

    static let registerOptions: [LuaOption] = [
        LuaOption("hart", .integer, "The hart (vCPU; default 0)."),
        LuaOption("view", .choice(["guest", "hardware"]), "\"guest\" (default): the register as the guest sees it. Under `trap` and `bt` the guest kernel runs deprivileged, so \"priv\" and the supervisor CSRs (sstatus, sie, stvec, scounteren, senvcfg, sscratch, sepc, scause, stval, sip, satp) are the vCPU's, kept by the VMM; a write has the effects of the guest's own (a satp write switches the shadow, an unmasked interrupt is taken). Under `hw`, while the vCPU runs the guest, the supervisor CSRs with a VS counterpart (sstatus, sie, stvec, sscratch, sepc, scause, stval, sip, satp) are the hart's VS CSRs (vsstatus, ...), and with shadow paging satp is the guest's, kept by the VMM; \"priv\" is the guest's S or U (VS or VU). \"hardware\": the hart as the VMM runs it (under `trap` and `bt`: U-mode, the shadow's satp; under `hw`: the HS-mode CSRs). In the other modes both are the hart's."),
    ]

    static func hart(_ o: LuaOptions) -> Int { Int(o.integer("hart") ?? 0) }

    static func view(_ o: LuaOptions) -> VirtualMachine.RegisterView { o.string("view") == "hardware" ? .hardware : .guest }

    static func register(_ call: LuaCall) throws -> VirtualMachine.Register {
        let name = try call.string(2)
        guard let register = VirtualMachine.Register(name) else {
            throw LuaRaise.argument(2, "unknown register '\(name)' (expected \(VirtualMachine.Register.help))")
        }
        return register
    }

    static func misuse<T>(_ body: () throws(VirtualMachine.Misuse) -> T) throws -> T {
        do { return try body() } catch { throw LuaRaise.message(error.message) }
    }

    static let methods: [LuaFunction] = [
        .method("run", of: "vmlab.VM",
                summary: "Runs until the guest stops, a budget is used up, it reaches `to`, or a breakpoint, watchpoint or hook stops it (no budget: until it stops). With `echo`, console output appears as it is written. A hook that raised an error stops the run, and `run` then raises that error (a message with the hook's traceback; any other error value unchanged). Not allowed inside a hook.",
                parameters: [.optional("budget", .options(name: "vmlab.RunOptions", runOptions))],
                returns: stopReturns) { call in
            let vm = try machine(call)
            let o = try call.options(2)
            for name in ["max_instructions", "max_cycles"] {
                if let n = o.integer(name), n < 0 { throw LuaRaise.argument(2, "option '\(name)': must not be negative, got \(n)") }
            }
            let condition = try runTo(o["to"], vm)
            return try vm.withLua(call) {
                stopValues(vm.run(maxInstructions: o.uint64("max_instructions"), maxCycles: o.uint64("max_cycles"), until: condition))
            }
        },
        .method("step", of: "vmlab.VM", summary: "Runs one instruction on the hart whose turn it is; hooks fire as in `run`. With `vcpu`, steps that vCPU: runs one instruction at a time, the other vCPUs taking their turns meanwhile, until it has executed one (retired it or trapped on it) — \"budget\" with `stepped = true` and `hart` — or another stop comes (a breakpoint another vCPU meets, an idle machine, the guest's end; `stepped` says whether the vCPU's instruction came first), or `max_instructions` pass with it not moving (asleep in `wfi`, or not started: \"budget\" with `stepped = false`; step again to wait longer). `instructions` counts the whole step, over all vCPUs.",
                parameters: [.optional("options", .options(name: "vmlab.StepOptions", stepOptions))],
                returns: stopReturns) { call in
            let vm = try machine(call)
            let o = try call.options(2)
            guard let vcpu = o.integer("vcpu") else {
                if o.integer("max_instructions") != nil { throw LuaRaise.argument(2, "option 'max_instructions' needs 'vcpu' (a plain step runs one instruction)") }
                return try vm.withLua(call) { stopValues(vm.run(maxInstructions: 1)) }
            }
            let count = try misuse { () throws(VirtualMachine.Misuse) in try vm.live() }.machine.hartCount
            guard (0..<Int64(count)).contains(vcpu) else { throw LuaRaise.argument(2, "no vCPU \(vcpu) (the VM has \(count))") }
            let limit = o.integer("max_instructions") ?? 1_000_000
            guard limit > 0 else { throw LuaRaise.argument(2, "option 'max_instructions': must be positive, got \(limit)") }
            return try vm.withLua(call) {
                let (stop, stepped) = vm.step(hart: Int(vcpu), limit: UInt64(limit))
                return stopValues(stop, stepped: stepped)
            }
        },
        .method("console", of: "vmlab.VM", summary: "Everything the guest printed so far (UART, SBI console and HTIF, in order).",
                returns: [LuaReturn(.string, "text")]) { call in
            [.bytes(try machine(call).console)]
        },
        .method("input", of: "vmlab.VM", summary: "Queues bytes for the guest's console input (the UART receiver, and the SBI console under the built-in SBI).",
                parameters: [.required("text", .string)]) { call in
            let vm = try machine(call)
            vm.input(try call.bytes(2))
            return []
        },
        .method("stats", of: "vmlab.VM",
                summary: "The counters so far, as a plain nested table: `profile` (the cost profile's name, with edits), `instructions`, `cycles.total` (with `cycles.by_category` and `cycles.by_event` priced by the profile), `traps.{total,exceptions,interrupts}`, `traps.by_cause.<cause>` (every cause, 0 when it never happened), `traps.firmware.by_cause` (handled by the built-in SBI), `tlb.{hits,misses,flushes,evictions}`, `tlb.{nested_hits,nested_misses}` (the nested TLB's G-stage lookups), `tlb.{pwc_hits,pwc_misses}` (the page-walk cache's two-stage walks), `tlb.fetch/load/store.{hits,misses}`, `tlb.flushes_by_kind`, `walk.references`, `wfi`, `mmio.accesses`; and what the VMM adds: `mode`, `exits`, `hypercalls`, `privileged`, `dma`, `nics` (each network card's frames), `events` (by kind), `vcpus[i]`, `technique` (the technique's own counters), `faults` (each fault that fired, with its effect) and, under a VMM, `host`. Summed over harts. Readable at any time, also from inside a hook. With a dotted `path` (`vm:stats \"tlb.hits\"`, `\"traps.by_cause\"`, `\"vcpus.1.cycles\"`) only that part: a number, the profile's name or a table, computing only the top-level entry the path starts with (a hook that runs on every trap should ask for what it reads); a path that names nothing raises, naming what there is at that level.",
                parameters: [.optional("path", .string)],
                returns: [LuaReturn(.oneOf([.documented("vmlab.Stats"), .integer, .string, .table]), "stats")]) { call in
            let vm = try machine(call)
            guard let path = try call.optionalString(2) else { return [vm.stats?.luaValue ?? .nil] }
            switch vm.stats(at: path) {
            case .success(let node)?: return [node.luaValue]
            case .failure(let error)?: throw LuaRaise.argument(2, error.message)
            case nil: return [.nil]
            }
        },
        .method("read", of: "vmlab.VM",
                summary: "A register: \"pc\", \"priv\" (\"M\", \"S\" or \"U\"), \"x5\" or \"t0\", \"f10\" or \"fa0\" (raw bits), \"csr.satp\" or \"csr.0x180\". Integers are the 64-bit pattern as a Lua integer (≥ 2^63 reads negative; `vmlab.hex` prints it).",
                parameters: [.required("register", .string), .optional("options", .options(name: "vmlab.RegisterOptions", registerOptions))],
                returns: [LuaReturn(.oneOf([.integer, .string]), "value")]) { call in
            let vm = try machine(call)
            let register = try register(call)
            let options = try call.options(3)
            let value = try misuse { () throws(VirtualMachine.Misuse) in try vm.read(register, hart: hart(options), view: view(options)) }
            switch value {
            case .integer(let bits): return [.unsigned(bits)]
            case .text(let text): return [.string(text)]
            }
        },
        .method("write", of: "vmlab.VM",
                summary: "Sets a register (names as `read`; \"priv\" takes \"M\", \"S\" or \"U\"). CSRs keep their WARL rules; writing x0 changes nothing.",
                parameters: [.required("register", .string), .required("value", .oneOf([.integer, .string])),
                             .optional("options", .options(name: "vmlab.RegisterOptions", registerOptions))]) { call in
            let vm = try machine(call)
            let register = try register(call)
            let value: VirtualMachine.ReadValue
            switch try call.value(3) {
            case .integer(let n): value = .integer(UInt64(bitPattern: n))
            case let other:
                if case .privilege = register { value = .text(other.string ?? "") }
                else { value = .integer(try call.uint64(3)) }
            }
            let options = try call.options(4)
            try misuse { () throws(VirtualMachine.Misuse) in try vm.write(register, value, hart: hart(options), view: view(options)) }
            return []
        },
        .method("symbols", of: "vmlab.VM", summary: "The kernel's and firmware's ELF symbols, and those given as `vmlab.vm`'s `symbols`: name → address, marked as symbols as `vmlab.asm`'s are (`vmlab.disasm(code, vm:symbols())`).",
                returns: [LuaReturn(Assembly.symbolsType, "symbols")]) { call in
            [Assembly.symbolsTable(try machine(call).symbols, call)]
        },
    ]
}

extension VirtualMachine: LuaObject {
    public static let luaClass = LuaClass(
        "vmlab.VM",
        summary: "A machine built by `vmlab.vm`. Close it (`vm:close()`, or `local vm <close> = ...`) to release its memory at once; a closed VM raises on use.",
        methods: VMBinding.methods + MemoryBinding.methods + EventsBinding.methods + FaultsBinding.methods + PageTablesBinding.methods + TLBBinding.methods + IOMMUBinding.methods + DirtyLogBinding.methods + GDBBinding.methods
            + SnapshotBinding.methods,
        close: { ($0 as? VirtualMachine)?.close() },
        describe: { object in
            guard let vm = object as? VirtualMachine else { return "vmlab.VM" }
            if vm.isClosed { return "vmlab.VM (closed)" }
            return "vmlab.VM (\(vm.spec.mode.rawValue), \(VMSpec.describeMemory(vm.spec.memory)), \(vm.spec.harts) hart\(vm.spec.harts == 1 ? "" : "s"), \(vm.spec.profile))"
        })
}
