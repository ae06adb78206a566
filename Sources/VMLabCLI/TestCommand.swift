import ArgumentParser
import Foundation
import VMLab

/// `vmlab test`: the regression-suite runner.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run test files and labs as a regression suite.",
        discussion: """
        Directories are searched for test files (*_test.lua) and numbered labs (NN-name.lua); files \
        named directly always run. A file that declares checks (describe/it/vmlab.check) reports \
        one line per check; a lab without checks passes when it runs without error. Each file runs \
        in its own worker process. A check that ends its worker (--timeout, os.exit, a crash) \
        fails, and a new worker runs the file again, main chunk included, for the checks after it. \
        Output is in sorted path order and ends with the line "N passed, N failed". Exit status: \
        0 when nothing failed, 1 otherwise (also when --filter selects no check). Ctrl-C (or \
        SIGTERM, SIGHUP) stops the run: the workers are killed, the results printed so far stay, \
        and the exit status is 128 plus the signal's number (130 for Ctrl-C); a second one ends \
        vmlab at once.
        """
    )

    @Argument(help: "Files and directories to test (default: the current directory).")
    var paths: [String] = []

    @Option(help: ArgumentHelp("Run only checks whose full name (\"file › describe › it\") contains this Lua pattern.", valueName: "pattern"))
    var filter: String?

    // Numeric options take the next word even when it starts with '-', so a negative number
    // reaches the option's own check instead of reading as an unknown option.
    @Option(parsing: .unconditional, help: ArgumentHelp("Kill a worker after this many seconds and fail the check it was running (or the file, if it was loading); each worker of a file has this long.", valueName: "seconds"))
    var timeout: Double = 60

    @Option(name: [.customShort("j"), .long], parsing: .unconditional, help: ArgumentHelp("Run this many workers at once (default: the number of cores).", valueName: "n"))
    var jobs: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Run shard K of N: every Nth file of the sorted list, starting at the Kth.", valueName: "K/N"),
            transform: Shard.parse)
    var shard: Shard?

    @Option(help: ArgumentHelp("Also write the results as JUnit XML to this file.", valueName: "file"))
    var junit: String?

    @Option(help: .hidden)
    var worker: String?

    @Option(help: .hidden)
    var results: String?

    /// The worker's own directory for `os.tmpname()`, which the runner removes after it.
    @Option(help: .hidden)
    var scratch: String?

    /// How many of the file's declared checks the worker passes over: the runner resumes a file
    /// after the check that ended its last worker. A count, not a name, because names need not be
    /// unique.
    @Option(name: .customLong("resume-after"), help: .hidden)
    var resumeAfter: Int = 0

    /// How many checks the file declared in its first worker: a resumed worker whose file now
    /// declares another number cannot tell which checks come after the one it resumes after.
    @Option(name: .customLong("resume-declared"), help: .hidden)
    var resumeDeclared: Int?

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive.") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1.") }
        // Checked once here: a bad pattern would otherwise fail every file, in every worker.
        if let filter, let problem = LuaPattern.problem(filter) { throw ValidationError("--filter '\(filter)': \(problem).") }
        if worker != nil && results == nil { throw ValidationError("--worker needs --results.") }
        if resumeAfter != 0 && worker == nil { throw ValidationError("--resume-after needs --worker.") }
        if resumeAfter < 0 { throw ValidationError("--resume-after must not be negative.") }
        if resumeDeclared != nil && resumeAfter == 0 { throw ValidationError("--resume-declared needs --resume-after.") }
        if let junit, let problem = Self.unwritable(junit) { throw ValidationError("--junit: \(problem).") }
        if worker == nil {
            do { _ = try TestDiscovery.discover(paths.isEmpty ? ["."] : paths) } catch { throw ValidationError(error.description) }
        }
    }

    /// Why the report could not be written to `path`, found before the suite runs rather than
    /// after it; nil when it can be (as far as can be told without writing it).
    static func unwritable(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return "'\(path)' is a directory" }
            return FileManager.default.isWritableFile(atPath: path) ? nil : "cannot write '\(path)': Permission denied"
        }
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
            return "cannot write '\(path)': no directory '\(folder)'"
        }
        guard isDirectory.boolValue else { return "cannot write '\(path)': '\(folder)' is not a directory" }
        return FileManager.default.isWritableFile(atPath: folder) ? nil : "cannot write '\(path)': directory '\(folder)' is not writable"
    }

    func run() throws {
        if let worker, let results {
            let status = TestWorker.run(file: worker, resultsPath: results, filter: filter,
                                        interpreter: [CommandLine.arguments.first ?? "vmlab", "test"], scratch: scratch,
                                        resumeAfter: resumeAfter, resumeDeclared: resumeDeclared)
            if status != 0 { throw ExitCode(status) }
            return
        }
        var files: [String]
        do {
            files = try TestDiscovery.discover(paths.isEmpty ? ["."] : paths)
        } catch {
            throw ValidationError(error.description)   // a path that vanished since validate()
        }
        if let shard { files = TestDiscovery.shard(files, index: shard.index, of: shard.count) }
        let runner = TestRunner(files: files, filter: filter, timeout: timeout,
                                jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
                                junitPath: junit)
        let status = runner.run()
        if status != 0 { throw ExitCode(status) }
    }
}

/// `--shard K/N` with 1 ≤ K ≤ N.
struct Shard {
    var index: Int
    var count: Int

    /// The shard `argument` names; a usage error that says what is wrong otherwise.
    static func parse(_ argument: String) throws -> Shard {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw ValidationError("expected two whole numbers K/N, such as 1/4")
        }
        guard count >= 1 else { throw ValidationError("N must be at least 1, got \(count)") }
        guard (1...count).contains(index) else { throw ValidationError("K must be 1 to \(count), got \(index)") }
        return Shard(index: index, count: count)
    }
}
