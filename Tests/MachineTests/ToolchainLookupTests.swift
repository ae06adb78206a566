// The rule that picks the compiler for every guest (scripts/lib/toolchain.sh): the Swift
// toolchain's clang, beside `swift`, even when another clang comes first on PATH; a clang on PATH
// only when there is no `swift`; a clear message when there is neither. Run on PATHs made for
// each case, with stand-in tools that say who they are.
import Foundation
import GuestTestSupport
import Testing

@Suite("Which clang builds the guests")
struct ToolchainLookupTests {
    /// A scratch folder with `tools/` (dirname and readlink, which the function needs, and
    /// nothing else) and a `fake/` LLVM whose clang and ld.lld only print their name.
    final class Scratch {
        let dir: URL
        var tools: String { dir.appendingPathComponent("tools").path }
        var fake: String { dir.appendingPathComponent("fake").path }

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-toolchain-\(UUID().uuidString)")
            let fm = FileManager.default
            try fm.createDirectory(atPath: dir.appendingPathComponent("tools").path, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: dir.appendingPathComponent("fake").path, withIntermediateDirectories: true)
            for tool in ["dirname", "readlink"] {
                let real = ["/usr/bin/\(tool)", "/bin/\(tool)"].first { fm.isExecutableFile(atPath: $0) }!
                try fm.createSymbolicLink(atPath: "\(tools)/\(tool)", withDestinationPath: real)
            }
            for tool in ["clang", "ld.lld"] {
                let path = "\(fake)/\(tool)"
                try "#!/bin/sh\necho fake \(tool)\n".write(toFile: path, atomically: true, encoding: .utf8)
                try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
            }
        }

        deinit { try? FileManager.default.removeItem(at: dir) }
    }

    /// The real toolchain: the directory of the `swift` this test runs under.
    static let realToolchain = ToolchainDirectory.path

    @Test("the toolchain's clang wins over one earlier on PATH, through a symlink to swift")
    func besideSwift() throws {
        let real = try #require(Self.realToolchain, "no Swift toolchain: \(ToolchainDirectory.problem)")
        let s = try Scratch()
        // `swift` reached through a symlink in a folder of its own, as a package manager installs it.
        let linkDir = s.dir.appendingPathComponent("linked").path
        try FileManager.default.createDirectory(atPath: linkDir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(linkDir)/swift", withDestinationPath: "\(real)/swift")
        let r = ToolchainDirectory.run(caller: "lookup-test", path: "\(s.fake):\(linkDir):\(s.tools)")
        #expect(r.status == 0, "\(r.message)")
        #expect(r.path == real)
    }

    @Test("without swift, a clang on PATH serves, with the ld.lld beside it")
    func clangOnPath() throws {
        let s = try Scratch()
        let r = ToolchainDirectory.run(caller: "lookup-test", path: "\(s.fake):\(s.tools)")
        #expect(r.status == 0, "\(r.message)")
        #expect(r.path == s.fake)
    }

    @Test("a clang without its ld.lld is not taken, and with nothing found the message says what to install")
    func nothingFound() throws {
        let s = try Scratch()
        try FileManager.default.removeItem(atPath: "\(s.fake)/ld.lld")
        let r = ToolchainDirectory.run(caller: "lookup-test", path: "\(s.fake):\(s.tools)")
        #expect(r.status == 1)
        #expect(r.path.isEmpty)
        #expect(r.message.hasPrefix("lookup-test: the Swift toolchain's clang and ld.lld were not found"), "\(r.message)")
        #expect(r.message.contains("install the Swift toolchain"))
    }
}
