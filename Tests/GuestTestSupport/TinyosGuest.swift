// tinyos (labs/guests/tinyos) as the board and VMM tests use it: its folder, its pinned QEMU cases,
// its disk image and the part of its console that is compared with QEMU's.
import Foundation

public enum TinyosGuest {
    public static let folder = Guests.root.appendingPathComponent("labs/guests/tinyos")

    /// One pinned case of expected/cases.txt (NAME|BOOTARGS|DISK, from check-qemu.sh).
    public struct Case: Sendable, CustomStringConvertible {
        public let name: String, bootargs: String, disk: Bool
        public var description: String { name }
    }

    /// The pinned cases; lines starting with "#" and malformed lines are skipped.
    public static let cases: [Case] = {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("expected/cases.txt"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else { return nil }
            return Case(name: fields[0], bootargs: fields[1], disk: fields[2] == "disk")
        }
    }()

    /// The pinned QEMU console of case `name` (expected/NAME.out), or "" when there is none.
    public static func expected(_ name: String) -> String {
        (try? String(contentsOf: folder.appendingPathComponent("expected/\(name).out"), encoding: .utf8)) ?? ""
    }

    /// A disk image made by mkdisk.sh, once per process and `tag`. mkdisk.sh writes its output
    /// progressively, so the image is written under a private name and renamed into place when
    /// complete, under a lock: a suite running in parallel never sees a half-written image, even
    /// when two suites share a tag (a partial image once made tinyos diverge between two boards
    /// of one lockstep test). Nil when mkdisk.sh fails. Removed when the process exits.
    public static func disk(tag: String) throws -> String? {
        diskLock.lock()
        defer { diskLock.unlock() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vmlab-\(tag)-tinyos-\(getpid()).img").path
        if FileManager.default.fileExists(atPath: path) { return path }
        let partial = path + ".partial"
        ProcessScratch.removeAtExit(partial)
        let process = Process()
        process.executableURL = folder.appendingPathComponent("mkdisk.sh")
        process.arguments = [partial]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        guard rename(partial, path) == 0 else { return nil }
        ProcessScratch.removeAtExit(path)
        return path
    }

    private static let diskLock = NSLock()

    /// The console from tinyos's first line on, without carriage returns and without "# " lines
    /// (they carry timings), compared the way check-qemu.sh compares QEMU's.
    public static func comparable(_ console: String) -> String {
        let lines = console.replacingOccurrences(of: "\r", with: "").split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("# tinyos: ") }) else { return "" }
        return lines[start...].filter { !$0.hasPrefix("# ") }.joined(separator: "\n")
    }
}
