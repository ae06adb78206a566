// What to boot: the firmware choice, the kernel and initrd, the command line, and the description
// of the machine the device tree must tell the guest about. `BootLoader` turns it into memory
// contents and an entry state; the board adds the machine and devices around it.

/// Bytes to load, from a host file or already in memory (a `vmlab.asm` result, a built guest).
public enum ImageSource: Equatable, Sendable, Codable {
    case file(String)
    case bytes([UInt8], name: String)

    /// How messages name the image.
    public var name: String {
        switch self {
        case .file(let path): path
        case .bytes(_, let name): name
        }
    }

    /// The image's bytes. A file that is not an ELF and is larger than `ram` bytes cannot be
    /// loaded: it is refused before it is read.
    func read(role: String, ram: UInt64) throws(BootError) -> [UInt8] {
        let bytes: [UInt8]
        switch self {
        case .file(let path): bytes = try HostFile.read(path, role: role, ram: ram)
        case .bytes(let data, _): bytes = data
        }
        guard !bytes.isEmpty else { throw .emptyImage(role: role, path: name) }
        return bytes
    }
}

/// Which code runs in M-mode.
public enum Firmware: Equatable, Sendable, Codable {
    /// vmlab's SBI in Swift: no firmware instructions; the kernel starts in S-mode with
    /// `a0 = hartid`, `a1 = dtb` and traps delegated as OpenSBI delegates them.
    case builtin
    /// An M-mode firmware ELF, such as Debian's OpenSBI `fw_jump.elf`, entered in M-mode on every
    /// hart with `a0 = hartid`, `a1 = dtb`; the kernel waits for it at 0x80200000.
    case elf(ImageSource)
    /// No firmware: the kernel is itself a bare-metal M-mode program, entered on every hart.
    case none
}

/// Everything `BootLoader` needs to fill RAM.
public struct BootConfiguration: Equatable, Sendable {
    public var firmware: Firmware
    /// An ELF (loaded at its own addresses) or a raw image (loaded at `kernelAddress`).
    public var kernel: ImageSource?
    /// Where a raw kernel image goes; `nil` chooses as QEMU does (`BootLayout.kernelAddress`).
    public var kernelAddress: UInt64?
    public var initrd: ImageSource?
    public var bootargs: String
    /// The machine the device tree describes; its `initrd` is filled in by the loader.
    public var machine: VirtMachineDescription

    public init(firmware: Firmware = .builtin, kernel: ImageSource? = nil, kernelAddress: UInt64? = nil,
                initrd: ImageSource? = nil, bootargs: String = "",
                machine: VirtMachineDescription = VirtMachineDescription()) {
        self.firmware = firmware
        self.kernel = kernel
        self.kernelAddress = kernelAddress
        self.initrd = initrd
        self.bootargs = bootargs
        self.machine = machine
    }
}

/// The result of loading: where each hart starts and how, and what was put where.
public struct BootPlan: Equatable, Sendable {
    public enum EntryMode: Sendable, Equatable {
        case machine
        case supervisor
    }

    /// Where hart 0 (and, in M-mode boots, every hart) starts.
    public let entry: UInt64
    public let mode: EntryMode
    /// Whether harts other than 0 start at `entry` too. With the built-in SBI they stay stopped
    /// until the kernel starts them through HSM, as Linux expects under OpenSBI.
    public let secondaryHartsStart: Bool
    /// The device tree's physical address: `a1` at entry.
    public let deviceTreeAddress: UInt64
    /// Where OpenSBI's `struct fw_dynamic_info` is (``FirmwareDynamicInfo``): `a2` at entry, as
    /// QEMU passes it to its `-bios`. `nil` unless the firmware is an M-mode ELF.
    public let firmwareInfoAddress: UInt64?
    public let deviceTree: DeviceTree
    /// Everything placed in RAM, by role.
    public let images: [PlacedImage]
    /// The kernel's symbols (for `tohost`/`fromhost` and labs), empty for raw images.
    public let kernelSymbols: [ELFSymbol]
    /// Whether the kernel was not an ELF file and was copied byte for byte (as QEMU's `-kernel`
    /// loads a raw image): what a tool says when such a "kernel" goes wrong (a mistyped path).
    public let kernelIsRawImage: Bool
    public let firmwareSymbols: [ELFSymbol]

    /// The range that `role` occupies, merged over its segments.
    public func range(of role: String) -> MemoryRange? {
        let ranges = images.filter { $0.role == role }.map(\.range)
        guard let low = ranges.map(\.address).min(), let high = ranges.map(\.end).max() else { return nil }
        return MemoryRange(address: low, size: high - low)
    }

    /// The value of the kernel's symbol `name` (global before local).
    public func kernelSymbol(_ name: String) -> UInt64? {
        (kernelSymbols.first { $0.name == name && $0.binding != .local } ?? kernelSymbols.first { $0.name == name })?.value
    }
}
