#if os(Linux)
import Foundation

/// Bytes the process holds in RAM now (/proc/self/statm's resident pages): not a peak, so a
/// before/after difference is what one piece of work kept.
public func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
#endif
