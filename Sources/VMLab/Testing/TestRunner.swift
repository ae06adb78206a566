import Boot
import Foundation
import LuaKit

/// `vmlab test`: runs files in worker processes (`jobs` at a time, each killed after `timeout`
/// seconds), prints their results in sorted file order whatever order they finish in, and returns
/// the exit status: 0 when nothing failed, 1 otherwise.
///
/// A worker that ends inside a check (killed by the time-out, `os.exit`, a crash) fails that check,
/// and a new worker runs the file again for the checks declared after it, so one hanging check
/// does not hide the rest of its file. Each worker has the whole `timeout`; every new worker starts
/// past the check that ended the last, so a file takes at most one worker per check. A worker
/// that ends while the file loads is not resumed: a new one would end the same way.
public struct TestRunner {
    public var files: [String]
    public var filter: String?
    public var timeout: Double
    public var jobs: Int
    public var junitPath: String?
    public var workerExecutable: String

    public init(files: [String], filter: String? = nil, timeout: Double = 60, jobs: Int = 1,
                junitPath: String? = nil, workerExecutable: String = currentExecutablePath()) {
        self.files = files
        self.filter = filter
        self.timeout = timeout
        self.jobs = max(1, jobs)
        self.junitPath = junitPath
        self.workerExecutable = workerExecutable
    }

    /// What one file produced.
    struct FileOutcome {
        var results: [TestResult]
        /// The workers' captured stdout and stderr.
        var log: String
        var seconds: Double

        static let empty = FileOutcome(results: [], log: "", seconds: 0)

        /// This outcome followed by a later worker's, for the same file.
        func followed(by later: FileOutcome) -> FileOutcome {
            FileOutcome(results: results + later.results, log: log + later.log, seconds: seconds + later.seconds)
        }
    }

    /// A file's worker, with what the file's earlier workers produced.
    private struct Attempt {
        var index: Int
        var process: WorkerProcess
        /// The declared checks this worker passes over (`--resume-after`), and how many checks
        /// the file's first worker found declared (`--resume-declared`; 0 for a first worker).
        var resumeAfter: Int
        var declared: Int
        var earlier: FileOutcome
    }

    public func run() -> Int32 {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("vmlab-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        } catch {
            StandardStreams.writeError("vmlab test: cannot create \(scratch.path): \(error)\n")
            return 1
        }
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Ctrl-C (and SIGTERM, SIGHUP) would end this process without that `defer`: the workers
        // notice and end themselves, but the scratch folder stayed. Noted instead, and handled
        // in the loop below.
        TerminationSignals.catchThem()

        var outcomes: [FileOutcome?] = Array(repeating: nil, count: files.count)
        var running: [Attempt] = []
        var next = 0
        var printed = 0
        var all: [TestResult] = []

        func paths(_ index: Int) -> (results: String, log: String) {
            (scratch.appendingPathComponent("\(index).jsonl").path, scratch.appendingPathComponent("\(index).log").path)
        }
        // Each worker's os.tmpname() files go in a directory of its own, removed once the worker
        // has ended: a worker killed by the time-out cannot clean up after itself.
        func temporaryDirectory(_ index: Int) -> URL { scratch.appendingPathComponent("\(index).tmp") }

        func start(_ index: Int, resumeAfter: Int = 0, declared: Int = 0, earlier: FileOutcome = .empty) {
            var arguments = ["test", "--worker", files[index], "--results", paths(index).results]
            if (try? FileManager.default.createDirectory(at: temporaryDirectory(index), withIntermediateDirectories: true)) != nil {
                arguments += ["--scratch", temporaryDirectory(index).path]
            }
            if let filter { arguments += ["--filter", filter] }
            if resumeAfter > 0 { arguments += ["--resume-after", String(resumeAfter), "--resume-declared", String(declared)] }
            do {
                let process = try WorkerProcess(executable: workerExecutable, arguments: arguments,
                                                logPath: paths(index).log)
                running.append(Attempt(index: index, process: process, resumeAfter: resumeAfter, declared: declared, earlier: earlier))
            } catch {
                outcomes[index] = earlier.followed(by: FileOutcome(results: [TestResult(
                    file: files[index], names: [], status: .fail, seconds: 0,
                    message: "cannot start a worker (\(workerExecutable)): \(error)")], log: "", seconds: 0))
            }
        }

        while printed < files.count {
            if let signal = TerminationSignals.received {
                for attempt in running { attempt.process.kill() }
                StandardStreams.flushOutput()
                let unfinished = files.count - printed
                StandardStreams.writeError("vmlab test: \(Self.signalName(signal)) arrived: stopped, with \(unfinished) of \(files.count) file\(files.count == 1 ? "" : "s") unfinished\n")
                return 128 + signal
            }
            while running.count < jobs && next < files.count {
                next += 1
                start(next - 1)
            }
            var progressed = false
            var resumptions: [(index: Int, after: Int, declared: Int, earlier: FileOutcome)] = []
            running.removeAll { attempt in
                var timedOut = false
                if !attempt.process.poll() {
                    guard attempt.process.elapsed > timeout else { return false }
                    attempt.process.kill()
                    timedOut = true
                }
                progressed = true
                let (outcome, resume) = collect(attempt, paths(attempt.index), timedOut: timedOut)
                try? FileManager.default.removeItem(at: temporaryDirectory(attempt.index))
                let sofar = attempt.earlier.followed(by: outcome)
                if let resume {
                    resumptions.append((attempt.index, resume.after, resume.declared, sofar))
                } else {
                    outcomes[attempt.index] = sofar
                }
                return true
            }
            // In the slots the ended workers left, so `jobs` still bounds the workers at once.
            for resumption in resumptions {
                start(resumption.index, resumeAfter: resumption.after, declared: resumption.declared, earlier: resumption.earlier)
            }
            // Print every file whose predecessors are all done, so output order is the sorted order.
            while printed < files.count, let outcome = outcomes[printed] {
                show(outcome)
                all += outcome.results
                printed += 1
                progressed = true
            }
            if !progressed { usleep(5_000) }
        }

        print(ConsoleReport.summary(all))
        StandardStreams.flushOutput()
        // A filter that selects nothing is most likely a typo: a green run that tested nothing
        // would hide it.
        let nothingSelected = filter != nil && all.isEmpty
        if nothingSelected, let filter {
            StandardStreams.writeError("vmlab test: no check matches --filter '\(filter)'\n")
        }
        if let junitPath {
            let xml = JUnitReport.xml(files: files, outcomes: outcomes.map { $0 ?? .empty })
            do throws(BootError) {
                try HostFile.write(Array(xml.utf8), to: junitPath)
            } catch {
                StandardStreams.writeError("vmlab test: \(error.description)\n")
                return 1
            }
        }
        return all.contains { $0.status == .fail } || nothingSelected ? 1 : 0
    }

