#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// One child process running `vmlab test --worker`, with stdout and stderr captured to a log file.
/// It runs in its own process group so a time-out kills it and anything it started.
final class WorkerProcess {
    let pid: pid_t
    let started: Double
    private(set) var exitStatus: Int32?
    /// "was killed by signal N", when the process did not exit normally.
    private(set) var abnormalEnd: String?

    init(executable: String, arguments: [String], logPath: String) throws {
        var fileActions = WorkerProcess.makeFileActions()
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        var attributes = WorkerProcess.makeAttributes()
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        #if canImport(Darwin)
        let environment = _NSGetEnviron().pointee   // `environ` is not visible to Swift on Darwin
        #else
        let environment = environ
        #endif
        let status = posix_spawn(&pid, executable, &fileActions, &attributes, argv, environment)
        guard status == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EIO)
        }
        self.pid = pid
        self.started = ProcessInfo.processInfo.systemUptime
    }

    /// Collects the exit status if the process has ended; true once it has.
    func poll() -> Bool {
        if exitStatus != nil || abnormalEnd != nil { return true }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return false }
        record(status)
        return true
    }

    /// Kills the process group and waits for the process.
    func kill() {
        _ = Glibc_kill(-pid, SIGKILL)
        var status: Int32 = 0
        if waitpid(pid, &status, 0) == pid { record(status) }
    }

    var elapsed: Double { ProcessInfo.processInfo.systemUptime - started }

    private func record(_ status: Int32) {
        // <sys/wait.h> macros, which Swift does not import: low 7 bits are the terminating signal.
        let signal = status & 0x7F
        if signal == 0 {
            exitStatus = (status >> 8) & 0xFF
        } else {
            abnormalEnd = "was killed by signal \(signal)"
        }
    }

    #if canImport(Darwin)
    private static func makeFileActions() -> posix_spawn_file_actions_t? {
        var actions: posix_spawn_file_actions_t?
        posix_spawn_file_actions_init(&actions)
        return actions
    }
    private static func makeAttributes() -> posix_spawnattr_t? {
        var attributes: posix_spawnattr_t?
        posix_spawnattr_init(&attributes)
        return attributes
    }
    #else
    private static func makeFileActions() -> posix_spawn_file_actions_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        return actions
    }
    private static func makeAttributes() -> posix_spawnattr_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        return attributes
    }
    #endif
}

/// `kill(2)`, under a name that does not clash with `WorkerProcess.kill()`.
private func Glibc_kill(_ pid: pid_t, _ signal: Int32) -> Int32 {
    #if canImport(Glibc)
    return Glibc.kill(pid, signal)
    #else
    return Darwin.kill(pid, signal)
    #endif
}

/// The path of the running executable, which workers re-run.
public func currentExecutablePath() -> String {
    #if os(Linux)
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
    #endif
    return Bundle.main.executablePath ?? CommandLine.arguments[0]
}
