// Builds guest programs from labs/guests with scripts/build-guests (the toolchain's clang), so the
// board's tests run real RISC-V code. A guest that cannot be built is a failure: the toolchain's
// clang is all it needs, and the README promises that. Shared by the test targets that boot guests
// (BootTests, HypervisorTests), so the build-guests locking lives in one place.
import Foundation
import Testing

public enum Guests {
    /// The package root: this file is Tests/GuestTestSupport/Guests.swift.
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `.build/guests/<folder>/<name>` after building `folder`, or nil after recording the failure.
    public static func path(_ folder: String, _ name: String) -> String? {
        let script = root.appendingPathComponent("scripts/build-guests").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Test suites run in parallel in one process; a lock keeps two builds of one folder apart.
        let lock = root.appendingPathComponent(".build/guests.lock").path
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/flock") {
            process.arguments = ["/usr/bin/flock", lock, "bash", script, folder]
        } else {
            process.arguments = ["bash", script, folder]
        }
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["VMLAB_GUESTS_OUT": root.appendingPathComponent(".build/guests").path]) { $1 }
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            Issue.record("cannot run scripts/build-guests: \(error)")
            return nil
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            Issue.record("scripts/build-guests \(folder) failed: \(String(decoding: message, as: UTF8.self))")
            return nil
        }
        let path = root.appendingPathComponent(".build/guests/\(folder)/\(name)").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}
