import Foundation

/// Which files `vmlab test` runs.
///
/// - A file named on the command line always runs, whatever its name.
/// - A directory is searched recursively for test files, `*_test.lua`, and labs, `NN-name.lua`
///   (a name starting with digits and a dash, as labs are numbered). Other `.lua` files (helpers,
///   modules a test requires) are not run. Hidden directories are skipped.
/// - The list is sorted by path and has no duplicates, so shards and output order are deterministic.
public enum TestDiscovery {
    public struct MissingPath: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "no such file or directory: \(path)" }
    }

    public static func discover(_ paths: [String]) throws(MissingPath) -> [String] {
        var found: Set<String> = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { throw MissingPath(path: path) }
            if !isDirectory.boolValue {
                found.insert(path)
                continue
            }
            let base = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
            for relative in walk(base) where isTestOrLab(relative) {
                found.insert(base == "." ? relative : base + "/" + relative)
            }
        }
        return found.sorted()
    }

    /// Test files and numbered labs.
    public static func isTestOrLab(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard name.hasSuffix(".lua") else { return false }
        if name.hasSuffix("_test.lua") { return true }
        let digits = name.prefix { $0.isASCII && $0.isNumber }
        return !digits.isEmpty && name.dropFirst(digits.count).hasPrefix("-")
    }

    /// Relative paths of regular files under `directory`, skipping hidden entries.
    private static func walk(_ directory: String) -> [String] {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: directory) else { return [] }
        var files: [String] = []
        for entry in entries where !entry.hasPrefix(".") {
            let full = directory + "/" + entry
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                files += walk(full).map { entry + "/" + $0 }
            } else {
                files.append(entry)
            }
        }
        return files
    }

    /// Shard `index` (1-based) of `count`: every count-th file of the sorted list, starting at
    /// `index`. The shards of one list are disjoint and together hold every file.
    public static func shard(_ files: [String], index: Int, of count: Int) -> [String] {
        precondition(count >= 1 && (1...count).contains(index), "shard \(index)/\(count) out of range")
        return files.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }
}
