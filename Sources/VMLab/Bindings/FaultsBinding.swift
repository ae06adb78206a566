import Hypervisor
import LuaKit

/// `vmlab.faults()` and `vm:inject{...}`: the Lua face of the Hypervisor's `FaultInjector`. The
/// catalogue (`FaultInjector.catalogue`) is the one description of every injector: `vmlab.faults()`
/// returns it as data, the reference text below is generated from it, and the injector checks a
/// spec against it, so a bad parameter raises at `vm:inject`, never in the middle of a run.
enum FaultsBinding {
    static func contribute(to module: inout LuaModule) {
        module.functions.append(faults)
        module.classes.append(faultInfoClass)
        module.classes.append(triggerClass)
        module.classes.append(injectedClass)
    }

    static let kindNames = FaultKind.allCases.map(\.rawValue)

    /// One line per injector with its parameters, for the reference documentation.
    static var catalogueText: String {
        FaultInjector.catalogue.map { d in
            let parameters = d.parameters.map { "`\($0.name)`\($0.required ? "" : "?")" }.joined(separator: ", ")
            return "`\(d.name)` (\(parameters)): \(d.summary)"
        }.joined(separator: "; ")
    }

    static let faults = LuaFunction(
        "faults",
        summary: "Every fault injector `vm:inject` knows, as plain data: name, summary and parameters (name, type, meaning, required). Now: \(catalogueText).",
        returns: [LuaReturn(.list(.documented("vmlab.FaultInfo")), "faults")]
    ) { _ in
        [.array(FaultInjector.catalogue.map { d in
            .record([
                "name": .string(d.name),
                "summary": .string(d.summary),
                "parameters": .array(d.parameters.map { p in
                    .record(["name": .string(p.name), "type": .string(p.type), "meaning": .string(p.meaning),
                             "required": .boolean(p.required)])
                }),
            ])
        })]
    }

    static let triggerKeys = ["instructions", "cycles", "pc", "event", "count"]

    /// The `at` of a fault spec: none (now), or exactly one of instructions, cycles, pc, event.
    static func trigger(_ value: LuaValue, _ vm: VirtualMachine) throws -> FaultTrigger {
        guard case .table(let fields) = value else {
            if value == .nil { return .now }
            throw LuaRaise.argument(2, "field 'at': table expected, got \(value.typeName)")
        }
        for key in fields.keys {
            guard case .string(let name) = key, triggerKeys.contains(name) else {
                throw LuaRaise.message("unknown trigger '\(key.string ?? key.typeName)' in 'at' (expected one of: \(triggerKeys.joined(separator: ", ")))")
            }
        }
        let given = ["instructions", "cycles", "pc", "event"].filter { value[$0] != .nil }
        guard given.count <= 1 else {
            throw LuaRaise.message("'at' takes one trigger, got \(given.joined(separator: " and "))")
        }
        if value["count"] != .nil && given != ["event"] {
            throw LuaRaise.message("'at': 'count' goes with 'event'")
        }
        func integer(_ key: String) throws -> UInt64 {
            guard let n = value[key].int64, n >= 0 else { throw LuaRaise.message("'at.\(key)': a non-negative integer expected") }
            return UInt64(n)
        }
        switch given.first {
        case "instructions"?: return .instructions(try integer("instructions"))
        case "cycles"?: return .cycles(try integer("cycles"))
        case "pc"?: return .pc(try VMBinding.address(value["pc"], argument: 2, vm, what: "'at.pc'"))
        case "event"?:
            guard let name = value["event"].string else { throw LuaRaise.message("'at.event': an event name expected") }
            let count = value["count"] == .nil ? 1 : try integer("count")
            guard count >= 1 else { throw LuaRaise.message("'at.count' must be at least 1") }
            return .event(try EventsBinding.kind(name), count: Int(count))
        default: return .now
        }
    }

