import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// Every discoverable file of the fixture suite (helper.lua is neither a test nor a numbered lab).
private let suiteFiles = ["suite/01-smoke.lua", "suite/failing_test.lua", "suite/nested/02-broken.lua", "suite/passing_test.lua"]

@Test func suiteCountsPassesFailuresAndSkips() throws {
    let t = try vmlab(["test", "suite", "-j", "2"])
    #expect(t.status == 1)
    #expect(t.lines.last == "4 passed, 3 failed, 1 skipped")
    #expect(t.lines.filter { $0.hasPrefix("ok   ") }.count == 4)
    #expect(t.lines.filter { $0.hasPrefix("FAIL ") }.count == 3)
    #expect(t.lines.filter { $0.hasPrefix("SKIP ") } == ["SKIP suite/passing_test.lua › arithmetic › divides by zero someday"])
    // The reason pending() gave, beneath the SKIP line.
    let skip = try #require(t.lines.firstIndex { $0.hasPrefix("SKIP ") })
    #expect(t.lines[skip + 1] == "     no rule for it yet")
    #expect(t.lines.contains { $0.hasPrefix("ok   suite/01-smoke.lua (") })
    #expect(t.lines.contains { $0.hasPrefix("FAIL suite/failing_test.lua › deliberate › fails an expectation (") })
    #expect(t.lines.contains("     suite/failing_test.lua:4: expected: 1 to equal 2"))
    #expect(t.lines.contains("     suite/nested/02-broken.lua:3: bad argument #1 to 'hex' (integer expected, got string)"))
    #expect(t.lines.contains("     | output from failing_test.lua"))
    #expect(!t.stdout.contains("helper.lua"))
}

@Test func passingFilesExitZero() throws {
    let t = try vmlab(["test", "suite/passing_test.lua", "suite/01-smoke.lua"])
    #expect(t.status == 0)
    #expect(t.lines.last == "3 passed, 0 failed, 1 skipped")
}

@Test func filterSelectsChecks() throws {
    let t = try vmlab(["test", "suite", "--filter", "multipl"])
    #expect(t.status == 0)
    #expect(withoutTimes(t.lines) == ["ok   suite/passing_test.lua › arithmetic › multiplies", "1 passed, 0 failed"])
}

/// A filter that selects nothing fails the run and says so: it is most likely a typo.
@Test func aFilterThatSelectsNothingFails() throws {
    let t = try vmlab(["test", "suite/passing_test.lua", "--filter", "multipyl"])
    #expect(t.status == 1)
    #expect(t.lines.last == "0 passed, 0 failed")
    #expect(t.stderr.contains("vmlab test: no check matches --filter 'multipyl'"), "stderr: \(t.stderr)")
}

@Test func junitOutputIsWellFormed() throws {
    let xmlURL = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-junit-\(UUID().uuidString).xml")
    defer { try? FileManager.default.removeItem(at: xmlURL) }
    let t = try vmlab(["test", "suite", "--junit", xmlURL.path])
    #expect(t.status == 1)
    let document = try XMLDocument(contentsOf: xmlURL, options: [])
    let root = try #require(document.rootElement())
    #expect(root.name == "testsuites")
    #expect(root.attribute(forName: "tests")?.stringValue == "8")
    #expect(root.attribute(forName: "failures")?.stringValue == "3")
    #expect(root.attribute(forName: "skipped")?.stringValue == "1")
    let suites = root.elements(forName: "testsuite")
    #expect(suites.compactMap { $0.attribute(forName: "name")?.stringValue } == suiteFiles)
    let cases = suites.flatMap { $0.elements(forName: "testcase") }
    #expect(cases.count == 8)
    #expect(cases.filter { !$0.elements(forName: "failure").isEmpty }.count == 3)
    #expect(cases.filter { !$0.elements(forName: "skipped").isEmpty }.count == 1)
    let skipped = cases.flatMap { $0.elements(forName: "skipped") }
    #expect(skipped.first?.attribute(forName: "message")?.stringValue == "no rule for it yet")
    let failure = try #require(cases.first { $0.attribute(forName: "name")?.stringValue == "deliberate › fails an expectation" })
    #expect(failure.elements(forName: "failure").first?.stringValue == "suite/failing_test.lua:4: expected: 1 to equal 2")
}

