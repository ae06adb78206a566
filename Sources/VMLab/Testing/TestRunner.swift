import Boot
import Foundation

/// `vmlab test`: runs files in worker processes (`jobs` at a time, each killed after `timeout`
/// seconds), prints their results in sorted file order whatever order they finish in, and returns
/// the exit status: 0 when nothing failed, 1 otherwise.
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
        /// The worker's captured stdout and stderr.
        var log: String
        var seconds: Double
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

        var outcomes: [FileOutcome?] = Array(repeating: nil, count: files.count)
        var running: [(index: Int, process: WorkerProcess)] = []
        var next = 0
        var printed = 0
        var all: [TestResult] = []

        func paths(_ index: Int) -> (results: String, log: String) {
            (scratch.appendingPathComponent("\(index).jsonl").path, scratch.appendingPathComponent("\(index).log").path)
        }
        // Each worker's os.tmpname() files go in a directory of its own, removed once the worker
        // has ended: a worker killed by the time-out cannot clean up after itself.
        func temporaryDirectory(_ index: Int) -> URL { scratch.appendingPathComponent("\(index).tmp") }

        while printed < files.count {
            while running.count < jobs && next < files.count {
                let index = next
                next += 1
                var arguments = ["test", "--worker", files[index], "--results", paths(index).results]
                if (try? FileManager.default.createDirectory(at: temporaryDirectory(index), withIntermediateDirectories: true)) != nil {
                    arguments += ["--scratch", temporaryDirectory(index).path]
                }
                if let filter { arguments += ["--filter", filter] }
                do {
                    let process = try WorkerProcess(executable: workerExecutable, arguments: arguments,
                                                    logPath: paths(index).log)
                    running.append((index, process))
                } catch {
                    outcomes[index] = FileOutcome(results: [TestResult(
                        file: files[index], names: [], status: .fail, seconds: 0,
                        message: "cannot start a worker (\(workerExecutable)): \(error)")], log: "", seconds: 0)
                }
            }
            var progressed = false
            running.removeAll { entry in
                var timedOut = false
                if !entry.process.poll() {
                    guard entry.process.elapsed > timeout else { return false }
                    entry.process.kill()
                    timedOut = true
                }
                progressed = true
                outcomes[entry.index] = collect(entry.index, entry.process, paths(entry.index), timedOut: timedOut)
                try? FileManager.default.removeItem(at: temporaryDirectory(entry.index))
                return true
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
            let xml = JUnitReport.xml(files: files, outcomes: outcomes.map { $0 ?? FileOutcome(results: [], log: "", seconds: 0) })
            do throws(BootError) {
                try HostFile.write(Array(xml.utf8), to: junitPath)
            } catch {
                StandardStreams.writeError("vmlab test: \(error.description)\n")
                return 1
            }
        }
        return all.contains { $0.status == .fail } || nothingSelected ? 1 : 0
    }

    private func collect(_ index: Int, _ process: WorkerProcess, _ paths: (results: String, log: String),
                         timedOut: Bool) -> FileOutcome {
        let file = files[index]
        var (results, finished, unfinished) = TestWorker.readResults(paths.results)
        let log = (try? String(contentsOfFile: paths.log, encoding: .utf8)) ?? ""
        let seconds = process.elapsed
        if timedOut {
            results.append(TestResult(file: file, names: unfinished?.running ?? [], status: .fail, seconds: seconds,
                                      message: "timed out after \(ConsoleReport.formatSeconds(timeout))s; the worker was killed"))
        } else if !finished {
            let how = process.abnormalEnd ?? "exited with status \(process.exitStatus ?? -1)"
            results.append(TestResult(file: file, names: unfinished?.running ?? [], status: .fail, seconds: seconds,
                                      message: "the worker \(how) before the file finished"))
        }
        return FileOutcome(results: results, log: log, seconds: seconds)
    }

    /// A file's results, and the tail of its output when something in it failed.
    private func show(_ outcome: FileOutcome) {
        for result in outcome.results {
            for line in ConsoleReport.lines(result) { Swift.print(line) }
        }
        if outcome.results.contains(where: { $0.status == .fail }) && !outcome.log.isEmpty {
            let lines = outcome.log.split(separator: "\n", omittingEmptySubsequences: false)
            let tail = lines.suffix(40)
            Swift.print("     output\(tail.count < lines.count ? " (last \(tail.count) lines)" : ""):")
            for line in tail where !(line.isEmpty && line.endIndex == outcome.log.endIndex) { Swift.print("     | \(line)") }
        }
        StandardStreams.flushOutput()
    }
}
