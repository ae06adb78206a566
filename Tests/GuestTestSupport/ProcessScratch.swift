// Files a test process makes once and shares among its tests (tinyos's disk images). They are
// named after the process, so that suites running at the same time never share one, and so
// nothing else would ever remove them: each run of the suite left its images in the temporary
// folder. They are removed when the process exits.
import Foundation

public enum ProcessScratch {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: [String] = []
    nonisolated(unsafe) private static var removalRegistered = false

    /// Removes the file at `path` when the process exits (normally: a crashed process leaves it).
    public static func removeAtExit(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        paths.append(path)
        guard !removalRegistered else { return }
        removalRegistered = true
        atexit { ProcessScratch.removeAll() }
    }

    private static func removeAll() {
        lock.lock()
        defer { lock.unlock() }
        for path in paths { unlink(path) }
        paths = []
    }
}
