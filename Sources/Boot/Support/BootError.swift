// Errors from assembling a boot: files that are missing or malformed, images that do not fit the
// machine's RAM or collide with each other. Each message names the file or the addresses involved,
// because the person reading it is deciding which option to change.

import Devices

/// Why a machine could not be booted as asked. `description` is the message shown to the user.
public enum BootError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingFile(role: String, path: String)
    case unreadableFile(role: String, path: String, reason: String)
    /// A directory, a device, a pipe: `kind` says which ("a directory").
    case notRegularFile(role: String, path: String, kind: String)
    /// A disk image of `size` bytes, not a whole number of 512-byte sectors.
    case partialSector(role: String, path: String, size: UInt64)
    /// A file that is not an ELF and is larger than the VM's RAM, refused before it is read;
    /// `size` is nil when the file's size is not known up front (/proc).
    case largerThanRAM(role: String, path: String, size: UInt64?, ram: UInt64)
    case unwritableFile(path: String, reason: String)
    case badImage(role: String, path: String, ELFError)
    case emptyImage(role: String, path: String)
    /// `role` ("kernel", "initrd", "firmware", "device tree") does not fit in RAM.
    case doesNotFit(role: String, address: UInt64, size: UInt64, ram: RAMRegion)
    case overlap(role: String, address: UInt64, size: UInt64, other: String, otherAddress: UInt64, otherSize: UInt64)
    /// The machine refused a write into a range the RAM region said was RAM: vmlab's own bug, reported
    /// rather than trapped on.
    case memoryWriteFailed(address: UInt64, size: UInt64)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .missingFile(let role, let path):
            return "\(role) '\(path)' does not exist"
        case .unreadableFile(let role, let path, let reason):
            return "cannot read \(role) '\(path)': \(reason)"
        case .notRegularFile(let role, let path, let kind):
            return HostFileKind.sentence(kind, path: path, role: role)
        case .partialSector(let role, let path, let size):
            return BlockImage.partialSectorSentence(role: role, path: path, size: size)
        case .largerThanRAM(let role, let path, let size, let ram):
            return "\(role) '\(path)' is \(size.map { "\($0) bytes, more" } ?? "more") than the VM's RAM (\(Self.bytes(ram)))"
        case .unwritableFile(let path, let reason):
            return "cannot write '\(path)': \(reason)"
        case .badImage(let role, let path, let error):
            return "\(role) '\(path)': \(error)"
        case .emptyImage(let role, let path):
            return "\(role) '\(path)' is empty"
        case .doesNotFit(let role, let address, let size, let ram):
            return "\(role) at \(Self.range(address, size)) (\(Self.bytes(size))) does not fit in RAM "
                + "(\(ram), \(Self.bytes(ram.size))); give the machine more memory"
        case .overlap(let role, let address, let size, let other, let otherAddress, let otherSize):
            return "\(role) at \(Self.range(address, size)) overlaps \(other) at \(Self.range(otherAddress, otherSize))"
        case .memoryWriteFailed(let address, let size):
            return "the machine refused a \(size)-byte write at \(hex(address)) inside RAM"
        case .invalidConfiguration(let message):
            return message
        }
    }

    static func range(_ address: UInt64, _ size: UInt64) -> String {
        size == 0 ? hex(address) : "\(hex(address))-\(hex(address &+ size &- 1))"
    }

    static func bytes(_ size: UInt64) -> String {
        if size >= 1 << 20 && size % (1 << 20) == 0 { return "\(size >> 20) MiB" }
        if size >= 1 << 10 && size % (1 << 10) == 0 { return "\(size >> 10) KiB" }
        return "\(size) bytes"
    }
}
