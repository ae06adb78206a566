import Foundation

/// The result of `vmlab.compare`: one guest, run once per (benchmark, mode) under one cost
/// profile, with the counters of each run and its modelled cycles relative to the baseline mode
/// (native when it was run). Plain data: the Lua face (ComparisonBinding.swift) is a table of the
/// same fields, and the three renderings here — a text table, CSV, JSON — are what `:print()`,
/// `:csv()` and `:json()` return, so a script and `vmlab` print the same thing.
public struct Comparison: Sendable, Equatable {
    /// The guest that ran: a bundled name ("tinyos") or a path.
    public var guest: String
    /// The profile that priced every cycle, with its edits (`CostProfile.description`): a printed
    /// result never goes without it.
    public var profile: String
    /// The mode every ratio is relative to: "native" when it ran, else the first mode.
    public var baseline: String
    /// Iterations asked of every benchmark (`n=`), when given.
    public var iterations: Int?
    public var rows: [Row]

    public init(guest: String, profile: String, baseline: String, iterations: Int? = nil, rows: [Row] = []) {
        self.guest = guest
        self.profile = profile
        self.baseline = baseline
        self.iterations = iterations
        self.rows = rows
    }

    /// One run: a benchmark under a mode, from boot to poweroff.
    public struct Row: Sendable, Equatable {
        public var bench: String
        public var mode: String
        public var instructions: UInt64
        /// Modelled cycles of the whole run (the machine's clock).
        public var cycles: UInt64
        /// `cycles` over the baseline row's for the same benchmark (1 for the baseline itself).
        public var ratio: Double
        /// Cycles by category (`guest`, `mmu`, `trap`, ..., `waited`), in the taxonomy's order.
        public var byCategory: [Category]
        public var traps: UInt64
        /// VM exits (0 where no VMM runs).
        public var exits: UInt64
        public var tlbMisses: UInt64
        public var walkReferences: UInt64
        public var mmio: UInt64
        /// The benchmark's result line (`bench=syscall iterations=20 status=ok checksum=...`);
        /// identical across modes, or the comparison would have failed.
        public var result: String
        /// What the guest measured itself between its `begin` and `end` lines (its `# bench=`
        /// line: cycle and instret counters), when it printed one.
        public var guestCycles: UInt64?
        public var guestInstructions: UInt64?
        /// `guestCycles` over the baseline row's (0 when either is missing).
        public var guestRatio: Double = 0

        public init(bench: String, mode: String, instructions: UInt64, cycles: UInt64, ratio: Double = 1,
                    byCategory: [Category] = [], traps: UInt64 = 0, exits: UInt64 = 0, tlbMisses: UInt64 = 0,
                    walkReferences: UInt64 = 0, mmio: UInt64 = 0, result: String = "",
                    guestCycles: UInt64? = nil, guestInstructions: UInt64? = nil) {
            self.bench = bench
            self.mode = mode
            self.instructions = instructions
            self.cycles = cycles
            self.ratio = ratio
            self.byCategory = byCategory
            self.traps = traps
            self.exits = exits
            self.tlbMisses = tlbMisses
            self.walkReferences = walkReferences
            self.mmio = mmio
            self.result = result
            self.guestCycles = guestCycles
            self.guestInstructions = guestInstructions
        }

        public func cycles(in category: String) -> UInt64 {
            byCategory.first { $0.name == category }?.cycles ?? 0
        }
    }

    public struct Category: Sendable, Equatable {
        public var name: String
        public var cycles: UInt64
        public init(_ name: String, _ cycles: UInt64) {
            self.name = name
            self.cycles = cycles
        }
    }

    /// Sets every row's ratio from the baseline row of its benchmark. A benchmark without a
    /// baseline row, or whose baseline ran no cycles, gets ratio 0 (shown as "-").
    public mutating func computeRatios() {
        for i in rows.indices {
            let base = rows.first { $0.bench == rows[i].bench && $0.mode == baseline }
            let cycles = base?.cycles ?? 0
            rows[i].ratio = cycles == 0 ? 0 : Double(rows[i].cycles) / Double(cycles)
            let loop = base?.guestCycles ?? 0
            rows[i].guestRatio = loop == 0 ? 0 : Double(rows[i].guestCycles ?? 0) / Double(loop)
        }
    }

    /// Categories with cycles in some row, in the order the rows list them: the columns worth
    /// printing.
    var activeCategories: [String] {
        var names: [String] = []
        for row in rows {
            for c in row.byCategory where c.cycles > 0 && !names.contains(c.name) { names.append(c.name) }
        }
        return names
    }

    /// Every category any row lists (the CSV columns: fixed whatever happened).
    var allCategories: [String] {
        var names: [String] = []
        for row in rows {
            for c in row.byCategory where !names.contains(c.name) { names.append(c.name) }
        }
        return names
    }

    static func ratioText(_ ratio: Double) -> String {
        ratio == 0 ? "-" : String(format: "%.2f", ratio)
    }

    // MARK: text

    /// The title line: what ran and the profile that priced it.
    public var title: String {
        var parts = ["\(guest): \(Set(rows.map(\.bench)).count) benchmark(s) × \(Set(rows.map(\.mode)).count) mode(s)"]
        if let iterations { parts.append("n=\(iterations)") }
        parts.append("profile \(profile)")
        parts.append("cycles relative to \(baseline)")
        return parts.joined(separator: ", ")
    }

