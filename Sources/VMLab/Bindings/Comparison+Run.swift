import Hypervisor

/// Running a comparison: every benchmark under every mode, each from boot to poweroff on a fresh
/// VM, then the check that makes the numbers comparable at all — the guest printed the same thing
/// under every mode.
extension Comparison {
    /// The benchmarks of the bundled tinyos guests (tinyos, tinyos-pv), in the order of
    /// labs/guests/tinyos/user/bench.c's table, which a test keeps this list equal to. A name it
    /// does not know is an error before anything runs, not a row whose result says
    /// "status=unknown-benchmark".
    public static let tinyosBenchmarks = ["syscall", "pagefault", "csr", "ctxsw", "fork", "pte", "mmio", "disk", "compute", "tlb"]

    /// What `vmlab.compare` asks for.
    public struct Request: Sendable {
        /// The name results print (a bundled guest's name, or the path).
        public var guest: String
        /// The kernel ELF.
        public var kernel: String
        /// The kernel ELF the `pv` columns boot, when not `kernel`: a bundled guest's para-virtual
        /// flavour (tinyos-pv for tinyos), since an unmodified kernel is refused under pv.
        public var paravirtualKernel: String?
        public var benches: [String]
        /// The columns, in row order: a mode, with its policy and the name its rows carry.
        public var columns: [Column]
        /// The columns' modes.
        public var modes: [ExecutionMode] { columns.map(\.mode) }
        public var profile: CostProfile = .standard
        /// `n=` on the command line, for every benchmark.
        public var iterations: Int?
        public var memory: UInt64 = 128 << 20
        /// More kernel command-line words, after `bench=` and `n=`.
        public var bootargs: String = ""
        /// Instructions one run may take before the comparison gives up on it.
        public var maxInstructions: UInt64 = 1_000_000_000

        public init(guest: String, kernel: String, benches: [String], modes: [ExecutionMode]) {
            self.init(guest: guest, kernel: kernel, benches: benches, columns: modes.map { Column($0) })
        }

        public init(guest: String, kernel: String, benches: [String], columns: [Column]) {
            self.guest = guest
            self.kernel = kernel
            self.benches = benches
            self.columns = columns
        }

        /// The kernel command line of one benchmark's runs.
        func commandLine(_ bench: String) -> String {
            var words = ["bench=\(bench)"]
            if let iterations { words.append("n=\(iterations)") }
            if !bootargs.isEmpty { words.append(bootargs) }
            return words.joined(separator: " ")
        }
    }

    /// One mode as a comparison runs it: the technique's policy (a mode entry's `bt=`/`pv=`/`shadow=`/`hw=`) and
    /// the name of its rows — the mode's own name unless the entry gave a `label`, so one mode can
    /// appear twice with different policies (runtime BT beside afterburning).
    public struct Column: Sendable, Equatable {
        public var mode: ExecutionMode
        public var label: String
        public var paravirtualPolicy = ParavirtualPolicy()
        public var binaryTranslationPolicy = BinaryTranslationPolicy()
        public var shadowPolicy = ShadowPolicy()
        public var hardwarePolicy = HardwareAssistedPolicy()

        public init(_ mode: ExecutionMode, label: String? = nil) {
            self.mode = mode
            self.label = label ?? mode.rawValue
        }
    }

    /// Why a comparison has no result: a VM that could not be built or did not finish cleanly, or
    /// guest output that differs between modes.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The `status=` word of the guest's result line for `bench` (tinyos's convention:
    /// `bench=NAME iterations=N status=WORD ...`) among its comparable `lines`, if it printed one.
    static func reportedStatus(of bench: String, in lines: [String]) -> String? {
        for line in lines where line.hasPrefix("bench=\(bench) ") {
            if let word = line.split(separator: " ").first(where: { $0.hasPrefix("status=") }) {
                return String(word.dropFirst("status=".count))
            }
        }
        return nil
    }

    /// The lines that must match across modes: all but the guest's own measurements, which tinyos
    /// marks with "# " (labs/guests/tinyos/README.md, "Benchmarks").
    static func comparableLines(_ console: [UInt8]) -> [String] {
        lines(console).filter { !$0.hasPrefix("# ") }
    }

