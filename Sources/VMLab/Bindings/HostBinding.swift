import Hypervisor
import LuaKit

/// `vmlab.host{...}` and the `vmlab.Host` handle: a physical machine whose RAM the VMM carves into
/// VMs, which its scheduler runs side by side (round robin, `slice` instructions a turn). Each VM
/// is an ordinary `vmlab.VM` (its own console, counters, hooks), built with `host:vm{...}`.
enum HostBinding {
    static func contribute(to module: inout LuaModule) {
        module.functions.append(host)
        module.classes.append(LuaDocClass(VMHost.luaClass))
        module.classes.append(statsClass)
    }

    static let options: [LuaOption] = [
        LuaOption("memory", .oneOf([.string, .integer]), "Host RAM the VMs are carved from, as `vmlab.vm`'s `memory` (default 1G; only pages a VM touches cost real memory)."),
        LuaOption("harts", .integer, "Host harts, 1 to 64 (default 1)."),
        LuaOption("slice", .integer, "Guest instructions per VM turn of the round-robin scheduler (default 100000)."),
        LuaOption("profile", .oneOf([.string, .documented("vmlab.CostProfile")]), "The cost profile of VMs that do not name their own (default \"\(CostProfile.standard.name)\")."),
    ]

    static let host = LuaFunction(
        "host",
        summary: "A host: the physical machine a VMM runs on. `host:vm{...}` builds VMs whose RAM is carved out of the host's (a VM can never reach outside its carve-out), and `host:run` time-shares the host between them.",
        parameters: [.optional("options", .options(name: "vmlab.HostOptions", options))],
        returns: [LuaReturn(.object("vmlab.Host"), "host")]
    ) { call in
        let o = try call.options(1)
        var configuration = HostConfiguration()
        if let memory = try VMBinding.memory(o["memory"], argument: 1) { configuration.memory = memory }
        if let harts = o.integer("harts") {
            guard (1...64).contains(harts) else { throw LuaRaise.argument(1, "option 'harts': must be 1 to 64, got \(harts)") }
            configuration.harts = Int(harts)
        }
        if let slice = o.integer("slice") {
            guard slice > 0 else { throw LuaRaise.argument(1, "option 'slice': must be positive, got \(slice)") }
            configuration.slice = UInt64(slice)
        }
        if o["profile"] != .nil { configuration.profile = try CostsBinding.read(o["profile"], argument: 1) }
        return [.object(VMHost(configuration))]
    }

    static func live(_ call: LuaCall) throws -> (VMHost, Host) {
        let handle = try call.object(1, as: VMHost.self)
        guard let host = handle.host else { throw LuaRaise.message("the host is closed") }
        return (handle, host)
    }

    static let statsClass = LuaDocClass(
        "vmlab.HostStats", summary: "What `host:stats()` returns: a plain table.",
        fields: [
            .required("cycles", .integer, "Host time in modelled cycles: the sum of every VM turn's cycles."),
            .required("switches", .integer, "Changes of VM made by the scheduler."),
            .required("memory", .integer, "Host RAM in bytes."),
            .required("free_memory", .integer, "Host RAM not carved out."),
            .required("vms", .list(.documented("{ name: string, mode: string, memory: integer, instructions: integer, cycles: integer, stop: string?, stop_message: string? }")),
                      "The VMs, in creation order. `stop` and `stop_message` say why a VM's last turn ended (absent before its first), as `vm:run` names it: `\"budget\"` for one that used its slice, `\"poweroff\"`, `\"halted\"` (also a hart stuck on its trap vector) or `\"idle\"` for one that dropped out."),
        ])

