// The options of a `virt` board: the plain data `vmlab.vm{...}` and `vmlab boot` fill in. Later
// issues add fields (mode, profile, ...); every field has a default so old callers keep working.
import Devices
import Machine

/// A virtio-blk disk: a raw image file, what writes do to it, and where it sits.
public struct DiskConfiguration: Equatable, Sendable, Codable {
    public var path: String
    /// `.copyOnWrite` by default: the guest may write, the file never changes.
    public var mode: BlockImage.Mode
    /// The virtio-mmio slot (0...7: 0x10001000 + slot × 0x1000, PLIC source slot + 1), as QEMU's
    /// `bus=virtio-mmio-bus.N`; nil: QEMU's order, the free slots from the top (slot 7 first).
    public var slot: Int?

    public init(path: String, mode: BlockImage.Mode = .copyOnWrite, slot: Int? = nil) {
        self.path = path
        self.mode = mode
        self.slot = slot
    }
}

/// A virtio-net card: its MAC address and where it sits. What its cable plugs into (a switch, or
/// nothing) is wiring, made on the built board (`VirtBoard.nics`, `VirtioNet.connect(to:)`), since
/// a switch is shared between boards and is no plain data.
public struct NICConfiguration: Equatable, Sendable, Codable {
    /// Six bytes, a unicast address (the group bit, bit 0 of the first byte, clear); nil: QEMU's
    /// default, 52:54:00:12:34:56 for the board's first card without an address, :57 for the
    /// second, and so on.
    public var mac: [UInt8]?
    /// The virtio-mmio slot, as `DiskConfiguration.slot`; nil: the free slots from the top, after
    /// the disks have taken theirs.
    public var slot: Int?
    /// Transmitted frames come straight back to this card (`VirtioNet.loopback`).
    public var loopback: Bool

    public init(mac: [UInt8]? = nil, slot: Int? = nil, loopback: Bool = false) {
        self.mac = mac
        self.slot = slot
        self.loopback = loopback
    }

    /// QEMU's default address for the board's `index`th card without one given (from 0).
    public static func defaultMAC(index: Int) -> [UInt8] {
        [0x52, 0x54, 0x00, 0x12, 0x34, UInt8(truncatingIfNeeded: 0x56 + index)]
    }
}

public struct VirtBoardConfiguration: Sendable, Codable {
    /// Bytes of RAM at 0x80000000 (QEMU virt's default: 128 MiB); whole 4 KiB pages.
    public var memory: UInt64 = 128 << 20
    /// Bytes of RAM after `memory` that the device tree does not describe: pages a VMM keeps for
    /// itself on the guest's machine (shadow page tables), out of the guest's sight.
    public var hiddenMemory: UInt64 = 0
    public var harts: Int = 1
    public var firmware: Firmware = .builtin
    public var kernel: ImageSource?
    /// Where a raw kernel goes (`nil`: 0x80200000, or after the firmware; RAM base with no firmware).
    public var kernelAddress: UInt64?
    public var initrd: ImageSource?
    public var bootargs: String = ""
    /// virtio-blk disks and virtio-net cards (with the console and RNG below, at most 8, one per
    /// virtio-mmio slot): each in its `slot`, the others in QEMU's order, disks first
    /// (`VirtBoard.virtioSlots(disks:nics:others:)`).
    public var disks: [DiskConfiguration] = []
    public var nics: [NICConfiguration] = []
    /// A virtio-console (one port) whose output joins the console capture and which reads the
    /// board's console input, in the free slot after the cards.
    public var virtioConsole: Bool = false
    /// A virtio-rng drawing from this seed (`VirtioRNG`), in the free slot after the console; nil:
    /// none.
    public var rngSeed: UInt64?
    /// Copy console output to the host's standard output as it arrives (it is captured either way).
    public var consoleEcho: Bool = false
    /// The `riscv,isa` string the device tree advertises (with `_sstc` appended where the harts
    /// have Sstc: `advertisedISA`).
    public var isa: String = "rv64imafdc_zicsr_zifencei"
    /// `isa`, naming the extensions the harts have beyond it: Sstc, which a kernel looks for here
    /// before it programs `stimecmp` (Linux since 6.0).
    public var advertisedISA: String {
        machine.sstc && !isa.lowercased().split(separator: "_").contains("sstc") ? isa + "_sstc" : isa
    }
    /// The device tree's `mmu-type`: the widest translation mode the harts implement, Sv57 unless
    /// `machine.sv57` is off (QEMU 7.2 says `riscv,sv48` while it implements Sv57 too; later
    /// QEMUs name the widest mode, as here).
    public var mmuType: String { machine.sv57 ? "riscv,sv57" : "riscv,sv48" }
    /// Attach an HTIF device at the kernel's `tohost` symbol when it has one (riscv-tests style).
    public var htif: Bool = true
    /// How the PLIC's gateways take device interrupts: as QEMU's PLIC (default; xv6 depends on it)
    /// or level-triggered, as the PLIC specification describes (see PLIC.swift).
    public var plicGateway: PLICGateway = .qemu
    /// Hart and cost options; its `ramSize` and `harts` are set from `memory` and `harts`.
    public var machine = MachineConfiguration()

    public init() {}

    /// Everything but `machine`, which holds host memory and the engine: a snapshot file keeps
    /// the board's options, and the machine checks its own shape (`MachineSnapshot.Shape`).
    private enum CodingKeys: String, CodingKey {
        case memory, hiddenMemory, harts, firmware, kernel, kernelAddress, initrd, bootargs, disks, nics, virtioConsole,
             rngSeed, consoleEcho, isa, htif, plicGateway
    }

    /// The machine configuration with this board's memory and hart count.
    var machineConfiguration: MachineConfiguration {
        var configuration = machine
        configuration.ramBase = VirtPlatform.ram.base
        configuration.ramSize = memory + hiddenMemory
        configuration.harts = harts
        return configuration
    }
}
