import Boot
import Foundation
import Hypervisor
import LuaKit

/// `vmlab.compare` and the `vmlab.Comparison` it returns.
///
/// A comparison is a plain Lua table — `t.profile`, `t.rows[1].cycles`, `#t.rows` — with a
/// metatable that adds `:print()`, `:csv()`, `:json()`, `:write_csv(path)`, `:write_json(path)`
/// and `tostring`, as cost profiles do (CostsBinding.swift). The methods read the table back, so a
/// script may drop or reorder rows and print what remains.
enum ComparisonBinding {
    static func contribute(to module: inout LuaModule) {
        module.functions.append(compare)
        module.classes.append(comparisonClass)
        module.classes.append(rowClass)
    }

    /// A mode entry that is a table: one mode with its technique's policy, under a name of its own.
    static let modeOptions: [LuaOption] = [
        LuaOption("mode", .string, required: true, "The mode (a name `modes` takes as a string)."),
        LuaOption("label", .string, "The name of this entry's rows (`row.mode`) and of its column in the printed table (default: the mode's name). Two entries may share a mode, not a label."),
        LuaOption("bt", .options(name: "vmlab.BinaryTranslationOptions", VMBinding.binaryTranslationOptions), "The binary translator's policy, as `vmlab.vm`'s `bt` (mode \"bt\" only)."),
        LuaOption("pv", .options(name: "vmlab.ParavirtualOptions", VMBinding.paravirtualOptions), "The para-virtual VMM's policy, as `vmlab.vm`'s `pv` (mode \"pv\" only)."),
        LuaOption("shadow", .options(name: "vmlab.ShadowOptions", VMBinding.shadowOptions), "The shadow pager's policy, as `vmlab.vm`'s `shadow` (modes \"trap\" and \"bt\", and \"hw\" with `hw = { paging = \"shadow\" }`)."),
        LuaOption("hw", .options(name: "vmlab.HardwareAssistOptions", VMBinding.hardwareAssistOptions), "The hardware-assisted VMM's policy, as `vmlab.vm`'s `hw` (mode \"hw\" only)."),
    ]

    static let options: [LuaOption] = [
        LuaOption("guest", .string, required: true, "A bundled guest (`\"tinyos\"`, built on demand as by `vmlab.guest`) or the path of a kernel ELF. Under mode \"pv\" a bundled guest runs as its para-virtual flavour (`tinyos-pv`: the same sources with the hypercall layer), since an unmodified kernel is refused there. Its command line is `bench=NAME n=N` and then `bootargs`; labs/guests/tinyos/README.md lists the benchmarks."),
        LuaOption("bench", .oneOf([.string, .list(.string)]), required: true, "A benchmark name, or a list of them; each runs on a fresh VM under every mode. The bundled tinyos guests have \(Comparison.tinyosBenchmarks.joined(separator: ", ")); another name raises before anything runs. A guest given by path is checked by what it prints: a result line `bench=NAME ... status=WORD` with a status other than `ok` raises."),
        LuaOption("modes", .list(.oneOf([.string, .options(name: "vmlab.CompareMode", modeOptions)])),
                  "The modes to compare (\(ExecutionMode.allCases.map(\.rawValue).joined(separator: ", "))), in row order (default: every available mode, \(ExecutionMode.available.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))). An entry may be a table that runs a mode with a policy under a label of its own: `{ mode = \"bt\", bt = { afterburn = true }, label = \"afterburn\" }`. Ratios are relative to native when it is listed, else to the first mode."),
        LuaOption("profile", .oneOf([.string, .documented("vmlab.CostProfile")]), "The cost profile every run is priced by (default \"\(CostProfile.standard.name)\")."),
        LuaOption("n", .integer, "Iterations of every benchmark (`n=` on the command line; default: each benchmark's own)."),
        LuaOption("memory", .oneOf([.string, .integer]), "RAM of every VM, as `vmlab.vm`'s `memory` (default 128M)."),
        LuaOption("bootargs", .string, "More command-line words after `bench=` and `n=`, e.g. \"pages=64\"."),
        LuaOption("max_instructions", .integer, "Instructions one run may take before the comparison fails (default 1e9)."),
        LuaOption("csv", .string, "Also write the CSV to this file."),
        LuaOption("json", .string, "Also write the JSON to this file."),
    ]