@Test func shardsSplitTheSuiteDisjointlyAndCompletely() throws {
    var seen: [String] = []
    for k in 1...3 {
        let t = try vmlab(["test", "suite", "--shard", "\(k)/3"])
        let files = Set(t.lines.compactMap { line -> String? in
            guard line.hasPrefix("ok   ") || line.hasPrefix("FAIL ") || line.hasPrefix("SKIP ") else { return nil }
            let name = line.dropFirst(5)
            return String(name.prefix { $0 != " " })
        })
        seen += files
        #expect(t.lines.last?.hasSuffix("failed") == true || t.lines.last?.hasSuffix("skipped") == true)
    }
    #expect(seen.sorted() == suiteFiles)   // every file once: complete and disjoint
}

@Test func outputOrderDoesNotDependOnWorkers() throws {
    let serial = try vmlab(["test", "order", "-j", "1"])
    let parallel = try vmlab(["test", "order", "-j", "4"])
    #expect(serial.status == 0 && parallel.status == 0)
    #expect(withoutTimes(parallel.lines) == withoutTimes(serial.lines))
    #expect(withoutTimes(parallel.lines) == [
        "ok   order/a_test.lua › is slow", "ok   order/b_test.lua › is quick",
        "ok   order/c_test.lua › is quick", "ok   order/d_test.lua › is quick", "4 passed, 0 failed",
    ])
}

@Test func aFileExceedingTheTimeoutIsKilledAndFails() throws {
    let started = Date()
    // 3 s leaves the quick file time to finish on a loaded machine; the spinning one never does.
    let t = try vmlab(["test", "timeout", "--timeout", "3", "-j", "2"])
    #expect(Date().timeIntervalSince(started) < 20)
    #expect(t.status == 1)
    #expect(withoutTimes(t.lines) == [
        "ok   timeout/quick_test.lua › is quick",
        "ok   timeout/spin_test.lua › finishes",
        "FAIL timeout/spin_test.lua › spins forever",
        "     timed out: the file's worker had run for 3.00s (--timeout counts the whole file); the worker was killed",
        "2 passed, 1 failed",
    ])
}

/// A worker killed by the time-out cannot clean up: the files it made with os.tmpname() (and
/// files beside them) lie in a directory of its own, which the runner removes. They stayed in /tmp.
@Test func aKilledWorkersTemporaryFilesAreRemoved() throws {
    let t = try vmlab(["test", "leftovers", "--timeout", "2"])
    #expect(t.status == 1)
    let line = try #require(t.lines.first { $0.contains("| temporary file: ") }, "stdout: \(t.stdout)")
    let path = String(line[line.range(of: "temporary file: ")!.upperBound...])
    #expect(!path.hasPrefix("/tmp/lua_"))
    #expect(!FileManager.default.fileExists(atPath: path))
    #expect(!FileManager.default.fileExists(atPath: path + ".err"))
    #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path))
}

/// A negative number after a numeric option is that option's value, checked as such, not an
/// unknown option that leaves the value missing; a bad shard says what is wrong with it.
@Test func testNegativeNumbersReachTheOptionsOwnChecks() throws {
    for (arguments, message) in [(["-j", "-1"], "--jobs must be at least 1."),
                                 (["--jobs", "-1"], "--jobs must be at least 1."),
                                 (["--timeout", "-1"], "--timeout must be positive."),
                                 (["--shard", "-1/2"], "The value '-1/2' is invalid for '--shard <K/N>': K must be 1 to 2, got -1"),
                                 (["--shard", "1/0"], "N must be at least 1, got 0"),
                                 (["--shard", "one/2"], "expected two whole numbers K/N, such as 1/4")] {
        let t = try vmlab(["test", "suite"] + arguments)
        #expect(t.status == 64)
        #expect(t.stderr.contains(message), "\(arguments): \(t.stderr)")
        #expect(!t.stderr.contains("Missing value"), "\(arguments): \(t.stderr)")
    }
}

/// A JUnit file that cannot be written is a usage error before the suite runs, not a raw error
/// dump after it.
@Test func anUnwritableJUnitPathIsAUsageError() throws {
    for (path, message) in [("/nonexistent/x.xml", "--junit: cannot write '/nonexistent/x.xml': no directory '/nonexistent'."),
                            ("/", "--junit: '/' is a directory."),
                            ("/dev/null/x.xml", "--junit: cannot write '/dev/null/x.xml': '/dev/null' is not a directory.")] {
        let t = try vmlab(["test", "suite", "--junit", path])
        #expect(t.status == 64)
        #expect(t.stderr.contains(message), "\(path): \(t.stderr)")
        #expect(t.stdout.isEmpty)
    }
}

