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
        let result = run(caller: "tests")
        return result.status == 0 && !result.path.isEmpty ? (result.path, "") : (nil, result.message)
    }()

    /// Runs `toolchain_bin CALLER` from scripts/lib/toolchain.sh, with `path` as PATH when given
    /// (else this process's): the directory it printed, its message and its exit status.
    public static func run(caller: String, path: String? = nil) -> (path: String, message: String, status: Int32) {
        let script = Guests.root.appendingPathComponent("scripts/lib/toolchain.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "source \"$1\" && toolchain_bin \"$2\"", "bash", script, caller]
        if let path { process.environment = ["PATH": path] }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return ("", "cannot run bash: \(error)", -1) }
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (printed, message, process.terminationStatus)
    }
}