    static let compare = LuaFunction(
        "compare",
        summary: """
        Runs a guest's benchmarks under several modes and compares them: each (benchmark, mode) boots \
        a fresh VM, runs to its poweroff and keeps its counters; then each benchmark's console output, \
        without the lines starting with \"# \" (the guest's own timings), must be identical under every \
        mode. Returns a `vmlab.Comparison`: rows in benchmark-then-mode order, cycles relative to native. \
        Raises when a VM cannot be built, a run does not power off with exit code 0 (for instance when \
        `max_instructions` is used up; the message quotes the guest's last console line), or the outputs differ (the message names the first differing line); \
        with `csv=`/`json=`, a file that cannot be written raises too.
        """,
        parameters: [.required("options", .options(name: "vmlab.CompareOptions", options))],
        returns: [LuaReturn(.documented("vmlab.Comparison"), "comparison")]
    ) { call in
        let o = try call.options(1)
        let request = try readRequest(o)
        let comparison: Comparison
        switch Result(catching: { () throws(Comparison.Failure) in try Comparison.run(request) }) {
        case .success(let result): comparison = result
        case .failure(let failure): throw LuaRaise.message(failure.description)
        }
        if let path = o.string("csv"), let problem = write(comparison.csv, to: path) { throw LuaRaise.message(problem) }
        if let path = o.string("json"), let problem = write(comparison.json, to: path) { throw LuaRaise.message(problem) }
        return [try value(comparison, in: call)]
    }

    static func readRequest(_ o: LuaOptions) throws -> Comparison.Request {
        let guest = o.string("guest") ?? ""
        let isPath = guest.contains("/") && FileManager.default.fileExists(atPath: guest) || guest.hasSuffix(".elf")
        var benches: [String]
        switch o["bench"] {
        case .table(let t) where !t.isEmpty:
            benches = o["bench"].arrayItems.compactMap(\.string)
            guard benches.count == t.count else { throw LuaRaise.argument(1, "option 'bench': a list of benchmark names expected") }
        case .table: throw LuaRaise.argument(1, "option 'bench': the list is empty")
        case let value: benches = [value.string ?? ""]
        }
        for bench in benches where bench.isEmpty || bench.contains(where: { $0 == " " || $0 == "," || $0 == "\n" }) {
            throw LuaRaise.argument(1, "option 'bench': bad benchmark name '\(bench)' (one word each; give several as a list)")
        }
        // Runs are deterministic: a second run of a benchmark would only repeat its rows, and a
        // (bench, mode) pair would no longer name one row.
        for (i, bench) in benches.enumerated() where benches[..<i].contains(bench) {
            throw LuaRaise.argument(1, "option 'bench': '\(bench)' is listed twice")
        }
        // A bundled tinyos's benchmarks are known: a name it lacks raises now, before a guest is
        // built or a VM runs (a kernel given as a path may have others).
        if !isPath && (guest == "tinyos" || guest.hasPrefix("tinyos-")) {
            for bench in benches where !Comparison.tinyosBenchmarks.contains(bench) {
                throw LuaRaise.argument(1, "option 'bench': unknown benchmark '\(bench)' (\(guest) has: \(Comparison.tinyosBenchmarks.joined(separator: ", ")))")
            }
        }
        let kernel: String
        if isPath {
            kernel = guest
        } else {
            switch Result(catching: { () throws(Guests.Failure) in try Guests.path(of: guest) }) {
            case .success(let path): kernel = path
            case .failure(let failure): throw LuaRaise.message(failure.message)
            }
        }
        var columns = ExecutionMode.available.map { Comparison.Column($0) }
        if o["modes"] != .nil {
            let entries = o["modes"].arrayItems
            guard !entries.isEmpty else { throw LuaRaise.argument(1, "option 'modes': the list is empty") }
            columns = []
            for (i, entry) in entries.enumerated() {
                let column = try self.column(entry, item: i + 1)
                guard !columns.contains(where: { $0.label == column.label }) else {
                    throw LuaRaise.argument(1, "option 'modes': '\(column.label)' is listed twice"
                        + (column.label == column.mode.rawValue ? "" : " (give each entry its own label)"))
                }
                columns.append(column)
            }
        }
        var request = Comparison.Request(guest: guest, kernel: kernel, benches: benches, columns: columns)
        // Under pv a bundled guest runs as its para-virtual flavour, when it has one: the same
        // sources built for the hypercall interface, as one field changed would ask of a lab.
        if !isPath, columns.contains(where: { $0.mode == .pv }), !guest.hasSuffix("-pv"),
           let flavour = try? Guests.path(of: guest + "-pv") {
            request.paravirtualKernel = flavour
        }
        if o["profile"] != .nil { request.profile = try CostsBinding.read(o["profile"], argument: 1) }
        if let n = o.integer("n") {
            guard n > 0 && n <= Int64(Int32.max) else { throw LuaRaise.argument(1, "option 'n': must be 1 to 2^31-1, got \(n)") }
            request.iterations = Int(n)
        }
        if let memory = try VMBinding.memory(o["memory"], argument: 1) { request.memory = memory }
        request.bootargs = try VMBinding.bootargs(o.string("bootargs"), argument: 1)
        if let limit = o.integer("max_instructions") {
            guard limit > 0 else { throw LuaRaise.argument(1, "option 'max_instructions': must be positive, got \(limit)") }
            request.maxInstructions = UInt64(limit)
        }
        return request
    }