/// A malformed --filter pattern is a usage error, once, not a Lua traceback in every file.
@Test func aMalformedFilterIsAUsageError() throws {
    let t = try vmlab(["test", "suite", "--filter", "["])
    #expect(t.status == 64)
    #expect(t.stderr.contains("--filter '[': malformed pattern (missing ']')."))
    #expect(t.stdout.isEmpty)
}

/// Writes `source` as `name` in `directory`.
private func write(_ source: String, as name: String, in directory: URL) throws {
    try source.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
}

/// A check that ends its worker fails, and a new worker runs the checks declared after it: one
/// hanging check used to hide the rest of its file. The main chunk runs again in the new worker
/// (it prints "loading" twice), and the log says why.
@Test(arguments: [
    ("while true do end", "timed out: the file's worker had run for 2.00s (--timeout counts the whole file); the worker was killed"),
    ("os.exit(3)", "the worker exited with status 3 before the file finished"),
    ("os.execute('kill -9 $PPID')", "the worker was killed by signal 9 before the file finished"),
])
func aCheckThatEndsItsWorkerFailsAndTheRestOfTheFileRuns(body: String, message: String) throws {
    try withTemporaryDirectory { dir in
        try write("""
            print("loading")
            it("A", function() expect(1).to_equal(1) end)
            it("B", function() \(body) end)
            it("C", function() expect(2).to_equal(2) end)
            """, as: "resume_test.lua", in: dir)
        let t = try vmlab(["test", "resume_test.lua", "--timeout", "2"], in: dir)
        #expect(t.status == 1)
        #expect(withoutTimes(t.lines) == [
            "ok   resume_test.lua › A",
            "FAIL resume_test.lua › B",
            "     \(message)",
            "ok   resume_test.lua › C",
            "     output:",
            "     | loading",
            "     | vmlab test: a new worker runs the file again for the checks after 'B'",
            "     | loading",
            "2 passed, 1 failed",
        ], "stdout: \(t.stdout)")
    }
}

/// A check that ends its worker is timed from its own start, not from the worker's: loading the
/// file (here a second of busy top level) is not the check's time.
@Test func aCheckThatEndsItsWorkerIsTimedFromItsOwnStart() throws {
    try withTemporaryDirectory { dir in
        try write("""
            local t = os.clock()
            while os.clock() - t < 1 do end
            it("ends", function() os.exit(3) end)
            """, as: "slow_test.lua", in: dir)
        let t = try vmlab(["test", "slow_test.lua"], in: dir)
        let line = try #require(t.lines.first { $0.hasPrefix("FAIL slow_test.lua › ends (") }, "stdout: \(t.stdout)")
        let seconds = try #require(Double(line.dropFirst("FAIL slow_test.lua › ends (".count).dropLast(2)), "\(line)")
        #expect(seconds < 0.5, "\(line)")
    }
}

/// A resumed worker finds the checks after the one that ended the first by position; a file
/// whose main chunk declares a different number of checks when it runs again cannot be resumed
/// that way, and says so instead of running checks that may be the wrong ones.
@Test func aFileThatDeclaresOtherChecksWhenItRunsAgainIsNotResumed() throws {
    try withTemporaryDirectory { dir in
        try write("""
            local f = io.open("runs.txt")
            local runs = f and tonumber(f:read("a")) or 0
            if f then f:close() end
            f = assert(io.open("runs.txt", "w")); f:write(runs + 1); f:close()
            it("A", function() end)
            it("B", function() os.exit(3) end)
            for i = 1, runs + 1 do it("C" .. i, function() end) end
            """, as: "varying_test.lua", in: dir)
        let t = try vmlab(["test", "varying_test.lua"], in: dir)
        #expect(t.status == 1)
        let lines = withoutTimes(t.lines)
        #expect(Array(lines.prefix(5)) == [
            "ok   varying_test.lua › A",
            "FAIL varying_test.lua › B",
            "     the worker exited with status 3 before the file finished",
            "FAIL varying_test.lua",
            "     the file declared 4 checks when it ran again, not 3: the checks after the one that ended its first worker cannot be found, so they did not run",
        ], "stdout: \(t.stdout)")
        #expect(lines.last == "1 passed, 2 failed")
    }
}

