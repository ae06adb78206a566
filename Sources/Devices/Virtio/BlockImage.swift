// The storage behind a virtio-blk device: a raw image file (or bytes in memory) read in 512-byte
// sectors. A lab must never corrupt its image by accident, so writes go where the mode says:
//
//   .readOnly     writes fail (the device also offers VIRTIO_BLK_F_RO, so drivers do not try)
//   .copyOnWrite  writes land in an in-memory overlay of whole sectors; the file is never modified
//   .writable     writes go to the file (or, for an in-memory image, to its bytes)
//
// File I/O uses positioned reads and writes (pread/pwrite), so nothing is loaded up front and a
// large image costs only the sectors a guest touches. An image file must be a whole number of
// sectors: the device's capacity counts sectors (virtio 1.1 §5.2.4), so a trailing partial sector
// could never be read or written, and the file is refused rather than silently cut short.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Machine

public final class BlockImage {
    public enum Mode: String, Sendable, Codable {
        case readOnly = "read-only"
        case copyOnWrite = "copy-on-write"
        case writable
    }

    public enum OpenError: Error, Sendable, Equatable, CustomStringConvertible {
        case cannotOpen(path: String, errno: Int32)
        case cannotSize(path: String)
        /// A directory, a device, a pipe: `kind` says which ("a directory").
        case notRegularFile(path: String, kind: String)
        /// A file of `size` bytes, not a whole number of sectors.
        case partialSector(path: String, size: UInt64)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let e): "cannot open disk image '\(path)': \(HostFileKind.reason(e))"
            case .cannotSize(let path): "cannot determine the size of disk image '\(path)'"
            case .notRegularFile(let path, let kind): HostFileKind.sentence(kind, path: path, role: "disk image")
            case .partialSector(let path, let size): BlockImage.partialSectorSentence(role: "disk image", path: path, size: size)
            }
        }
    }

    public static let sectorSize = 512
    public let mode: Mode
    /// Whole sectors in the image (an in-memory image's trailing partial sector is not addressable;
    /// a file with one is refused).
    public let sectorCount: UInt64
    /// Sectors written into the copy-on-write overlay so far.
    public var overlaySectorCount: Int { overlay.count }

    private var fd: Int32 = -1
    private var bytes: [UInt8] = []
    private var overlay: [UInt64: [UInt8]] = [:]

    /// Opens a raw image file; only `.writable` opens it for writing. It must be a regular file: a
    /// directory's or a device's size is no image's (a directory read as one had 2^54-1 sectors),
    /// and opening a pipe would wait for a writer.
    public init(path: String, mode: Mode) throws(OpenError) {
        self.mode = mode
        var info = stat()
        if stat(path, &info) == 0, let kind = HostFileKind.nonRegular(info.st_mode) {
            throw .notRegularFile(path: path, kind: kind)
        }
        let flags = mode == .writable ? O_RDWR : O_RDONLY
        let fd = open(path, flags | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        // What was opened, in case the path changed since it was looked at.
        guard fstat(fd, &info) == 0, HostFileKind.nonRegular(info.st_mode) == nil else {
            let kind = HostFileKind.nonRegular(info.st_mode) ?? "not a regular file"
            close(fd)
            throw .notRegularFile(path: path, kind: kind)
        }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else {
            close(fd)
            throw .cannotSize(path: path)
        }
        guard end % off_t(Self.sectorSize) == 0 else {
            close(fd)
            throw .partialSector(path: path, size: UInt64(end))
        }
        self.fd = fd
        sectorCount = UInt64(end) / UInt64(Self.sectorSize)
    }

    /// "`role` 'path' is N bytes, not a whole number of 512-byte sectors ...": what is wrong with
    /// the file and how to pad it, for every layer that reports it.
    public static func partialSectorSentence(role: String, path: String, size: UInt64) -> String {
        let sector = UInt64(sectorSize)
        let padded = (size / sector + 1) * sector
        return "\(role) '\(path)' is \(size) bytes, not a whole number of \(sector)-byte sectors: virtio-blk reads "
            + "and writes whole sectors, so its last \(size % sector) bytes would be out of the guest's reach "
            + "(pad it to \(padded) bytes, e.g. truncate -s \(padded) '\(path)')"
    }

    /// An image held in memory (tests, images a script builds).
    public init(bytes: [UInt8], mode: Mode) {
        self.mode = mode
        self.bytes = bytes
        sectorCount = UInt64(bytes.count / Self.sectorSize)
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// The in-memory image's bytes as written so far (empty for file-backed images).
    public var memoryBytes: [UInt8] { bytes }

    /// Whether `count` sectors from `sector` lie inside the image.
    public func contains(sector: UInt64, count: UInt64) -> Bool {
        sector <= sectorCount && count <= sectorCount - sector
    }

    /// Reads whole sectors; false on an I/O error or a range outside the image.
    public func read(sector: UInt64, count: Int) -> [UInt8]? {
        guard contains(sector: sector, count: UInt64(count)) else { return nil }
        var out = [UInt8](repeating: 0, count: count * Self.sectorSize)
        for i in 0..<count {
            let s = sector + UInt64(i)
            let range = (i * Self.sectorSize)..<((i + 1) * Self.sectorSize)
            if let o = overlay[s] {
                out.replaceSubrange(range, with: o)
            } else if !readBacking(sector: s, into: &out, at: range.lowerBound) {
                return nil
            }
        }
        return out
    }

    /// Writes whole sectors according to the mode; false when read-only, out of range, or on I/O error.
    public func write(sector: UInt64, data: [UInt8]) -> Bool {
        guard data.count % Self.sectorSize == 0 else { return false }
        let count = data.count / Self.sectorSize
        guard mode != .readOnly, contains(sector: sector, count: UInt64(count)) else { return false }
        switch mode {
        case .readOnly:
            return false
        case .copyOnWrite:
            for i in 0..<count {
                overlay[sector + UInt64(i)] = Array(data[(i * Self.sectorSize)..<((i + 1) * Self.sectorSize)])
            }
            return true
        case .writable:
            let offset = Int(sector) * Self.sectorSize
            if fd < 0 {
                bytes.replaceSubrange(offset..<(offset + data.count), with: data)
                return true
            }
            var done = 0
            while done < data.count {
                let n = data.withUnsafeBytes { buf in
                    pwrite(fd, buf.baseAddress! + done, data.count - done, off_t(offset + done))
                }
                guard n > 0 else { return false }
                done += n
            }
            return true
        }
    }

    /// Makes written data durable (only a writable file has anything to do).
    public func flush() -> Bool {
        guard mode == .writable, fd >= 0 else { return true }
        return fsync(fd) == 0
    }

    private func readBacking(sector: UInt64, into out: inout [UInt8], at index: Int) -> Bool {
        let offset = Int(sector) * Self.sectorSize
        if fd < 0 {
            out.replaceSubrange(index..<(index + Self.sectorSize), with: bytes[offset..<(offset + Self.sectorSize)])
            return true
        }
        var done = 0
        while done < Self.sectorSize {
            let n = out.withUnsafeMutableBytes { buf in
                pread(fd, buf.baseAddress! + index + done, Self.sectorSize - done, off_t(offset + done))
            }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }
}

// MARK: Snapshots

/// What a guest could have changed: the copy-on-write overlay, or an in-memory writable image's
/// bytes. Writes to a writable image *file* are on disk and cannot be taken back by a restore.
public struct BlockImageState: DeviceState, Equatable {
    @SortedKeysCoding public var overlay: [UInt64: [UInt8]]
    public let bytes: [UInt8]
}

extension BlockImage {
    public func saveState() -> BlockImageState { BlockImageState(overlay: overlay, bytes: fd < 0 ? bytes : []) }

    /// Whether `restoreState` would take `s`: a state saved by an image of this size (no overlay
    /// sector beyond the image or not a sector long, no in-memory bytes of another length).
    public func accepts(_ s: BlockImageState) -> Bool {
        s.overlay.allSatisfy({ $0.key < sectorCount && $0.value.count == Self.sectorSize })
            && (fd >= 0 || s.bytes.count == bytes.count)
    }

    /// Puts back a state `accepts` takes; false, changing nothing, for another.
    @discardableResult
    public func restoreState(_ s: BlockImageState) -> Bool {
        guard accepts(s) else { return false }
        overlay = s.overlay
        if fd < 0 { bytes = s.bytes }
        return true
    }
}