    /// One entry of `modes` (already checked against `modeOptions` when it is a table): a mode's
    /// name, or a mode with its policy and label.
    static func column(_ entry: LuaValue, item: Int) throws -> Comparison.Column {
        // A number passed the check as a string (Lua converts them): name it as Lua would print it.
        guard case .table = entry else { return Comparison.Column(try VMBinding.mode(named: entry.string ?? entry.int64.map { String($0) } ?? "")) }
        let mode = try VMBinding.mode(named: entry["mode"].string ?? "")
        var column = Comparison.Column(mode, label: entry["label"].string)
        let place = "option 'modes': item \(item): "
        guard !column.label.isEmpty else { throw LuaRaise.argument(1, place + "option 'label': the label is empty") }
        if entry["pv"] != .nil {
            column.paravirtualPolicy = try VMBinding.paravirtualPolicy(entry["pv"], argument: 1, context: place)
            try VMBinding.requireMode(.pv, for: "pv", got: mode, argument: 1, context: place)
        }
        if entry["bt"] != .nil {
            column.binaryTranslationPolicy = try VMBinding.binaryTranslationPolicy(entry["bt"], argument: 1, context: place)
            try VMBinding.requireMode(.bt, for: "bt", got: mode, argument: 1, context: place)
        }
        if entry["shadow"] != .nil {
            column.shadowPolicy = try VMBinding.shadowPolicy(entry["shadow"], argument: 1, context: place)
        }
        if entry["hw"] != .nil {
            column.hardwarePolicy = try VMBinding.hardwareAssistPolicy(entry["hw"], argument: 1, context: place)
            try VMBinding.requireMode(.hw, for: "hw", got: mode, argument: 1, context: place)
        }
        if entry["shadow"] != .nil {
            try VMBinding.requireShadowing(got: mode, hardware: column.hardwarePolicy, argument: 1, context: place)
        }
        return column
    }

    /// Writes `text` to `path`; the problem as a sentence, or nil.
    static func write(_ text: String, to path: String) -> String? {
        do {
            try HostFile.write(Array(text.utf8), to: path)
            return nil
        } catch {
            return error.description   // "cannot write 'x.csv': No such file or directory"
        }
    }

    // MARK: Swift → Lua

    static func rowValue(_ row: Comparison.Row) -> LuaValue {
        var fields: [String: LuaValue] = [
            "bench": .string(row.bench), "mode": .string(row.mode),
            "instructions": .unsigned(row.instructions), "cycles": .unsigned(row.cycles), "ratio": .number(row.ratio),
            "traps": .unsigned(row.traps), "exits": .unsigned(row.exits), "tlb_misses": .unsigned(row.tlbMisses),
            "walk_references": .unsigned(row.walkReferences), "mmio": .unsigned(row.mmio), "result": .string(row.result),
            "by_category": .record(Dictionary(uniqueKeysWithValues: row.byCategory.map { ($0.name, LuaValue.unsigned($0.cycles)) })),
        ]
        if let c = row.guestCycles { fields["guest_cycles"] = .unsigned(c) }
        if let i = row.guestInstructions { fields["guest_instructions"] = .unsigned(i) }
        if row.guestCycles != nil { fields["guest_ratio"] = .number(row.guestRatio) }
        return .record(fields)
    }

