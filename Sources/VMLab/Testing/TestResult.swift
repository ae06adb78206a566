/// The outcome of one check (or of a whole file, for labs without checks and for files that fail
/// before their checks run). Workers write these as JSON lines; the runner reads them.
public struct TestResult: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable { case pass, fail, skip }

    /// The file as the runner names it (the path as discovered).
    public var file: String
    /// The describe/it names; empty for a result about the file itself.
    public var names: [String]
    public var status: Status
    public var seconds: Double
    /// Why a check failed (its error and traceback) or was skipped (`pending`'s reason).
    public var message: String?

    public init(file: String, names: [String], status: Status, seconds: Double, message: String? = nil) {
        self.file = file
        self.names = names
        self.status = status
        self.seconds = seconds
        self.message = message
    }

    /// "file.lua › describe › it", or the file alone.
    public var fullName: String { ([file] + names).joined(separator: " › ") }
}