    /// A table for people: one row per run, the counters, the ratio, and the cycles of every
    /// category that has any.
    public var text: String {
        let categories = activeCategories
        // The guest's own measurement of its timed loop, when every row has one: the benchmark
        // without the boot around it.
        let loops = !rows.isEmpty && rows.allSatisfy { $0.guestCycles != nil }
        var header = ["bench", "mode", "instructions", "cycles", "ratio"]
        if loops { header += ["loop cycles", "loop ratio"] }
        // Exits only where a technique makes them (none under native or interpret).
        let exits = rows.contains { $0.exits > 0 }
        header += exits ? ["traps", "exits", "tlb misses"] : ["traps", "tlb misses"]
        header += categories
        var table: [[String]] = [header]
        for row in rows {
            var cells = [row.bench, row.mode, String(row.instructions), String(row.cycles), Self.ratioText(row.ratio)]
            if loops { cells += [String(row.guestCycles ?? 0), Self.ratioText(row.guestRatio)] }
            cells += exits ? [String(row.traps), String(row.exits), String(row.tlbMisses)] : [String(row.traps), String(row.tlbMisses)]
            cells += categories.map { String(row.cycles(in: $0)) }
            table.append(cells)
        }
        // Names left-aligned, numbers right-aligned, two spaces between columns.
        let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        var lines = [title]
        for cells in table {
            var line = ""
            for (column, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                if column > 0 { line += "  " }
                line += column < 2 ? cell + pad : pad + cell
            }
            lines.append(line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
        var notes = ["cycles: boot to poweroff"]
        if loops { notes.append("loop: the timed loop, as the guest measured it (its \"# bench=\" line)") }
        if !categories.isEmpty { notes.append("\(categories.joined(separator: ", ")): cycles by category") }
        lines.append("(" + notes.joined(separator: "; ") + ")")
        return lines.joined(separator: "\n")
    }

    // MARK: CSV (RFC 4180)

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One header line and one line per row; the profile is a column, so a row copied elsewhere
    /// still names its prices. Every category is a column (`cycles_<category>`).
    public var csv: String {
        let categories = allCategories
        var header = ["guest", "profile", "bench", "mode", "instructions", "cycles", "ratio", "traps", "exits",
                      "tlb_misses", "walk_references", "mmio", "guest_cycles", "guest_instructions", "guest_ratio", "result"]
        header += categories.map { "cycles_" + $0 }
        var lines = [header.joined(separator: ",")]
        for row in rows {
            var fields: [String] = [guest, profile, row.bench, row.mode, String(row.instructions), String(row.cycles)]
            fields.append(String(format: "%.6f", row.ratio))
            fields += [String(row.traps), String(row.exits), String(row.tlbMisses), String(row.walkReferences), String(row.mmio)]
            fields.append(row.guestCycles.map { String($0) } ?? "")
            fields.append(row.guestInstructions.map { String($0) } ?? "")
            fields.append(String(format: "%.6f", row.guestRatio))
            fields.append(row.result)
            fields += categories.map { String(row.cycles(in: $0)) }
            lines.append(fields.map(Self.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    // MARK: JSON (RFC 8259)

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// An object with the comparison's fields and its rows, keys in a fixed order so the same
    /// comparison always serialises to the same bytes.
    public var json: String {
        func object(_ pairs: [(String, String)], indent: String) -> String {
            let inner = indent + "  "
            return "{\n" + pairs.map { inner + Self.jsonString($0.0) + ": " + $0.1 }.joined(separator: ",\n") + "\n" + indent + "}"
        }
        let rowObjects = rows.map { row -> String in
            var pairs: [(String, String)] = [
                ("bench", Self.jsonString(row.bench)), ("mode", Self.jsonString(row.mode)),
                ("instructions", String(row.instructions)), ("cycles", String(row.cycles)),
                ("ratio", String(format: "%.6f", row.ratio)), ("traps", String(row.traps)), ("exits", String(row.exits)),
                ("tlb_misses", String(row.tlbMisses)), ("walk_references", String(row.walkReferences)),
                ("mmio", String(row.mmio)),
            ]
            if let c = row.guestCycles { pairs.append(("guest_cycles", String(c))) }
            if let i = row.guestInstructions { pairs.append(("guest_instructions", String(i))) }
            if row.guestCycles != nil { pairs.append(("guest_ratio", String(format: "%.6f", row.guestRatio))) }
            pairs.append(("result", Self.jsonString(row.result)))
            pairs.append(("by_category", object(row.byCategory.map { ($0.name, String($0.cycles)) }, indent: "      ")))
            return "    " + object(pairs, indent: "    ")
        }
        var pairs: [(String, String)] = [("guest", Self.jsonString(guest)), ("profile", Self.jsonString(profile)),
                                         ("baseline", Self.jsonString(baseline))]
        if let iterations { pairs.append(("n", String(iterations))) }
        pairs.append(("rows", rows.isEmpty ? "[]" : "[\n" + rowObjects.joined(separator: ",\n") + "\n  ]"))
        return object(pairs, indent: "") + "\n"
    }
}