    static func fields(_ comparison: Comparison) -> [LuaValue: LuaValue] {
        var t: [LuaValue: LuaValue] = [
            .string("guest"): .string(comparison.guest), .string("profile"): .string(comparison.profile),
            .string("baseline"): .string(comparison.baseline), .string("rows"): .array(comparison.rows.map(rowValue)),
        ]
        if let n = comparison.iterations { t[.string("n")] = .integer(Int64(n)) }
        return t
    }

    // MARK: Lua → Swift (a method's self)

    /// Category columns in the taxonomy's order, then `waited`, then any other name sorted.
    static let categoryOrder = CostCategory.allCases.map(\.name) + ["waited"]

    static func comparison(_ value: LuaValue) throws -> Comparison {
        guard case .table = value, let profile = value["profile"].string, let guest = value["guest"].string else {
            throw LuaRaise.argument(1, "vmlab.Comparison expected (a table with 'guest', 'profile' and 'rows')")
        }
        var comparison = Comparison(guest: guest, profile: profile, baseline: value["baseline"].string ?? "native",
                                    iterations: value["n"].int64.map { Int($0) })
        for (i, item) in value["rows"].arrayItems.enumerated() {
            guard let bench = item["bench"].string, let mode = item["mode"].string else {
                throw LuaRaise.message("vmlab.Comparison: row \(i + 1) has no 'bench' or 'mode'")
            }
            func count(_ key: String) -> UInt64 { item[key].uint64 ?? 0 }
            var categories: [Comparison.Category] = []
            if case .table(let t) = item["by_category"] {
                let names = t.keys.compactMap(\.string).sorted { a, b in
                    let (x, y) = (categoryOrder.firstIndex(of: a) ?? Int.max, categoryOrder.firstIndex(of: b) ?? Int.max)
                    return x != y ? x < y : a < b
                }
                categories = names.map { Comparison.Category($0, t[.string($0)]?.uint64 ?? 0) }
            }
            comparison.rows.append(Comparison.Row(
                bench: bench, mode: mode, instructions: count("instructions"), cycles: count("cycles"),
                ratio: item["ratio"].double ?? 0, byCategory: categories, traps: count("traps"), exits: count("exits"),
                tlbMisses: count("tlb_misses"), walkReferences: count("walk_references"), mmio: count("mmio"),
                result: item["result"].string ?? "", guestCycles: item["guest_cycles"].uint64,
                guestInstructions: item["guest_instructions"].uint64))
            comparison.rows[comparison.rows.count - 1].guestRatio = item["guest_ratio"].double ?? 0
        }
        return comparison
    }

    static func this(_ call: LuaCall) throws -> Comparison { try comparison(try call.value(1)) }

    static func writeMethod(_ name: String, _ render: @escaping @Sendable (Comparison) -> String) -> LuaFunction {
        LuaFunction(name) { call in
            let text = render(try this(call))
            let path = try call.string(2)
            if let problem = write(text, to: path) { return LuaValue.failure(problem) }
            return [.boolean(true)]
        }
    }

    static var methods: [LuaValue: LuaValue] { [
        .string("print"): .function(LuaFunction("print") { call in
            _ = try call.call(call.state.global("print"), [.string(try this(call).text)])
            return []
        }),
        .string("text"): .function(LuaFunction("text") { call in [.string(try this(call).text)] }),
        .string("csv"): .function(LuaFunction("csv") { call in [.string(try this(call).csv)] }),
        .string("json"): .function(LuaFunction("json") { call in [.string(try this(call).json)] }),
        .string("write_csv"): .function(writeMethod("write_csv") { $0.csv }),
        .string("write_json"): .function(writeMethod("write_json") { $0.json }),
    ] }

    static let describe = LuaFunction("__tostring") { call in [.string(try this(call).text)] }

    static let metatableSource = """
    local data, methods, describe, sink = ...
    sink(setmetatable(data, { __index = methods, __tostring = describe, __name = "vmlab.Comparison" }))
    """

