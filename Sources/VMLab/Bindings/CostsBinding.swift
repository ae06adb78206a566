import Hypervisor
import LuaKit

/// `vmlab.costs`: cost profiles as Lua values.
///
/// A profile is a plain Lua table — `p.name`, `p.clock_hz`, `p.vm_entry` and `pairs(p)` all work as
/// on any table — with a metatable that adds methods (`p:table()`, `p:source(e)`, `p:basis(e)`) and
/// `tostring`. A plain table is what Lua users expect to read, print field by field and pass
/// around; the metatable only makes it self-describing. Reading one back (`profile = p`,
/// `vmlab.costs(p, ...)`) rebuilds the `CostProfile` from the table's fields, so editing a field in
/// place (`p.vm_entry = 5`) is an edit like any other, checked by the Hypervisor's rules.
enum CostsBinding {
    static func contribute(to module: inout LuaModule) {
        module.functions.append(costs)
        module.classes.append(profileClass)
    }

    /// Fields of a profile table that are not prices. Any other key must name an event.
    static let infoKeys: Set<String> = ["name", "description", "summary", "clock_hz", "clock_source", "edits"]

    static let costs = LuaFunction(
        "costs",
        summary: """
        A cost profile: the price in modelled cycles of every event, each with its source. \
        `vmlab.costs("core2-2006")` is a built-in profile (\(CostProfile.names.map { "\"\($0)\"" }.joined(separator: ", "))); \
        `vmlab.costs(p, { vm_entry = 1000 })` is `p` (a name or a profile) with prices replaced, and \
        `vmlab.costs{ vm_entry = 1000 }` the standard profile (\"\(CostProfile.standard.name)\") with them. \
        Without arguments, the list of built-in profile names. An unknown profile or event, or a \
        price that is not an integer from 0 to 2^32 cycles, raises. The sources are documented in the \
        \"Cost profiles\" article of the Hypervisor documentation.
        """,
        parameters: [.optional("profile", .oneOf([.string, .documented("vmlab.CostProfile")])),
                     .optional("edits", .documented("table<string, integer>"),
                               "Prices to replace, by event name: whole numbers of cycles from 0 to 2^32 (\(CostProfile.maximumCycles)).")],
        returns: [LuaReturn(.oneOf([.documented("vmlab.CostProfile"), .list(.string)]), "profile",
                            "The profile, or the built-in names when called without arguments.")]
    ) { call in
        if call.count == 0 || (call.isNil(1) && call.isNil(2)) {
            return [.array(CostProfile.names.map { .string($0) })]
        }
        var profile = call.isNil(1) ? CostProfile.standard : try read(try call.value(1), argument: 1)
        if !call.isNil(2) {
            let edits = try call.value(2)
            guard case .table = edits else { throw LuaRaise.argument(2, "table expected, got \(edits.typeName)") }
            profile = try edited(profile, with: edits, argument: 2)
        }
        return [try value(profile, in: call)]
    }

    // MARK: Lua → Swift

    /// The profile a Lua value names: a built-in name, or a profile table (`name` defaults to the
    /// standard profile; event keys set prices).
    static func read(_ value: LuaValue, argument: Int32) throws -> CostProfile {
        switch value {
        case .string(let name):
            return try named(name)
        case .table(let fields):
            var base = CostProfile.standard
            if let nameValue = fields[.string("name")] {
                guard let name = nameValue.string, case .string = nameValue else {
                    throw LuaRaise.argument(argument, "field 'name': string expected, got \(nameValue.typeName)")
                }
                base = try named(name)
            }
            // The clock is not a price: silently keeping the base clock would misreport time.
            if let clock = fields[.string("clock_hz")], clock.uint64 != base.clockHz {
                throw LuaRaise.message("'clock_hz' of a cost profile cannot be changed (\(base.name) runs at \(base.clockHz) Hz)")
            }
            // An event counts as edited when the table lists it in `edits` or its price differs
            // from the base's, so a table made by `vmlab.costs` reads back as the same profile.
            let listed = Set((fields[.string("edits")] ?? .nil).arrayItems.compactMap(\.string))
            var prices: [LuaValue: LuaValue] = [:]
            for (key, price) in fields {
                guard case .string(let name) = key else {
                    throw LuaRaise.argument(argument, "cost profile keys must be strings, got \(key.typeName)")
                }
                if infoKeys.contains(name) { continue }
                if let event = CostEvent(name: name), !listed.contains(name), price.uint64 == base.cycles(event),
                   price.int64 != nil { continue }
                prices[key] = price
            }
            return try edited(base, with: .table(prices), argument: argument)
        default:
            throw LuaRaise.argument(argument, "cost profile name or table expected, got \(value.typeName)")
        }
    }

