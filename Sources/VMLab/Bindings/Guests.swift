#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import LuaKit

/// `vmlab.guest`: the bundled guest programs of labs/guests, built on demand by
/// `scripts/build-guests` (which rebuilds only what changed) with the Swift toolchain's own clang.
///
/// Names: a folder with its own build (`tinyos`) names its main program `<folder>/<folder>.elf`;
/// any other guest is `<folder>/<program>` (`isa/rv64i`, `examples/hello`); `<folder>-<flavour>`
/// (`tinyos-pv`) is `<folder>/<folder>-<flavour>.elf` when no folder has that name.
enum Guests {
    static func contribute(to module: inout LuaModule) {
        module.functions.append(guest)
    }

    static let guest = LuaFunction(
        "guest",
        summary: """
        The path of a bundled guest ELF, built from labs/guests first if it is missing or stale: \
        `vmlab.guest "tinyos"` is `.build/guests/tinyos/tinyos.elf`, `vmlab.guest "isa/rv64i"` is \
        `.build/guests/isa/rv64i.elf`. A folder is checked once per process: sources edited while a \
        script runs are built by its next run. The checkout is found from `VMLAB_ROOT`, else above the vmlab \
        executable, else above the current directory. An unknown name or a failed build (for instance \
        when the toolchain's clang is missing) raises an error with the build's messages: a lab cannot \
        go on without its guest.
        """,
        parameters: [.required("name", .string, "`folder` or `folder/program`, as under labs/guests.")],
        returns: [LuaReturn(.string, "path")]
    ) { call in
        let name = try call.string(1)
        do {
            return [.string(try path(of: name))]
        } catch let error as Failure {
            throw LuaRaise.message(error.message)
        }
    }

    struct Failure: Error {
        var message: String
    }

    /// Builds (if needed) and returns the ELF path of guest `name`.
    static func path(of name: String) throws(Failure) -> String {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), parts.allSatisfy(isPlainName) else {
            throw Failure(message: "bad guest name '\(name)' (expected 'folder' or 'folder/program', e.g. 'tinyos' or 'isa/rv64i')")
        }
        guard let root = checkoutRoot() else {
            throw Failure(message: "cannot find the vmlab checkout (scripts/build-guests) for guest '\(name)'; set VMLAB_ROOT to it")
        }
        var folder = parts[0]
        let program = parts.count == 2 ? parts[1] : parts[0]
        // A flavour of a folder's main program (`tinyos-pv`: tinyos's build makes tinyos-pv.elf)
        // when no folder has that name.
        if parts.count == 1, !FileManager.default.fileExists(atPath: root + "/labs/guests/" + folder),
           let dash = folder.firstIndex(of: "-"),
           FileManager.default.fileExists(atPath: root + "/labs/guests/" + folder[..<dash]) {
            folder = String(folder[..<dash])
        }
        let source = root + "/labs/guests/" + folder
        guard FileManager.default.fileExists(atPath: source) else {
            throw Failure(message: "unknown guest '\(name)' (guests: \(available(root: root).joined(separator: ", ")))")
        }
        let output = ProcessInfo.processInfo.environment["VMLAB_GUESTS_OUT"] ?? (root + "/.build/guests")
        let built = output + "/" + folder
        let elf = "\(output)/\(folder)/\(program).elf"
        // Checked again when its ELF has gone since (a `.build` removed while a script runs).
        if !upToDate.contains(built) || !FileManager.default.fileExists(atPath: elf) {
            try build(folder: folder, root: root, output: output)
            upToDate.insert(built)
        }
        guard FileManager.default.fileExists(atPath: elf) else {
            throw Failure(message: "guest '\(name)' was not built: no \(elf)")
        }
        return elf
    }

    /// The guest folders `scripts/build-guests` brought up to date in this process (by output
    /// path). A script asks for its guests again and again (`labs/05-paravirtualisation.lua` 40
    /// times, `vmlab.compare` once per row), and the script's check hashes every source of the
    /// folder in a dozen processes, about 0.1 s each time; guest sources do not change under a
    /// running script, so one check per process is enough. A failed build is not remembered.
    static let upToDate = FolderSet()

    final class FolderSet: @unchecked Sendable {
        private let lock = NSLock()
        private var folders: Set<String> = []
        func contains(_ folder: String) -> Bool { lock.withLock { folders.contains(folder) } }
        func insert(_ folder: String) { lock.withLock { _ = folders.insert(folder) } }
    }

    static func isPlainName(_ part: String) -> Bool {
        !part.isEmpty && part != "." && part != ".." && !part.hasPrefix("-")
    }

    /// Folders under labs/guests that hold programs (not `common`).
    static func available(root: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root + "/labs/guests")) ?? []
        return entries.filter { $0 != "common" && !$0.hasPrefix(".") }.sorted()
    }

    /// The checkout: `VMLAB_ROOT`, else the nearest directory above the executable, else above the
    /// current directory, that holds scripts/build-guests.
    static func checkoutRoot() -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let root = environment["VMLAB_ROOT"], !root.isEmpty { return root }
        var starts: [URL] = []
        if let executable = Bundle.main.executableURL { starts.append(executable.resolvingSymlinksInPath()) }
        starts.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        for start in starts {
            var directory = start
            while directory.path != "/" && !directory.path.isEmpty {
                if FileManager.default.isExecutableFile(atPath: directory.path + "/scripts/build-guests") {
                    return directory.path
                }
                directory.deleteLastPathComponent()
            }
        }
        return nil
    }

    /// Runs `scripts/build-guests FOLDER` under an exclusive lock on the output directory, since
    /// `vmlab test` runs files in parallel processes that may ask for the same guest at once.
    static func build(folder: String, root: String, output: String) throws(Failure) {
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            throw Failure(message: "cannot create \(output): \(error.localizedDescription)")
        }
        let lock = open(output + "/.lock", O_CREAT | O_RDWR, 0o644)
        if lock >= 0 { _ = flock(lock, LOCK_EX) }
        defer { if lock >= 0 { close(lock) } }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: root + "/scripts/build-guests")
        process.arguments = [folder]
        var environment = ProcessInfo.processInfo.environment
        environment["VMLAB_GUESTS_OUT"] = output
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Failure(message: "cannot run \(root)/scripts/build-guests: \(error.localizedDescription)")
        }
        // Read before waiting: a build that writes more than a pipe holds would otherwise block.
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let detail = text.trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failure(message: "building guest '\(folder)' failed (scripts/build-guests \(folder), status \(process.terminationStatus))"
                + (detail.isEmpty ? "" : ":\n" + detail))
        }
    }
}
