import ArgumentParser
import VMLab

/// `vmlab run`: runs a lab like the standalone `lua` interpreter runs a script.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a lab script.",
        discussion: """
        The script runs with the `vmlab` module preloaded (also `require "vmlab"`) and `arg` set as \
        the `lua` interpreter sets it: arg[0] is the script, arg[1...] the arguments after it, \
        negative indices the words before it. Checks the script declares run after it; any failure \
        exits 1. An error prints "file:line: message" and a traceback to stderr and exits 1. Ctrl-C \
        stops the running machine and raises "interrupted!" where the script was (an error like \
        any other: a script that catches it goes on); a second Ctrl-C before it is raised ends \
        vmlab at once.
        """
    )

    @Option(name: .customShort("e"), help: ArgumentHelp("Run a string of Lua code (before the script).", valueName: "code"))
    var chunks: [String] = []

    @Argument(help: "The Lua script to run.")
    var script: String?

    @Argument(parsing: .captureForPassthrough, help: "Arguments for the script (after an optional --).")
    var arguments: [String] = []

    func validate() throws {
        if script == nil && chunks.isEmpty {
            throw ValidationError("Give a script to run, or code with -e.")
        }
    }

    func run() throws {
        var passed = arguments
        if passed.first == "--" { passed.removeFirst() }
        var lab = LabRun(script: script, chunks: chunks, arguments: passed,
                         interpreter: [CommandLine.arguments.first ?? "vmlab", "run"])
        lab.catchesInterrupt = true
        let status = lab.execute()
        StandardStreams.flushOutput()
        if status != 0 { throw ExitCode(status) }
    }
}