/// A failing file's output is shown beneath its results, cut to its last 40 lines; the cut says
/// so, and where the whole of it is kept.
@Test func longOutputOfAFailingFileIsCutAndSaysSo() throws {
    try withTemporaryDirectory { dir in
        try write("""
            for i = 1, 100 do print("line " .. i) end
            it("fails", function() expect(1).to_equal(2) end)
            """, as: "chatty_test.lua", in: dir)
        let t = try vmlab(["test", "chatty_test.lua"], in: dir)
        #expect(t.status == 1)
        let header = try #require(t.lines.firstIndex { $0.hasPrefix("     output") })
        #expect(t.lines[header] == "     output (last 40 of 100 lines; --junit <file> keeps all):")
        #expect(t.lines[header + 1] == "     | line 61" && t.lines[header + 40] == "     | line 100")
    }
}

/// Each hanging check costs one time-out and one new worker; the results stay in declaration
/// order, and the JUnit report has every check, those of the resumed workers too.
@Test func twoHangingChecksInOneFileFailAndTheOthersRun() throws {
    try withTemporaryDirectory { dir in
        try write("""
            describe("group", function()
              it("A", function() end)
              it("B", function() while true do end end)
              pending("C", "later")
              it("D", function() while true do end end)
            end)
            it("E", function() end)
            """, as: "two_test.lua", in: dir)
        let xml = dir.appendingPathComponent("report.xml")
        let started = Date()
        let t = try vmlab(["test", "two_test.lua", "--timeout", "2", "--junit", xml.path], in: dir)
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(t.status == 1)
        #expect(withoutTimes(t.lines).filter { !$0.hasPrefix("     ") } == [
            "ok   two_test.lua › group › A",
            "FAIL two_test.lua › group › B",
            "SKIP two_test.lua › group › C",
            "FAIL two_test.lua › group › D",
            "ok   two_test.lua › E",
            "2 passed, 2 failed, 1 skipped",
        ], "stdout: \(t.stdout)")
        let root = try #require(try XMLDocument(contentsOf: xml, options: []).rootElement())
        #expect(root.attribute(forName: "tests")?.stringValue == "5")
        #expect(root.attribute(forName: "failures")?.stringValue == "2")
        let cases = root.elements(forName: "testsuite").flatMap { $0.elements(forName: "testcase") }
        #expect(cases.compactMap { $0.attribute(forName: "name")?.stringValue } ==
                ["group › A", "group › B", "group › C", "group › D", "E"])
    }
}

/// Resuming counts declared checks whatever the filter: the checks the filter passes over, before
/// the hanging one and after it, are not run by either worker.
@Test func aResumedWorkerKeepsTheFilter() throws {
    try withTemporaryDirectory { dir in
        try write("""
            it("skip me", function() end)
            it("hang", function() while true do end end)
            it("skip me too", function() end)
            it("after", function() end)
            """, as: "filter_test.lua", in: dir)
        let t = try vmlab(["test", "filter_test.lua", "--timeout", "2", "--filter", "› [ha]"], in: dir)
        #expect(t.status == 1)
        #expect(withoutTimes(t.lines).filter { !$0.hasPrefix("     ") } == [
            "FAIL filter_test.lua › hang", "ok   filter_test.lua › after", "1 passed, 1 failed",
        ], "stdout: \(t.stdout)")
    }
}

/// A worker that ends while the file loads is not resumed (a new one would end the same way):
/// the file fails once, after one time-out.
@Test func aFileWhoseMainChunkHangsFailsOnce() throws {
    try withTemporaryDirectory { dir in
        try write("""
            it("A", function() end)
            while true do end
            """, as: "loops_test.lua", in: dir)
        let started = Date()
        let t = try vmlab(["test", "loops_test.lua", "--timeout", "2"], in: dir)
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(t.status == 1)
        #expect(withoutTimes(t.lines) == [
            "FAIL loops_test.lua", "     timed out: the file's worker had run for 2.00s (--timeout counts the whole file); the worker was killed", "0 passed, 1 failed",
        ], "stdout: \(t.stdout)")
    }
}

