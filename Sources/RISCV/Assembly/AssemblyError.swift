// Assembly errors carry the position of the offending token so that a message can point at it,
// in the compiler convention `line:column: message` (both 1-based).

/// A problem in assembly source, located at a line and column.
public struct AssemblyError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// `2:9: unknown register 'x32'`
    public var description: String { "\(line):\(column): \(message)" }
}

/// A position in the source, carried by tokens and statements.
struct SourceLocation: Equatable, Sendable {
    var line: Int
    var column: Int

    func error(_ message: String) -> AssemblyError { AssemblyError(line: line, column: column, message: message) }
}
