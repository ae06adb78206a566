import LuaKit

/// `vmlab run`: runs `-e` chunks and then a lab script in a fresh session, as the standalone `lua`
/// interpreter does, then runs any checks the lab declared.
public struct LabRun {
    public var script: String?
    public var chunks: [String]
    public var arguments: [String]
    /// The words that started the interpreter (e.g. ["vmlab", "run"]), as arg's negative indices.
    public var interpreter: [String]
    /// Ctrl-C interrupts the lab (`HostInterrupt`): for a command-line run, not for a test runner
    /// that runs labs side by side.
    public var catchesInterrupt = false

    public init(script: String?, chunks: [String] = [], arguments: [String] = [], interpreter: [String] = ["vmlab", "run"]) {
        self.script = script
        self.chunks = chunks
        self.arguments = arguments
        self.interpreter = interpreter
    }

    /// Runs and returns the exit status: 0 when everything ran and every check passed, 1 otherwise.
    /// Script errors go to stderr as "file:line: message" followed by a traceback.
    public func execute() -> Int32 {
        do {
            let session = try LabSession()
            if catchesInterrupt { HostInterrupt.catchInterrupt(in: session.lua) }
            if let script {
                session.setArguments(script: script, arguments: arguments, interpreter: interpreter)
            } else {
                // Without a script, as in `lua -e`, arg[0] is the interpreter.
                session.setArguments(script: interpreter.first ?? "vmlab", arguments: arguments,
                                     interpreter: [])
            }
            for chunk in chunks { try session.run(chunk) }
            if let script { try session.runFile(script, arguments: arguments) }
            guard session.checkCount > 0 else { return 0 }
            var results: [TestResult] = []
            try session.runChecks(file: script ?? "(command line)", filter: nil) { result in
                results.append(result)
                for line in ConsoleReport.lines(result) { print(line) }
            }
            print(ConsoleReport.summary(results))
            return results.contains { $0.status == .fail } ? 1 : 0
        } catch {
            StandardStreams.writeError(error.description + "\n")
            return 1
        }
    }
}