    static func named(_ name: String) throws -> CostProfile {
        do { return try CostProfile.named(name) } catch { throw LuaRaise.message(error.description) }
    }

    /// `profile` with the prices of the table `edits` (event name → cycles), checked by the
    /// Hypervisor: an unknown event or a bad price raises with its message; a key that is not a
    /// name, as a bad `argument`.
    static func edited(_ profile: CostProfile, with edits: LuaValue, argument: Int32) throws -> CostProfile {
        guard case .table(let fields) = edits else { return profile }
        var integers: [String: Int] = [:]
        var floats: [String: Double] = [:]
        // Sorted, so that of several bad entries the same one is always reported.
        for (key, value) in fields.sorted(by: { $0.key.string ?? "" < $1.key.string ?? "" }) {
            guard case .string(let name) = key else {
                throw LuaRaise.argument(argument, "cost event names must be strings, got \(key.typeName)")
            }
            guard CostEvent(name: name) != nil else { throw LuaRaise.message(CostProfileError.unknownEvent(name).description) }
            switch value {
            case .integer(let n):
                guard n >= 0 else { throw LuaRaise.message(CostProfileError.badCycles(event: name, value: String(n)).description) }
                integers[name] = Int(n)
            case .number(let d): floats[name] = d
            default:
                throw LuaRaise.message(CostProfileError.badCycles(event: name, value: value.string.map { "'\($0)'" } ?? value.typeName).description)
            }
        }
        do {
            return try profile.with(integers).with(floats)
        } catch {
            throw LuaRaise.message(error.description)
        }
    }

    // MARK: Swift → Lua

    /// The profile's plain fields: information, then every price by event name.
    static func fields(_ profile: CostProfile) -> [LuaValue: LuaValue] {
        var t: [LuaValue: LuaValue] = [
            .string("name"): .string(profile.name),
            .string("description"): .string(profile.description),
            .string("summary"): .string(profile.summary),
            .string("clock_hz"): .unsigned(profile.clockHz),
            .string("clock_source"): .string(profile.clockSource),
            .string("edits"): .array(profile.edits.map { .string($0.name) }),
        ]
        for event in CostEvent.allCases { t[.string(event.name)] = .unsigned(profile.cycles(event)) }
        return t
    }

    /// Every price and its source, one per line, under the profile's description.
    static func text(_ profile: CostProfile) -> String {
        let width = CostEvent.names.map(\.count).max()! + 2
        var lines = ["\(profile) at \(profile.clockDescription): \(profile.summary)"]
        for event in CostEvent.allCases {
            let v = profile[event]
            let cycles = String(v.cycles)
            lines.append("  " + event.name + String(repeating: " ", count: width - event.name.count)
                         + String(repeating: " ", count: max(0, 7 - cycles.count)) + cycles + "  " + v.basis.rawValue)
        }
        return lines.joined(separator: "\n")
    }

    /// Sets the metatable. LuaKit copies tables that cross into Swift, so the Lua side hands the
    /// finished table to `sink`, which keeps a reference to that very table.
    static let metatableSource = """
    local data, methods, describe, sink = ...
    sink(setmetatable(data, { __index = methods, __tostring = describe, __name = "vmlab.CostProfile" }))
    """