    static let methods: [LuaFunction] = [
        .method("vm", of: "vmlab.Host",
                summary: "Builds a VM on this host: the options of `vmlab.vm`, with a VMM mode (default the first available: \"\(ExecutionMode.available.first { $0 != .native }?.rawValue ?? "interpret")\"; \"native\" is no VMM, so it is refused). Its RAM is carved out of the host's; a host without room for it returns `nil, message`.",
                parameters: [.required("options", .options(name: "vmlab.VMOptions", VMBinding.options))],
                returns: [LuaReturn(.object("vmlab.VM"), "vm"), LuaReturn(.string, "message")]) { call in
            let (handle, _) = try live(call)
            var spec = try VMBinding.readSpec(try call.options(2), argument: 2)
            let o = try call.options(2)
            if o["mode"] == .nil, let mode = ExecutionMode.available.first(where: { $0 != .native }) { spec.mode = mode }
            guard spec.mode != .native else {
                throw LuaRaise.message("a VM on a host needs a VMM mode (\(ExecutionMode.available.filter { $0 != .native }.map(\.rawValue).joined(separator: ", "))); 'native' means no VMM: use vmlab.vm")
            }
            if o["profile"] == .nil, let profile = handle.host?.configuration.profile { spec.profile = profile }
            do {
                let vm = try VMBinding.connected(VirtualMachine(spec, on: handle), o, argument: 2)
                handle.members.append(VMHost.Member(vm: vm))
                return [.object(vm)]
            } catch let error as VirtualMachine.BuildFailure {
                return LuaValue.failure(error.description)
            }
        },
        .method("run", of: "vmlab.Host",
                summary: "Runs the VMs round robin, `slice` instructions each turn, until none can run on, one stops for a reason the script asked for (a breakpoint, watchpoint or hook: `details.vm` is that VM), or a budget (instructions or cycles, summed over the VMs) is used. What a guest does to itself never stops the others: a VM that powers off, resets or halts (a trap no firmware handles; or a hart stuck on its trap vector, which a script may mend: the next `host:run` tries it again) drops out and the rest run on. When none is left running, the result is `\"idle\"` if one waits, else the end of the last VM in creation order (`details.vm` when there is one VM); `host:stats().vms[i].stop` says why each VM stopped. Hooks of every VM fire as in `vm:run`.",
                parameters: [.optional("budget", .options(name: "vmlab.HostRunOptions", Array(VMBinding.runOptions.prefix(2))))],
                returns: [LuaReturn(.choice(["budget", "poweroff", "reset", "breakpoint", "watchpoint", "hook", "idle", "halted"]), "reason"),
                          LuaReturn(.documented("{ message: string, vm: vmlab.VM? }"), "details")]) { call in
            let (handle, host) = try live(call)
            let o = try call.options(2)
            for name in ["max_instructions", "max_cycles"] {
                if let n = o.integer(name), n < 0 { throw LuaRaise.argument(2, "option '\(name)': must not be negative, got \(n)") }
            }
            let vms = handle.liveVMs
            handle.isRunning = true
            defer {
                handle.isRunning = false
                if handle.closePending { handle.close() }
            }
            return try VMHost.withLua(call, vms[...]) {
                let stop = host.run(maxInstructions: o.uint64("max_instructions") ?? .max, maxCycles: o.uint64("max_cycles") ?? .max)
                let vm = stop.guest.flatMap { id in vms.first { $0.guest?.id == id } }
                let details = vm?.stop(stop.reason, instructions: 0) ?? VirtualMachine.Stop(stop.reason, instructions: 0)
                var fields: [String: LuaValue] = ["message": .string(details.message)]
                if let vm { fields["vm"] = .object(vm) }
                if let code = details.exitCode { fields["exit_code"] = .integer(Int64(code)) }
                return [.string(details.name), .record(fields)]
            }
        },
        .method("stats", of: "vmlab.Host", summary: "The host's counters and its VMs (see `vmlab.HostStats`).",
                returns: [LuaReturn(.documented("vmlab.HostStats"), "stats")]) { call in
            let (handle, host) = try live(call)
            return [.record([
                "cycles": .unsigned(host.cycles), "switches": .unsigned(host.switches),
                "memory": .unsigned(host.configuration.memory), "free_memory": .unsigned(host.freeMemory),
                "vms": .array(handle.liveVMs.compactMap { vm in
                    guard let guest = vm.guest else { return nil }
                    var fields: [String: LuaValue] = [
                        "name": .string(guest.name), "mode": .string(guest.mode.rawValue),
                        "memory": .unsigned(vm.spec.memory), "instructions": .unsigned(guest.instructions),
                        "cycles": .unsigned(guest.cycles),
                    ]
                    if let stop = vm.lastStop {
                        fields["stop"] = .string(stop.name)
                        fields["stop_message"] = .string(stop.message)
                    }
                    return .record(fields)
                }),
            ])]
        },
        .method("vms", of: "vmlab.Host", summary: "The host's open VMs, in creation order.",
                returns: [LuaReturn(.list(.object("vmlab.VM")), "vms")]) { call in
            let (handle, _) = try live(call)
            return [.array(handle.liveVMs.map { .object($0) })]
        },
    ]
}

/// A `Host` as Lua holds it. Its VMs keep it alive (each `VirtualMachine` holds its host handle);
/// it holds them weakly, so a VM the script dropped is collected and its carve-out given back.
final class VMHost: LuaObject {
    private(set) var host: Host?
    var members: [Member] = []

    struct Member {
        weak var vm: VirtualMachine?
    }

    init(_ configuration: HostConfiguration) {
        host = Host(configuration)
    }

    var liveVMs: [VirtualMachine] { members.compactMap(\.vm).filter { !$0.isClosed } }

    /// While `host:run` runs: a hook that closes the host only asks for it, and the host closes
    /// when the run returns (its VMs' RAM cannot be taken away under them).
    var isRunning = false
    var closePending = false

    /// Closes every VM and releases host RAM. Idempotent.
    func close() {
        if isRunning {
            closePending = true
            return
        }
        closePending = false
        for vm in liveVMs { vm.close() }
        members = []
        host?.close()
        host = nil
    }

    /// Runs `body` with `call` as the Lua call every VM's hooks run on; the first hook error is
    /// raised afterwards.
    static func withLua<T>(_ call: LuaCall, _ vms: ArraySlice<VirtualMachine>, _ body: () throws -> T) throws -> T {
        guard let first = vms.first else { return try body() }
        return try first.withLua(call) { try withLua(call, vms.dropFirst(), body) }
    }

    static let luaClass = LuaClass(
        "vmlab.Host",
        summary: "A host made by `vmlab.host`. Closing it closes its VMs and releases its RAM.",
        methods: HostBinding.methods,
        close: { ($0 as? VMHost)?.close() },
        describe: { object in
            guard let handle = object as? VMHost, let host = handle.host else { return "vmlab.Host (closed)" }
            let n = handle.liveVMs.count
            return "vmlab.Host (\(VMSpec.describeMemory(host.configuration.memory)), \(n) VM\(n == 1 ? "" : "s"))"
        })
}
