import ArgumentParser
import VMLab

/// The `vmlab` command. Each subcommand is one file; adding one (e.g. `vmlab boot`) means adding its
/// file and naming it in `subcommands`.
///
/// Exit codes: 0 success, 1 failure (a script error, a failed check), 64 usage error (EX_USAGE;
/// ArgumentParser's validation errors exit with it).
public struct VMLabCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vmlab",
        abstract: "A virtualisation laboratory: a simulated RISC-V machine and VMM driven from Lua.",
        discussion: """
        Labs are Lua 5.4 scripts that use the `vmlab` module. See labs/README.md.
        """,
        version: VMLab.version,
        subcommands: [RunCommand.self, TestCommand.self, BootCommand.self, AnnotationsCommand.self]
    )

    public init() {}
}
