// OpenSBI's `struct fw_dynamic_info` (docs/firmware/fw_dynamic.md in OpenSBI): how the stage
// before the firmware tells fw_dynamic where the next stage is and in which mode it runs. QEMU's
// virt board writes one for every -bios; vmlab writes the same for every M-mode firmware ELF.

/// The version-2 record: six XLEN-wide little-endian words.
public struct FirmwareDynamicInfo: Equatable, Sendable {
    /// "OSBI" read as a little-endian 32-bit number.
    public static let magic: UInt64 = 0x4942_534F
    /// Version 2 added `bootHart`.
    public static let version: UInt64 = 2
    public static let size: UInt64 = 6 * 8
    /// `next_mode` values: the privilege the next stage is entered in.
    public enum NextMode: UInt64, Sendable {
        case user = 0
        case supervisor = 1
        case machine = 3
    }

    /// Where the firmware jumps once it is done: the kernel's entry (0 without a kernel, as QEMU).
    public var nextAddress: UInt64
    public var nextMode: NextMode = .supervisor
    /// Options for the OpenSBI library (bit 0 hides the boot banner); none.
    public var options: UInt64 = 0
    /// The hart that boots; the others wait for it. Hart 0, as under the built-in firmware, rather
    /// than OpenSBI's lottery (all ones), which would pick whichever hart came first.
    public var bootHart: UInt64 = 0

    public init(nextAddress: UInt64) {
        self.nextAddress = nextAddress
    }

    public var bytes: [UInt8] {
        [Self.magic, Self.version, nextAddress, nextMode.rawValue, options, bootHart].flatMap { word in
            (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) }
        }
    }
}
