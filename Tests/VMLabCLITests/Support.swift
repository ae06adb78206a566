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

/// Runs vmlab with `arguments` in `directory`; output goes through files, so no pipe can fill up.
func vmlab(_ arguments: [String], in directory: URL = fixtures) throws -> Transcript {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let out = scratch.appendingPathComponent("out"), err = scratch.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = try vmlabExecutable()
    process.arguments = arguments
    process.currentDirectoryURL = directory
    var environment = ProcessInfo.processInfo.environment
    environment["COLUMNS"] = "80"
    process.environment = environment
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    return Transcript(status: process.terminationStatus,
                      stdout: try String(contentsOf: out, encoding: .utf8),
                      stderr: try String(contentsOf: err, encoding: .utf8))
}

/// Result lines with their times removed, for comparing runs.
func withoutTimes(_ lines: [String]) -> [String] {
    lines.map { line in
        guard let open = line.range(of: " (", options: .backwards), line.hasSuffix("s)") else { return line }
        return String(line[..<open.lowerBound])
    }
}