    /// The console's lines. Split on bytes: the guest ends lines with CR LF, which Swift reads as
    /// one Character, so splitting the String on "\n" would find none.
    static func lines(_ console: [UInt8]) -> [String] {
        console.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == 0x0D ? line.dropLast() : line[...], as: UTF8.self)
        }
    }

    /// The first line where two outputs differ, as a sentence naming both versions.
    static func firstDifference(_ a: [String], _ b: [String], modes: (String, String)) -> String? {
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : nil
            let y = i < b.count ? b[i] : nil
            if x != y {
                func show(_ line: String?) -> String { line.map { "'\($0)'" } ?? "(no line: the output ended)" }
                return "line \(i + 1): \(modes.0) printed \(show(x)), \(modes.1) printed \(show(y))"
            }
        }
        return nil
    }

    /// The guest's own window of a benchmark: `# bench=NAME cycles=C instret=I`.
    static func guestWindow(_ console: [UInt8], bench: String) -> (cycles: UInt64, instructions: UInt64)? {
        for line in lines(console) where line.hasPrefix("# bench=\(bench) ") {
            var cycles: UInt64?
            var instret: UInt64?
            for word in line.split(separator: " ") {
                if word.hasPrefix("cycles=") { cycles = UInt64(word.dropFirst(7)) }
                if word.hasPrefix("instret=") { instret = UInt64(word.dropFirst(8)) }
            }
            if let cycles, let instret { return (cycles, instret) }
        }
        return nil
    }

    /// The benchmark's result line (`bench=NAME iterations=...`), or "".
    static func resultLine(_ lines: [String], bench: String) -> String {
        lines.first { $0.hasPrefix("bench=\(bench) iterations=") } ?? ""
    }

    /// One row from a finished run's counters.
    static func row(bench: String, mode: String, stats: VMStats, console: [UInt8]) -> Row {
        var categories: [Category] = []
        if case .group(let entries)? = stats.node("cycles.by_category") {
            for (name, node) in entries { if case .count(let n) = node { categories.append(Category(name, n)) } }
        }
        let window = guestWindow(console, bench: bench)
        return Row(bench: bench, mode: mode, instructions: stats["instructions"] ?? 0,
                   cycles: stats["cycles.total"] ?? 0, byCategory: categories, traps: stats["traps.total"] ?? 0,
                   exits: stats["exits.total"] ?? 0, tlbMisses: stats["tlb.misses"] ?? 0,
                   walkReferences: stats["walk.references"] ?? 0, mmio: stats["mmio.accesses"] ?? 0,
                   result: resultLine(comparableLines(console), bench: bench),
                   guestCycles: window?.cycles, guestInstructions: window?.instructions)
    }

    /// Runs every (benchmark, column) in order — benchmarks outer, columns inner, as the rows list
    /// them — and checks each benchmark's output against the first column's.
    public static func run(_ request: Request) throws(Failure) -> Comparison {
        let baseline = request.columns.first { $0.mode == .native }?.label ?? request.columns.first?.label ?? "native"
        var comparison = Comparison(guest: request.guest, profile: request.profile.description,
                                    baseline: baseline, iterations: request.iterations)
        for bench in request.benches {
            var reference: (label: String, lines: [String])?
            for column in request.columns {
                var spec = VMSpec()
                spec.mode = column.mode
                spec.paravirtualPolicy = column.paravirtualPolicy
                spec.binaryTranslationPolicy = column.binaryTranslationPolicy
                spec.shadowPolicy = column.shadowPolicy
                spec.hardwarePolicy = column.hardwarePolicy
                spec.kernel = column.mode == .pv ? request.paravirtualKernel ?? request.kernel : request.kernel
                spec.memory = request.memory
                spec.bootargs = request.commandLine(bench)
                spec.profile = request.profile
                let named = column.label == column.mode.rawValue ? column.label : "\(column.label) (mode \(column.mode.rawValue))"
                let where_ = "bench '\(bench)' under \(named)"
                let vm: VirtualMachine
                do { vm = try VirtualMachine(spec) } catch {
                    throw Failure(description: "vmlab.compare: \(where_): \(error.description)")
                }
                defer { vm.close() }
                let stop = vm.run(maxInstructions: request.maxInstructions)
                guard stop.name == "poweroff", stop.exitCode == 0 else {
                    var why = stop.message
                    if stop.name == "budget" { why += " (\(request.maxInstructions) instructions; raise max_instructions)" }
                    // The VM is gone once this raises: the guest's last words (a panic, say) are
                    // the only account of why it stopped.
                    if let last = lines(vm.console).last(where: { !$0.allSatisfy(\.isWhitespace) }) {
                        why += "; the console's last line: '\(last)'"
                    }
                    throw Failure(description: "vmlab.compare: \(where_) did not finish cleanly: \(why)")
                }
                let console = vm.console
                let lines = comparableLines(console)
                // A guest given by path has no benchmark list to check beforehand; its own result
                // line says whether it knew the benchmark and ran it well.
                if let status = reportedStatus(of: bench, in: lines), status != "ok" {
                    throw Failure(description: "vmlab.compare: \(where_): the guest reports status=\(status)")
                }
                if let reference {
                    if let difference = firstDifference(reference.lines, lines, modes: (reference.label, column.label)) {
                        throw Failure(description: "vmlab.compare: bench '\(bench)': the guest's output differs between \(reference.label) and \(column.label) at \(difference)")
                    }
                } else {
                    reference = (column.label, lines)
                }
                guard let stats = vm.stats else { continue }
                comparison.rows.append(row(bench: bench, mode: column.label, stats: stats, console: console))
            }
        }
        comparison.computeRatios()
        return comparison
    }
}
