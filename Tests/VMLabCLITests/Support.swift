import Foundation
import Testing

/// The package root, from this file's path (Tests/VMLabCLITests/…).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let fixtures = packageRoot.appendingPathComponent("Tests/VMLabCLITests/Fixtures")

/// The built `vmlab` executable: it sits beside the test bundle in the build directory.
func vmlabExecutable() throws -> URL {
    var candidates: [URL] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("vmlab"))
    }
    var bundle = Bundle.main.bundleURL
    for _ in 0..<4 {
        candidates.append(bundle.appendingPathComponent("vmlab"))
        bundle = bundle.deletingLastPathComponent()
    }
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "vmlab executable not found in \(candidates)"])
    }
    return found
}

struct Transcript {
    var status: Int32
    var stdout: String
    var stderr: String
    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
}

/// A vmlab process whose output goes to files in a scratch folder of its own, so no pipe can fill
/// up. Not started yet.
struct VMLabProcess {
    let process = Process()
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-cli-\(UUID().uuidString)")
    var out: URL { scratch.appendingPathComponent("out") }
    var err: URL { scratch.appendingPathComponent("err") }

    init(_ arguments: [String], in directory: URL = fixtures, environment extra: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.executableURL = try vmlabExecutable()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = "80"
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
    }

    /// What it has printed so far.
    var stdout: String { (try? String(contentsOf: out, encoding: .utf8)) ?? "" }

    /// Its status and output, once it has ended; the scratch folder goes.
    func finish() throws -> Transcript {
        defer { try? FileManager.default.removeItem(at: scratch) }
        return Transcript(status: process.terminationStatus,
                          stdout: try String(contentsOf: out, encoding: .utf8),
                          stderr: try String(contentsOf: err, encoding: .utf8))
    }
}

/// Runs vmlab with `arguments` in `directory` to its end; `whileRunning` is called once it has
/// started (to watch its output, send it a signal).
func vmlab(_ arguments: [String], in directory: URL = fixtures, environment extra: [String: String] = [:],
           whileRunning: (VMLabProcess) -> Void = { _ in }) throws -> Transcript {
    let run = try VMLabProcess(arguments, in: directory, environment: extra)
    do { try runWithTimeout(run.process, arguments: arguments) { whileRunning(run) } } catch {
        try? FileManager.default.removeItem(at: run.scratch)
        throw error
    }
    return try run.finish()
}

/// Runs `process` to its end, or kills it after `seconds` and records the hang as a test failure:
/// a guest that never stops (a hole that breaks the kernel, a missing budget) must fail one test,
/// not stall the whole suite until CI's own limit. `whileRunning` is called once it has started
/// (to watch its output, send it a signal).
func runWithTimeout(_ process: Process, arguments: [String], seconds: Double = 300,
                    whileRunning: () -> Void = {}) throws {
    let ended = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in ended.signal() }
    try process.run()
    whileRunning()
    if ended.wait(timeout: .now() + seconds) == .timedOut {
        process.terminate()
        if ended.wait(timeout: .now() + 10) == .timedOut { kill(process.processIdentifier, SIGKILL); ended.wait() }
        Issue.record("vmlab \(arguments.joined(separator: " ")) did not finish in \(Int(seconds)) s and was killed")
    }
}

/// Result lines with their times removed, for comparing runs.
func withoutTimes(_ lines: [String]) -> [String] {
    lines.map { line in
        guard let open = line.range(of: " (", options: .backwards), line.hasSuffix("s)") else { return line }
        return String(line[..<open.lowerBound])
    }
}

@Test func aCommandThatHangsIsKilledAndFailsItsTest() throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sleep")
    process.arguments = ["60"]
    let started = Date()
    withKnownIssue("the hang is recorded as a failure") {
        try runWithTimeout(process, arguments: ["(sleep 60)"], seconds: 0.5)
    }
    #expect(process.terminationReason == .uncaughtSignal)
    #expect(Date().timeIntervalSince(started) < 20)
}

/// Runs `body` with a fresh, empty directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try body(dir)
}
