// Reading and writing host files for the boot path, with errors that say which file played which
// role and what is wrong with it (POSIX calls, so the reason is the system's own: strerror).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Devices

public enum HostFile {
    static let elfMagic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]

    /// The whole file at `path`; `role` ("kernel", "initrd", ...) goes into the error message. It
    /// must be a regular file. A file that is not an ELF (a raw kernel, an initrd) must fit in
    /// `ram` bytes: that is checked before it is read, so a huge file is refused, not loaded. (An
    /// ELF may be larger than RAM: symbols and debug sections are not loaded.)
    public static func read(_ path: String, role: String, ram: UInt64? = nil) throws(BootError) -> [UInt8] {
        let (fd, info) = try openRegular(path, role: role)
        defer { close(fd) }

        let size = UInt64(max(0, info.st_size))   // 0 for files the kernel makes up as they are read (/proc)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var isELF: Bool?
        if let ram, size > ram {
            // Only an ELF may be larger than RAM: look at its first bytes before reading it whole.
            let n = try readChunk(fd, into: &chunk, count: elfMagic.count, role: role, path: path)
            guard chunk[..<n].elementsEqual(elfMagic) else { throw .largerThanRAM(role: role, path: path, size: size, ram: ram) }
            bytes.append(contentsOf: chunk[..<n])
            isELF = true
        }
        bytes.reserveCapacity(Int(clamping: size))
        while true {
            let n = try readChunk(fd, into: &chunk, count: chunk.count, role: role, path: path)
            if n == 0 { break }
            bytes.append(contentsOf: chunk[..<n])
            if isELF == nil && bytes.count >= elfMagic.count { isELF = bytes.starts(with: elfMagic) }
            // A file whose size stat did not tell (/proc) stops as soon as it is too large.
            if let ram, isELF != true, UInt64(bytes.count) > ram {
                throw .largerThanRAM(role: role, path: path, size: size > ram ? size : nil, ram: ram)
            }
        }
        return bytes
    }

    /// The file at `path` opened for reading, and what stat said of it; it must be a regular file.
    static func openRegular(_ path: String, role: String) throws(BootError) -> (fd: Int32, info: stat) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .missingFile(role: role, path: path) }
            throw .unreadableFile(role: role, path: path, reason: HostFileKind.reason(code))
        }
        if let kind = HostFileKind.nonRegular(info.st_mode) { throw .notRegularFile(role: role, path: path, kind: kind) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadableFile(role: role, path: path, reason: HostFileKind.reason(errno)) }
        return (fd, info)
    }

    /// Reads up to `count` bytes into `buffer`; 0 at the end of the file.
    static func readChunk(_ fd: Int32, into buffer: inout [UInt8], count: Int, role: String,
                          path: String) throws(BootError) -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, count) }
            if n >= 0 { return n }
            let code = errno
            if code != EINTR { throw .unreadableFile(role: role, path: path, reason: HostFileKind.reason(code)) }
        }
    }

    /// Writes `bytes` to `path`, creating or truncating it; the error says why not, in the
    /// system's words ("cannot write 'x.dtb': Is a directory").
    public static func write(_ bytes: [UInt8], to path: String) throws(BootError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .unwritableFile(path: path, reason: HostFileKind.reason(errno)) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let code = n < 0 ? errno : EIO
                close(fd)
                throw .unwritableFile(path: path, reason: HostFileKind.reason(code))
            }
            done += n
        }
        guard close(fd) == 0 else { throw .unwritableFile(path: path, reason: HostFileKind.reason(errno)) }
    }
}

// The C calls, named apart from `HostFile.read` and `HostFile.write`.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
