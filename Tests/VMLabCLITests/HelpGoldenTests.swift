import ArgumentParser
import Foundation
import Testing
@testable import VMLabCLI
import VMLab

/// CLI help is pinned by Golden/*.txt. Regenerate after an intended change with
/// `VMLAB_UPDATE_GOLDEN=1 swift test --filter VMLabCLITests`.
private func expectGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = packageRoot.appendingPathComponent("Tests/VMLabCLITests/Golden/\(name).txt")
    if ProcessInfo.processInfo.environment["VMLAB_UPDATE_GOLDEN"] == "1" {
        try text.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    let golden = try String(contentsOf: url, encoding: .utf8)
    #expect(text == golden, "help for '\(name)' differs from Golden/\(name).txt", sourceLocation: sourceLocation)
}

private let subcommands: [(String, ParsableCommand.Type)] = [
    ("vmlab", VMLabCommand.self), ("run", RunCommand.self), ("test", TestCommand.self),
    ("annotations", AnnotationsCommand.self),
]

@Test func helpMatchesGoldenFiles() throws {
    for (name, command) in subcommands {
        try expectGolden(VMLabCommand.helpMessage(for: command, columns: 80) + "\n", name)
    }
}

@Test func executableHelpMatchesGoldenFiles() throws {
    for (name, _) in subcommands {
        let transcript = try vmlab(name == "vmlab" ? ["help"] : ["help", name])
        #expect(transcript.status == 0)
        let golden = try String(contentsOf: packageRoot.appendingPathComponent("Tests/VMLabCLITests/Golden/\(name).txt"), encoding: .utf8)
        #expect(transcript.stdout == golden, "`vmlab help \(name)` differs from Golden/\(name).txt")
    }
}

@Test func versionIsTheModuleVersion() throws {
    let transcript = try vmlab(["--version"])
    #expect(transcript.status == 0)
    #expect(transcript.stdout == VMLab.version + "\n")
}

@Test func usageErrorsExit64() throws {
    for arguments in [["bogus"], ["run"], ["test", "--shard", "0/2"], ["test", "--shard", "3/2"],
                      ["test", "--jobs", "0"], ["test", "--timeout", "-1"], ["test", "no/such/path"],
                      ["run", "--no-such-flag"]] {
        let transcript = try vmlab(arguments)
        #expect(transcript.status == 64, "vmlab \(arguments.joined(separator: " ")) exited \(transcript.status)")
        #expect(!transcript.stderr.isEmpty)
    }
}