    /// The comparison as a Lua table with its methods (the table itself, not a copy: see
    /// CostsBinding.value).
    static func value(_ comparison: Comparison, in call: LuaCall) throws -> LuaValue {
        let captured = CostsBinding.Captured()
        let sink = LuaFunction("sink") { call in
            captured.ref = try call.reference(1)
            return []
        }
        let load = try call.call(call.state.global("load"), [.string(metatableSource), .string("=vmlab.compare")])
        guard let chunk = load.first, chunk != .nil else { throw LuaRaise.message("vmlab.compare: the standard function 'load' is unavailable") }
        _ = try call.call(chunk, [.table(fields(comparison)), .table(methods), .function(describe), .function(sink)])
        guard let ref = captured.ref else { throw LuaRaise.message("vmlab.compare: the result table was not built") }
        return .reference(ref)
    }

    // MARK: documentation

    static func documented(_ name: String, _ summary: String, parameters: [LuaParameter] = [], returns: [LuaReturn] = []) -> LuaFunction {
        LuaFunction(name, summary: summary, parameters: [.required("self", .object("vmlab.Comparison"))] + parameters,
                    returns: returns, body: nil)
    }

    static let comparisonClass = LuaDocClass(
        "vmlab.Comparison",
        summary: "What `vmlab.compare` returns: a plain table of the runs with methods to print and export them. The methods read the table, so rows a script removed are not printed.",
        fields: [
            .required("guest", .string, "The guest that ran."),
            .required("profile", .string, "The cost profile that priced every cycle, with its edits."),
            .required("baseline", .string, "The mode `ratio` is relative to: \"native\" when it ran, else the first mode."),
            .optional("n", .integer, "The iterations asked of every benchmark."),
            .required("rows", .list(.documented("vmlab.ComparisonRow")), "One row per (benchmark, mode), benchmarks outer, modes inner."),
        ],
        methods: [
            documented("print", "Prints `:text()` with `print`: a title naming the guest, the profile and the baseline, then one line per row (instructions, cycles, ratio, traps, exits, TLB misses, and the cycles of every category that has any)."),
            documented("text", "The table `:print()` prints.", returns: [LuaReturn(.string, "text")]),
            documented("csv", "CSV (RFC 4180, CRLF line ends): a header, then one line per row with the guest and the profile in every line, and a `cycles_<category>` column for every category.", returns: [LuaReturn(.string, "csv")]),
            documented("json", "JSON: `{ guest, profile, baseline, n, rows = [...] }` with each row's fields and `by_category`; keys in a fixed order.", returns: [LuaReturn(.string, "json")]),
            documented("write_csv", "Writes `:csv()` to a file; `true`, or `nil, message` when the file cannot be written.",
                       parameters: [.required("path", .string)], returns: [LuaReturn(.boolean, "ok"), LuaReturn(.string, "message")]),
            documented("write_json", "Writes `:json()` to a file; `true`, or `nil, message` when the file cannot be written.",
                       parameters: [.required("path", .string)], returns: [LuaReturn(.boolean, "ok"), LuaReturn(.string, "message")]),
        ])

    static let rowClass = LuaDocClass(
        "vmlab.ComparisonRow",
        summary: "One run of a comparison: a benchmark under a mode, boot to poweroff.",
        fields: [
            .required("bench", .string, "The benchmark."), .required("mode", .string, "The mode, or the `label` of its entry in `modes`."),
            .required("instructions", .integer, "Guest instructions retired."),
            .required("cycles", .integer, "Modelled cycles of the whole run."),
            .required("ratio", .number, "`cycles` over the baseline row's of the same benchmark (1.0 for the baseline)."),
            .required("by_category", .documented("table<string, integer>"), "Cycles by category, as `vm:stats().cycles.by_category`."),
            .required("traps", .integer, "Traps taken (exceptions and interrupts)."),
            .required("exits", .integer, "VM exits (0 where no VMM runs)."),
            .required("tlb_misses", .integer, "TLB misses (`vm:stats().tlb.misses`)."),
            .required("walk_references", .integer, "Page-table entries the page walker read or wrote back (`vm:stats().walk.references`)."),
            .required("mmio", .integer, "Device register accesses."),
            .required("result", .string, "The benchmark's result line (`bench=NAME iterations=N status=ok ...`), or \"\"."),
            .optional("guest_cycles", .integer, "The cycles the guest measured itself around its timed loop (its `# bench=` line)."),
            .optional("guest_instructions", .integer, "The instructions the guest measured itself around its timed loop."),
            .optional("guest_ratio", .number, "`guest_cycles` over the baseline row's."),
        ])
}
