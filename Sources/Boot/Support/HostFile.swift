// Reading and writing host files for the boot path, with errors that say which file played which role.
import Foundation

enum HostFile {
    /// The whole file at `path`; `role` ("kernel", "initrd", ...) goes into the error message.
    static func read(_ path: String, role: String) throws(BootError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .missingFile(role: role, path: path)
        }
        guard !isDirectory.boolValue else { throw .unreadableFile(role: role, path: path, reason: "it is a directory") }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return [UInt8](data)
        } catch {
            throw .unreadableFile(role: role, path: path, reason: error.localizedDescription)
        }
    }

    static func write(_ bytes: [UInt8], to path: String) throws(BootError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw .unwritableFile(path: path, reason: error.localizedDescription)
        }
    }
}
