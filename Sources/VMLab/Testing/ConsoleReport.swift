/// The console transcript of a test run: one line per result, messages indented beneath failures
/// and reasons beneath skips, and a final line that is exactly "N passed, N failed" (", N skipped"
/// when some were).
public enum ConsoleReport {
    /// The lines for one result.
    public static func lines(_ result: TestResult) -> [String] {
        let time = "(\(formatSeconds(result.seconds))s)"
        switch result.status {
        case .pass:
            return ["ok   \(result.fullName) \(time)"]
        case .skip:
            return ["SKIP \(result.fullName)"] + indented(result.message ?? "")
        case .fail:
            return ["FAIL \(result.fullName) \(time)"] + indented(result.message ?? "failed")
        }
    }

    /// A message's lines, beneath its result line.
    private static func indented(_ message: String) -> [String] {
        guard !message.isEmpty else { return [] }
        return message.split(separator: "\n", omittingEmptySubsequences: false).map { "     \($0)" }
    }

    public static func summary(_ results: [TestResult]) -> String {
        let passed = results.count { $0.status == .pass }
        let failed = results.count { $0.status == .fail }
        let skipped = results.count { $0.status == .skip }
        return "\(passed) passed, \(failed) failed" + (skipped > 0 ? ", \(skipped) skipped" : "")
    }

    /// Seconds with two decimals, without Foundation's locale-dependent formatting.
    static func formatSeconds(_ seconds: Double) -> String {
        let hundredths = Int((max(0, seconds) * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