@Test func resumeAfterIsForWorkersOnly() throws {
    let t = try vmlab(["test", "suite", "--resume-after", "2"])
    #expect(t.status == 64)
    #expect(t.stderr.contains("--resume-after needs --worker."), "stderr: \(t.stderr)")
}

/// Ctrl-C, SIGTERM or SIGHUP while a worker runs: the runner kills its workers, removes its
/// scratch folder (the signal used to end the runner and leave the folder in TMPDIR), says why
/// it stopped, and exits with 128 plus the signal's number. SIGINT only where this process does
/// not ignore it (a background job of a shell without job control does, and passes that on).
@Test(arguments: [SIGTERM, SIGINT, SIGHUP])
func aSignalStopsTheRunAndLeavesNothingBehind(_ signal: Int32) throws {
    var inherited = sigaction()
    guard sigaction(signal, nil, &inherited) == 0 else { Issue.record("sigaction failed"); return }
    let ignored = inherited.__sigaction_handler.sa_handler.map { unsafeBitCast($0, to: Int.self) == 1 } ?? false   // SIG_IGN
    if ignored { return }
    try withTemporaryDirectory { dir in
        let (t, worker, tmp) = try runSpinning(in: dir) { run, _ in kill(run.process.processIdentifier, signal) }
        #expect(t.status == 128 + signal)
        #expect(t.stderr.hasSuffix("arrived: stopped, with 1 of 1 file unfinished\n"), "stderr: \(t.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path) == [])
        #expect(kill(worker, 0) == -1 && errno == ESRCH, "the worker \(worker) still runs")
    }
}

/// A signal the runner inherited as ignored (here SIGHUP, as under `nohup`) stays ignored: the
/// run goes on; SIGTERM then stops it.
@Test func anInheritedIgnoredSignalStaysIgnored() throws {
    try withTemporaryDirectory { dir in
        let (t, _, _) = try runSpinning(in: dir, ignoringHangUp: true) { run, _ in
            kill(run.process.processIdentifier, SIGHUP)
            usleep(300_000)
            #expect(run.process.isRunning)
            kill(run.process.processIdentifier, SIGTERM)
        }
        #expect(t.status == 128 + SIGTERM)
    }
}

/// Runs `vmlab test` on a file whose check spins, with TMPDIR in `dir`; once the worker runs,
/// calls `body` with the runner and the worker's pid. Returns the transcript, the worker's pid
/// and the TMPDIR. With `ignoringHangUp`, vmlab starts with SIGHUP ignored (through sh's trap).
private func runSpinning(in dir: URL, ignoringHangUp: Bool = false,
                         _ body: (VMLabProcess, pid_t) -> Void) throws -> (Transcript, pid_t, URL) {
    let tmp = dir.appendingPathComponent("tmp")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    try write("""
        it("spins", function()
          local pid = assert(io.open("/proc/self/stat")):read("n")
          local f <close> = assert(io.open(os.getenv("WORKER_PID_FILE"), "w"))
          f:write(pid)
          f:close()
          while true do end
        end)
        """, as: "spin_test.lua", in: dir)
    let pidFile = dir.appendingPathComponent("worker.pid")
    var worker: pid_t = 0
    let arguments = ["test", "spin_test.lua", "--timeout", "600"]
    let environment = ["TMPDIR": tmp.path, "WORKER_PID_FILE": pidFile.path]
    func watch(_ run: VMLabProcess) {
        for _ in 0..<600 where worker == 0 {
            worker = (try? String(contentsOf: pidFile, encoding: .utf8)).flatMap { pid_t($0) } ?? 0
            if worker == 0 { usleep(100_000) }
        }
        #expect(worker != 0, "the worker never started")
        body(run, worker)
    }
    guard ignoringHangUp else {
        return (try vmlab(arguments, in: dir, environment: environment, whileRunning: watch), worker, tmp)
    }
    let run = try VMLabProcess(arguments, in: dir, environment: environment)
    let vmlabPath = run.process.executableURL!.path
    run.process.executableURL = URL(fileURLWithPath: "/bin/sh")
    run.process.arguments = ["-c", "trap '' HUP; exec \"$0\" \"$@\"", vmlabPath] + arguments
    try runWithTimeout(run.process, arguments: arguments) { watch(run) }
    return (try run.finish(), worker, tmp)
}