    final class Captured: @unchecked Sendable { var ref: LuaRef? }

    /// The profile a method's `self` describes now: methods read the table, not the profile it
    /// was made from, so an edit in place (`p.trap = 3`) shows in `p:table()` and `tostring(p)`.
    static func this(_ call: LuaCall) throws -> CostProfile { try read(try call.value(1), argument: 1) }

    static func event(_ call: LuaCall) throws -> CostEvent {
        let name = try call.string(2)
        guard let event = CostEvent(name: name) else { throw LuaRaise.argument(2, CostProfileError.unknownEvent(name).description) }
        return event
    }

    /// The methods every profile table shares (its metatable's `__index`).
    static var methods: [LuaValue: LuaValue] { [
        .string("table"): .function(LuaFunction("table") { call in
            let profile = try this(call)
            return [.table(Dictionary(uniqueKeysWithValues: CostEvent.allCases.map { (.string($0.name), .unsigned(profile.cycles($0))) }))]
        }),
        .string("source"): .function(LuaFunction("source") { call in [.string(try this(call)[try event(call)].source)] }),
        .string("basis"): .function(LuaFunction("basis") { call in [.string(try this(call)[try event(call)].basis.rawValue)] }),
    ] }

    static let describe = LuaFunction("__tostring") { call in [.string(text(try this(call)))] }

    /// The profile as a Lua table with its methods.
    static func value(_ profile: CostProfile, in call: LuaCall) throws -> LuaValue {
        let captured = Captured()
        let sink = LuaFunction("sink") { call in
            captured.ref = try call.reference(1)
            return []
        }
        let load = try call.call(call.state.global("load"), [.string(metatableSource), .string("=vmlab.costs")])
        guard let chunk = load.first, chunk != .nil else { throw LuaRaise.message("vmlab.costs: the standard function 'load' is unavailable") }
        _ = try call.call(chunk, [.table(fields(profile)), .table(methods), .function(describe), .function(sink)])
        guard let ref = captured.ref else { throw LuaRaise.message("vmlab.costs: the profile table was not built") }
        return .reference(ref)
    }

    /// A method for the documentation only: the callable one is made per profile in `value`.
    static func documented(_ name: String, _ summary: String, parameters: [LuaParameter] = [], returns: [LuaReturn]) -> LuaFunction {
        LuaFunction(name, summary: summary, parameters: [.required("self", .object("vmlab.CostProfile"))] + parameters,
                    returns: returns, body: nil)
    }

    static let profileClass = LuaDocClass(
        "vmlab.CostProfile",
        summary: "A cost profile (`vmlab.costs`): a plain table of prices with methods. `tostring` lists every price with its basis. Pass it as `vmlab.vm{ profile = p }` or to `vmlab.costs(p, edits)`; changing a field in place is an edit too.",
        fields: [
            .required("name", .string, "The built-in profile it is, or was edited from."),
            .required("description", .string, "The name with its edits, as results print it: `classic-2006 (edited: vm_entry=1000)`."),
            .required("summary", .string, "What machine the profile describes."),
            .required("clock_hz", .integer, "The core clock converting cycles to time (not editable)."),
            .required("clock_source", .string, "Where the clock rate comes from."),
            .required("edits", .list(.string), "Events whose price was edited, in taxonomy order."),
        ] + CostEvent.allCases.map { .required($0.name, .integer, "Price in cycles of one event: \($0.meaning) (category `\($0.category.name)`).") },
        methods: [
            documented("table", "Every price as a plain table: event → cycles.",
                       returns: [LuaReturn(.documented("table<string, integer>"), "prices")]),
            documented("source", "Where the price of `event` comes from: a citation or a derivation.",
                       parameters: [.required("event", .string)], returns: [LuaReturn(.string, "source")]),
            documented("basis", "How the price of `event` was obtained: \"measured\", \"derived\", \"estimate\", \"convention\" or \"edited\".",
                       parameters: [.required("event", .string)], returns: [LuaReturn(.string, "basis")]),
        ])
}