    /// How a person knows the signal: Ctrl-C, not 2.
    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: "Ctrl-C (SIGINT)"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        default: "signal \(signal)"
        }
    }

    /// What an ended worker produced, and how many declared checks the file's next worker passes
    /// over (of how many declared) when the worker ended inside a check that has checks declared
    /// after it (nil otherwise).
    private func collect(_ attempt: Attempt, _ paths: (results: String, log: String),
                         timedOut: Bool) -> (FileOutcome, resume: (after: Int, declared: Int)?) {
        let file = files[attempt.index]
        let process = attempt.process
        var (results, finished, unfinished) = TestWorker.readResults(paths.results)
        var log = (try? String(contentsOfFile: paths.log, encoding: .utf8)) ?? ""
        let seconds = process.elapsed
        // The check that ended the worker took the time since it started, not since the file did.
        let checkSeconds = max(0, seconds - (unfinished?.started ?? 0))
        if timedOut {
            results.append(TestResult(file: file, names: unfinished?.running ?? [], status: .fail, seconds: checkSeconds,
                                      message: "timed out: the file's worker had run for \(ConsoleReport.formatSeconds(timeout))s (--timeout counts the whole file); the worker was killed"))
        } else if !finished {
            let how = process.abnormalEnd ?? "exited with status \(process.exitStatus ?? -1)"
            results.append(TestResult(file: file, names: unfinished?.running ?? [], status: .fail, seconds: checkSeconds,
                                      message: "the worker \(how) before the file finished"))
        }
        // A worker that got to `done` and hung on the way out left nothing to resume; nor did one
        // that ended outside a check (while the file loaded, or between checks), which a new
        // worker would only repeat. The position always moves forward, so resuming cannot loop.
        guard !finished, let unfinished, unfinished.position < unfinished.declared,
              unfinished.position > attempt.resumeAfter
        else { return (FileOutcome(results: results, log: log, seconds: seconds), nil) }
        // Said in the log, which is shown beneath the failure, because the file's main chunk runs
        // again and repeats whatever it printed.
        if !log.isEmpty && !log.hasSuffix("\n") { log += "\n" }
        log += "vmlab test: a new worker runs the file again for the checks after '\(unfinished.running.joined(separator: " › "))'\n"
        return (FileOutcome(results: results, log: log, seconds: seconds), (unfinished.position, unfinished.declared))
    }

    /// A file's results, and the tail of its output when something in it failed.
    private func show(_ outcome: FileOutcome) {
        for result in outcome.results {
            for line in ConsoleReport.lines(result) { Swift.print(line) }
        }
        if outcome.results.contains(where: { $0.status == .fail }) && !outcome.log.isEmpty {
            var lines = outcome.log.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last?.isEmpty == true { lines.removeLast() }   // what the last newline ends
            let tail = lines.suffix(40)
            // A file resumed after a hung check has several workers' output; --junit keeps all.
            let cut = tail.count < lines.count ? " (last \(tail.count) of \(lines.count) lines; --junit <file> keeps all)" : ""
            Swift.print("     output\(cut):")
            for line in tail { Swift.print("     | \(line)") }
        }
        StandardStreams.flushOutput()
    }
}
