#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Output that must interleave correctly with what scripts print: Lua's `print` and Swift's
/// `print` share C stdio's buffer; errors go straight to file descriptor 2 after that buffer is
/// flushed, so a script's output always precedes its error.
public enum StandardStreams {
    public static func flushOutput() { fflush(nil) }

    public static func writeError(_ text: String) {
        flushOutput()
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { break }
            offset += written
        }
    }
}
