// Snapshot files: a `GuestSnapshot` written to disk and read back by another process, to restore
// onto a VM built with the same options (a cold migration across runs, a checkpoint a lab ships
// with, a regression suite's starting point).
//
// The layout, all integers little-endian:
//
//     "VMLABSNP"            8 bytes, the magic
//     format                4 bytes (`snapshotFileFormat`)
//     description length    8 bytes
//     RAM length            8 bytes
//     description           JSON: the VM's name and every saved state but RAM's bytes
//     RAM                   the saved pages' bytes, 4096 each, in the order the description lists them
//     checksum              8 bytes, over everything before it (`ContentHash`), which finds a
//                           damaged or truncated file: the checks at restore are the defence
//                           against a file made to pass it
//
// The JSON keeps the file readable with ordinary tools (`tail -c +29 F | head -c N | jq`), RAM stays
// raw so that a large guest costs no more on disk than in memory. Reading refuses, naming the file
// and what is wrong, anything that is not such a file: another magic, another format, lengths that
// do not add up to the file's size, a checksum that does not match, a description that does not
// decode. The description also records the contents of the disk images the VM was built with
// (`diskContents`), which a restore compares with the target's. What decodes is then checked
// against the VM when it is restored (its shape, every array's length, every saved index:
// MachineSnapshot+Validation.swift, the devices' `accepts`, the VMM states' `fits`) before
// anything changes.
import Boot
import Foundation
import Machine

/// The snapshot file format this vmlab writes and reads.
public let snapshotFileFormat: UInt32 = 1

extension GuestSnapshot: Codable {
    private enum CodingKeys: String, CodingKey {
        case mode, hardwarePolicy, profile, boardConfiguration, board, finalStop, lastStop, untilReached, hostClock,
             techniqueState, instructions, cycles, diskContents
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guest = nil
        mode = try c.decode(ExecutionMode.self, forKey: .mode)
        hardwarePolicy = try c.decodeIfPresent(HardwareAssistedPolicy.self, forKey: .hardwarePolicy)
        profile = try c.decode(CostProfile.self, forKey: .profile)
        boardConfiguration = try c.decode(VirtBoardConfiguration.self, forKey: .boardConfiguration)
        board = try c.decode(BoardSnapshot.self, forKey: .board)
        finalStop = try c.decodeIfPresent(StopReason.self, forKey: .finalStop)
        lastStop = try c.decodeIfPresent(StopReason.self, forKey: .lastStop)
        untilReached = try c.decode(Bool.self, forKey: .untilReached)
        hostClock = try c.decodeIfPresent(Host.Clock.self, forKey: .hostClock)
        // The mode says which VMM state there is.
        switch mode {
        case .native: techniqueState = nil
        // Absent from files written before the interpreter kept a dirty log.
        case .interpret: techniqueState = try c.decodeIfPresent(InterpretTechniqueState.self, forKey: .techniqueState)
        case .trap: techniqueState = try c.decode(TrapTechniqueState.self, forKey: .techniqueState)
        case .bt: techniqueState = try c.decode(BinaryTranslationTechniqueState.self, forKey: .techniqueState)
        case .pv: techniqueState = try c.decode(ParavirtualState.self, forKey: .techniqueState)
        case .hw: techniqueState = try c.decode(HardwareAssistedTechniqueState.self, forKey: .techniqueState)
        }
        instructions = try c.decode(UInt64.self, forKey: .instructions)
        cycles = try c.decode(UInt64.self, forKey: .cycles)
        diskContents = try c.decodeIfPresent([UInt64?].self, forKey: .diskContents)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mode, forKey: .mode)
        try c.encodeIfPresent(hardwarePolicy, forKey: .hardwarePolicy)
        try c.encode(profile, forKey: .profile)
        try c.encode(boardConfiguration, forKey: .boardConfiguration)
        try c.encode(board, forKey: .board)
        try c.encodeIfPresent(finalStop, forKey: .finalStop)
        try c.encodeIfPresent(lastStop, forKey: .lastStop)
        try c.encode(untilReached, forKey: .untilReached)
        try c.encodeIfPresent(hostClock, forKey: .hostClock)
        switch techniqueState {
        case nil: break
        case let s as TrapTechniqueState: try c.encode(s, forKey: .techniqueState)
        case let s as BinaryTranslationTechniqueState: try c.encode(s, forKey: .techniqueState)
        case let s as ParavirtualState: try c.encode(s, forKey: .techniqueState)
        case let s as HardwareAssistedTechniqueState: try c.encode(s, forKey: .techniqueState)
        case let s as InterpretTechniqueState: try c.encode(s, forKey: .techniqueState)
        case let s?:
            throw EncodingError.invalidValue(s, .init(codingPath: c.codingPath + [CodingKeys.techniqueState],
                                                      debugDescription: "no coding for \(type(of: s))"))
        }
        try c.encode(instructions, forKey: .instructions)
        try c.encode(cycles, forKey: .cycles)
        try c.encodeIfPresent(diskContents, forKey: .diskContents)
    }
}

