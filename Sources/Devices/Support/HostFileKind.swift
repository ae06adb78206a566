// What kind of host file a path names, for messages about files that cannot serve as images: a
// kernel, initrd, firmware or disk must be a regular file (a directory, /dev/zero or a pipe is not).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum HostFileKind {
    /// What the file with mode `mode` (`st_mode`) is, in words ("a directory", "a character
    /// device"), or nil for a regular file.
    public static func nonRegular(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a pipe"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }

    /// The sentence for a path that is not a regular file: "'X' is a directory", "'X' is not a
    /// regular file (a character device)".
    public static func sentence(_ kind: String, path: String, role: String? = nil) -> String {
        let subject = (role.map { $0 + " " } ?? "") + "'\(path)'"
        return kind == "a directory" ? "\(subject) is a directory" : "\(subject) is not a regular file (\(kind))"
    }

    /// `strerror(code)` as a Swift string.
    public static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }
}
