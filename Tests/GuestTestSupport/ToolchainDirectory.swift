// Where the Swift toolchain's LLVM tools are, found by the same rule as the scripts': the tests ask
// scripts/lib/toolchain.sh rather than keep a second copy of it (beside `swift`, not the first
// `clang` on PATH, and no fixed install path).
import Foundation

public enum ToolchainDirectory {
    /// The directory holding clang, ld.lld, llvm-objcopy...; nil when the script found none (its
    /// message is in `problem`).
    public static let path: String? = lookup.path
    /// Why `path` is nil.
    public static let problem: String = lookup.problem

    private static let lookup: (path: String?, problem: String) = {
        let script = Guests.root.appendingPathComponent("scripts/lib/toolchain.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", "-c", "source \"$1\" && toolchain_bin tests", "bash", script]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return (nil, "cannot run bash: \(error)") }
        let path = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, !path.isEmpty else { return (nil, message) }
        return (path, "")
    }()
}