/// A snapshot file's description: the VM's name beside its state.
private struct SnapshotFileDescription: Codable {
    var vm: String
    var snapshot: GuestSnapshot
}

extension GuestSnapshot {
    static let fileMagic = Array("VMLABSNP".utf8)
    /// Magic, format, two lengths.
    static let fileHeaderSize = 8 + 4 + 8 + 8

    /// Writes the snapshot to `path`, naming the VM it was taken of `vm`. The file is written
    /// whole under another name and then renamed, so a failed write leaves whatever was at
    /// `path` as it was. The file records the contents of the disk images (`diskContents`), which
    /// a restore from it compares.
    public func write(to path: String, vm: String) throws(SnapshotError) {
        var recorded = self
        if recorded.diskContents == nil { recorded.diskContents = try Self.contents(of: boardConfiguration.disks, for: path) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let description: Data
        do {
            description = try encoder.encode(SnapshotFileDescription(vm: vm, snapshot: recorded))
        } catch {
            throw SnapshotError("cannot describe the snapshot for \(path): \(error)")
        }
        let ram = board.machine.ramContents
        var file = Data(capacity: Self.fileHeaderSize + description.count + ram.count + 8)
        file.append(contentsOf: Self.fileMagic)
        file.appendLittleEndian(snapshotFileFormat)
        file.appendLittleEndian(UInt64(description.count))
        file.appendLittleEndian(UInt64(ram.count))
        file.append(description)
        file.append(contentsOf: ram)
        file.appendLittleEndian(file.withUnsafeBytes { ContentHash.of($0) })
        do {
            try file.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw SnapshotError("cannot write the snapshot file \(path): \(Self.reason(error))")
        }
    }

    /// Reads a snapshot file written by `write(to:vm:)`: the snapshot and the name of the VM it
    /// was taken of. Anything else throws, naming the file and what is wrong with it.
    public static func read(from path: String) throws(SnapshotError) -> (snapshot: GuestSnapshot, vm: String) {
        // Through the boot path's reader: a directory, a device or a pipe is refused, not read.
        let file: [UInt8]
        do {
            file = try HostFile.read(path, role: "snapshot file")
        } catch {
            throw SnapshotError("cannot read the snapshot file \(path): \(readingReason(error))")
        }
        func refuse(_ why: String) -> SnapshotError { SnapshotError("\(path) \(why)") }
        guard file.count >= fileHeaderSize + 8, Array(file.prefix(8)) == fileMagic else {
            throw refuse("is not a vmlab snapshot file (it does not start with VMLABSNP)")
        }
        let format = file.littleEndian(UInt32.self, at: 8)
        guard format == snapshotFileFormat else {
            throw refuse("is a snapshot file of format \(format); this vmlab reads format \(snapshotFileFormat)")
        }
        let descriptionLength = file.littleEndian(UInt64.self, at: 12)
        let ramLength = file.littleEndian(UInt64.self, at: 20)
        let expected = UInt64(fileHeaderSize).addingReportingOverflow(descriptionLength)
        let total = expected.partialValue.addingReportingOverflow(ramLength)
        guard !expected.overflow, !total.overflow, total.partialValue <= UInt64(Int.max - 8),
              Int(total.partialValue) + 8 == file.count else {
            throw refuse("is truncated or damaged: its lengths say \(descriptionLength) + \(ramLength) bytes, it holds \(file.count - fileHeaderSize - 8)")
        }
        guard ContentHash.of(file[..<(file.count - 8)]) == file.littleEndian(UInt64.self, at: file.count - 8) else {
            throw refuse("is damaged: its checksum does not match its contents")
        }
        let descriptionStart = fileHeaderSize, ramStart = fileHeaderSize + Int(descriptionLength)
        let description: SnapshotFileDescription
        do {
            description = try JSONDecoder().decode(SnapshotFileDescription.self, from: Data(file[descriptionStart..<ramStart]))
        } catch {
            throw refuse("is malformed: \(decodingReason(error))")
        }
        var snapshot = description.snapshot
        snapshot.board.machine.ramContents = Array(file[ramStart..<(ramStart + Int(ramLength))])
        // Checked here too, not only at restore: `changed_pages` compares a loaded snapshot's
        // pages before any restore.
        if let flaw = snapshot.board.machine.ramFlaw { throw refuse("is malformed: \(flaw)") }
        return (snapshot, description.vm)
    }

    /// The `ContentHash` of each disk's image file, nil for a writable disk: its file is the
    /// disk's state itself, written as the guest writes, which no snapshot holds (a copy-on-write
    /// disk's overlay is in the snapshot, its image is not). `file` names the snapshot file.
    static func contents(of disks: [DiskConfiguration], for file: String) throws(SnapshotError) -> [UInt64?] {
        var contents: [UInt64?] = []
        for disk in disks {
            guard disk.mode != .writable else {
                contents.append(nil)
                continue
            }
            do {
                contents.append(try HostFile.contentHash(disk.path, role: "disk image"))
            } catch {
                throw SnapshotError("cannot record the disk image \(disk.path) in the snapshot file \(file): \(readingReason(error))")
            }
        }
        return contents
    }

    /// Refuses `disks` when their images are not those a snapshot file recorded: a guest whose
    /// RAM caches one image's blocks, restored over another, would read a disk that contradicts
    /// its own memory.
    static func checkDisks(_ disks: [DiskConfiguration], against recorded: [UInt64?]) throws(SnapshotError) {
        guard recorded.count == disks.count else {
            throw SnapshotError("the snapshot records \(recorded.count) disk image\(recorded.count == 1 ? "" : "s") and this VM has \(disks.count) (a malformed file)")
        }
        for (disk, saved) in zip(disks, recorded) {
            guard disk.mode != .writable else { continue }
            guard let saved else {
                throw SnapshotError("the snapshot records no contents for the disk image \(disk.path) (a malformed file)")
            }
            let ours: UInt64
            do {
                ours = try HostFile.contentHash(disk.path, role: "disk image")
            } catch {
                throw SnapshotError("cannot read the disk image \(disk.path) to compare it with the snapshot's: \(readingReason(error))")
            }
            guard ours == saved else {
                throw SnapshotError("the disk image \(disk.path) is not the one the snapshot was saved with: its contents differ")
            }
        }
    }

    /// Why the boot path's reader could not read a file, in the words these messages use.
    private static func readingReason(_ error: BootError) -> String {
        switch error {
        case .missingFile: "no such file"
        case .unreadableFile(_, _, let reason): reason
        case .notRegularFile(_, _, let kind): "it is \(kind)"
        default: error.description
        }
    }

    /// Why Foundation could not write a file.
    private static func reason(_ error: any Error) -> String {
        if let e = error as? CocoaError, let underlying = e.userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        if let e = error as? CocoaError {
            switch e.code {
            case .fileNoSuchFile: return "no such file"
            case .fileWriteNoPermission: return "permission denied"
            default: break
            }
        }
        return error.localizedDescription
    }

    /// Where the description failed to decode, and why, in one line.
    private static func decodingReason(_ error: any Error) -> String {
        func place(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? "" : "at \(path.hasPrefix(".") ? String(path.dropFirst()) : path): "
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: return "\(place(context))\(key.stringValue) is missing"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
            return "\(place(context))\(context.debugDescription)"
        default: return "\(error)"
        }
    }
}

extension Data {
    fileprivate mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

extension [UInt8] {
    fileprivate func littleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}
