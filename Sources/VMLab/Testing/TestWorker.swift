import Foundation
import LuaKit

/// `vmlab test --worker FILE --results PATH [--scratch DIR] [--resume-after N]`: runs one file in
/// its own process and writes one JSON line per result to PATH as each result is known (so a
/// worker killed by the time-out still leaves what finished), then the line `done`. Before each
/// check it writes `{"running":[names],"position":P,"declared":D}`, so a time-out can name the
/// check that was running and the runner can start a new worker with `--resume-after P` for the
/// checks after it. The runner treats a missing `done` as a failure of the file, or of the check
/// that was running. With DIR, `os.tmpname()` makes its files there (the runner removes DIR when
/// the worker has ended, also when it killed it).
public enum TestWorker {
    public static let doneMarker = "done"

    /// The check a worker has started.
    public struct Running: Codable, Equatable, Sendable {
        public var running: [String]
        /// Its position among the file's declared checks, from 1. It counts every declared check,
        /// whatever the filter, so it means the same in every worker for the file: the runner
        /// need not know which checks the filter selects, and checks passed over by the filter
        /// cannot shift it.
        public var position: Int
        /// How many checks the file declares: when the last one ends the worker, nothing is left
        /// to resume.
        public var declared: Int
        /// When it started, in seconds since the worker did: a check that ends its worker is
        /// timed from here, not from the start of the file (which loading took).
        public var started: Double
    }

    /// Runs `file`'s checks after the first `resumeAfter` declared ones (all of them when 0). The
    /// file's main chunk runs in full either way: it is what declares the checks. A resumed worker
    /// is told how many checks the file declared in its first worker (`resumeDeclared`): when the
    /// main chunk now declares another number, position `resumeAfter` may name another check, so
    /// the worker runs none and fails the file, saying why.
    public static func run(file: String, resultsPath: String, filter: String?, interpreter: [String],
                           scratch: String? = nil, resumeAfter: Int = 0, resumeDeclared: Int? = nil) -> Int32 {
        watchParent()
        guard FileManager.default.createFile(atPath: resultsPath, contents: nil),
              let output = FileHandle(forWritingAtPath: resultsPath)
        else {
            StandardStreams.writeError("vmlab test: cannot write results to \(resultsPath)\n")
            return 1
        }
        let encoder = JSONEncoder()
        func emit(_ result: TestResult) {
            StandardStreams.flushOutput()
            guard var line = try? encoder.encode(result) else { return }
            line.append(0x0A)
            output.write(line)
        }
        let started = ProcessInfo.processInfo.systemUptime
        func elapsed() -> Double { ProcessInfo.processInfo.systemUptime - started }
        do {
            let session = try LabSession()
            session.setArguments(script: file, arguments: [], interpreter: interpreter)
            if let scratch { try session.keepTemporaryFiles(in: scratch) }
            do {
                try session.runFile(file)
            } catch {
                // Results about the file itself obey the filter like checks do, so a focused run
                // (--filter) is not drowned by unrelated broken files.
                if try matches(file, filter, in: session) {
                    emit(TestResult(file: file, names: [], status: .fail, seconds: elapsed(), message: error.description))
                }
                output.write(Data((doneMarker + "\n").utf8))
                return 0
            }
            let declared = session.checkCount
            if resumeAfter > 0, let resumeDeclared, declared != resumeDeclared {
                emit(TestResult(file: file, names: [], status: .fail, seconds: elapsed(), message:
                    "the file declared \(declared) checks when it ran again, not \(resumeDeclared): the checks after the one that ended its first worker cannot be found, so they did not run"))
            } else if declared == 0 && resumeAfter == 0 {
                // A lab without checks is a smoke test: it passes by running without error.
                if try matches(file, filter, in: session) {
                    emit(TestResult(file: file, names: [], status: .pass, seconds: elapsed()))
                }
            } else {
                try session.runChecks(file: file, filter: filter, after: resumeAfter, starting: { names, position in
                    if var line = try? encoder.encode(Running(running: names, position: position, declared: declared, started: elapsed())) {
                        line.append(0x0A)
                        output.write(line)
                    }
                }, report: emit)
            }
        } catch {
            emit(TestResult(file: file, names: [], status: .fail, seconds: elapsed(), message: error.description))
        }
        StandardStreams.flushOutput()
        output.write(Data((doneMarker + "\n").utf8))
        return 0
    }

    /// Ends the worker when the runner goes away (interrupted, killed): a worker runs in its own
    /// process group, so the terminal's ^C does not reach it, and a looping check would otherwise
    /// run on with nobody to enforce its time-out.
    private static func watchParent() {
        let parent = getppid()
        let watchdog = Thread {
            while true {
                if getppid() != parent { _exit(70) }
                usleep(200_000)
            }
        }
        watchdog.start()
    }

    /// Whether the Lua pattern `filter` is found in `name` (Lua's own matcher, as checks use).
    private static func matches(_ name: String, _ filter: String?, in session: LabSession) throws(LuaError) -> Bool {
        guard let filter else { return true }
        let found = try session.lua.run("local s, p = ... return s:find(p) ~= nil", chunkName: "=filter",
                                        args: [.string(name), .string(filter)])
        return found.first == .boolean(true)
    }

    /// Reads a worker's results file: the results, whether the worker got to the end, and the
    /// check it had started without finishing, if any.
    public static func readResults(_ path: String) -> (results: [TestResult], finished: Bool, unfinished: Running?) {
        guard let data = FileManager.default.contents(atPath: path) else { return ([], false, nil) }
        let decoder = JSONDecoder()
        var results: [TestResult] = []
        var finished = false
        var unfinished: Running?
        for line in data.split(separator: 0x0A) {
            if line.elementsEqual(doneMarker.utf8) { finished = true; continue }
            if let result = try? decoder.decode(TestResult.self, from: Data(line)) {
                results.append(result)
                unfinished = nil
            } else if let running = try? decoder.decode(Running.self, from: Data(line)) {
                unfinished = running
            }
        }
        return (results, finished, unfinished)
    }
}