    /// A fault spec from `vm:inject`'s table: `fault`, `at`, and the injector's parameters.
    static func spec(_ value: LuaValue, _ vm: VirtualMachine) throws -> FaultSpec {
        guard case .table(let fields) = value else { throw LuaRaise.argument(2, "table expected, got \(value.typeName)") }
        guard let name = value["fault"].string, case .string = value["fault"] else {
            throw LuaRaise.argument(2, "field 'fault' is required (one of: \(kindNames.joined(separator: ", ")))")
        }
        guard let kind = FaultKind(rawValue: name) else {
            throw LuaRaise.message("unknown fault '\(name)' (expected one of: \(kindNames.joined(separator: ", ")))")
        }
        var parameters: [String: FaultParameter] = [:]
        for (key, item) in fields {
            guard case .string(let key) = key else { throw LuaRaise.argument(2, "field names must be strings, got \(key.typeName)") }
            if key == "fault" || key == "at" { continue }
            switch item {
            case .integer(let n): parameters[key] = .integer(UInt64(bitPattern: n))
            case .number(let d):
                guard let n = Int64(exactly: d) else { throw LuaRaise.message("bad '\(key)' for fault '\(name)': number has no integer representation") }
                parameters[key] = .integer(UInt64(bitPattern: n))
            case .string(let s): parameters[key] = .string(s)
            default: throw LuaRaise.message("bad '\(key)' for fault '\(name)': integer or string expected, got \(item.typeName)")
            }
        }
        return FaultSpec(kind: kind, parameters: parameters, trigger: try trigger(value["at"], vm))
    }

    static let methods: [LuaFunction] = [
        .method("inject", of: "vmlab.VM",
                summary: "Schedules a fault: `{ fault = NAME, <its parameters>, at = { instructions = N } | { cycles = N } | { pc = ADDRESS_OR_SYMBOL } | { event = KIND, count = N } }` (without `at`: now, before the next instruction). Faults fire deterministically, at the same instruction in every run, and each one that fired is listed in `vm:stats().faults` with its effect. An unknown fault or parameter, a missing required one or a bad value raises. Injectors: \(catalogueText).",
                parameters: [.required("fault", .documentedTable("vmlab.FaultSpec"), "The fault, its parameters and its trigger.")],
                returns: [LuaReturn(.integer, "id", "The fault's number in `vm:stats().faults`.")]) { call in
            let vm = try VMBinding.machine(call)
            let spec = try spec(try call.value(2), vm)
            let guest = try VMBinding.misuse { () throws(VirtualMachine.Misuse) in try vm.live() }
            switch Result(catching: { () throws(FaultError) in try guest.faults.schedule(spec) }) {
            case .success(let id): return [.integer(Int64(id))]
            case .failure(let error): throw LuaRaise.message(error.description)
            }
        },
    ]

    /// A fired fault as plain data (`vm:stats().faults[i]`).
    static func value(_ fault: InjectedFault) -> LuaValue {
        var parameters: [String: LuaValue] = [:]
        for (name, value) in fault.parameters {
            switch value {
            case .integer(let n): parameters[name] = .unsigned(n)
            case .string(let s): parameters[name] = .string(s)
            }
        }
        return .record([
            "id": .integer(Int64(fault.id)), "fault": .string(fault.kind.rawValue), "parameters": .record(parameters),
            "trigger": .string(fault.trigger.description), "instructions": .unsigned(fault.instructions),
            "cycles": .unsigned(fault.cycles), "pc": .unsigned(fault.pc), "effect": .string(fault.effect),
        ])
    }

    static let faultInfoClass = LuaDocClass(
        "vmlab.FaultInfo", summary: "One injector of `vmlab.faults()`.",
        fields: [
            .required("name", .string, "What `vm:inject{ fault = ... }` calls it."),
            .required("summary", .string, "What it does."),
            .required("parameters", .list(.documented("{ name: string, type: string, meaning: string, required: boolean }")),
                      "Its parameters; `type` is \"integer\", \"string\" or \"integer|string\"."),
        ])

    static let triggerClass = LuaDocClass(
        "vmlab.FaultSpec", summary: "What `vm:inject` takes: the injector, its parameters (see `vmlab.faults()`), and `at`.",
        fields: [
            .required("fault", .choice(kindNames), "The injector."),
            .optional("at", .documented("{ instructions: integer?, cycles: integer?, pc: integer|string?, event: string?, count: integer? }"),
                      "When it fires, one trigger: the guest's retired instructions reach `instructions`; its modelled clock reaches `cycles`; it is about to execute `pc` (an address or a symbol); right after the `count`th (default 1) event of kind `event` from now. Without `at`: now."),
        ])

    static let injectedClass = LuaDocClass(
        "vmlab.InjectedFault", summary: "A fault that fired (`vm:stats().faults`).",
        fields: [
            .required("id", .integer, "What `vm:inject` returned."),
            .required("fault", .string, "The injector."),
            .required("parameters", .documented("table<string, integer|string>"), "The parameters it was given, by name (without `fault` and `at`)."),
            .required("trigger", .string, "When it was set to fire, in words."),
            .required("instructions", .integer, "The guest's retired instructions when it fired."),
            .required("cycles", .integer, "The guest's modelled cycles when it fired."),
            .required("pc", .integer, "Where the vCPU was."),
            .required("effect", .string, "What it did, in a sentence."),
        ])
}
