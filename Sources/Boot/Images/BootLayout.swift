// Where the boot images go in RAM, following QEMU's riscv boot code (hw/riscv/boot.c) so that a
// kernel, firmware or bootloader that works there finds things where it expects:
//
//   firmware   at its ELF addresses (OpenSBI fw_jump: 0x80000000)
//   kernel     ELF: at its own addresses. Raw image: the first 2 MiB boundary after the firmware,
//              and never below RAM + 2 MiB (the 0x80200000 of OpenSBI's FW_JUMP_ADDR and of
//              Linux's RISC-V boot protocol, which wants a 2 MiB-aligned kernel).
//   initrd     kernel entry + min(RAM / 2, 128 MiB): far enough above the kernel that its early
//              allocations do not clobber it, yet low enough to stay inside the linear map; moved
//              down below the device tree when it does not fit there.
//   dtb        the last 2 MiB-aligned slot below min(end of RAM, 3 GiB), so code that can only
//              address 32 bits reaches it; the last 4 KiB-aligned slot when that collides.
//
// Every placement is checked against RAM and against the other images, so a machine that is too
// small or an image that overlaps another is an error naming both, never a silent overwrite.

/// One named, placed piece of the boot (firmware, kernel, initrd, device tree).
public struct PlacedImage: Equatable, Sendable {
    public let role: String
    public let range: MemoryRange

    public init(_ role: String, _ range: MemoryRange) {
        self.role = role
        self.range = range
    }
}

public enum BootLayout {
    public static let kernelAlignment: UInt64 = 2 << 20
    public static let pageSize: UInt64 = 4096
    /// QEMU keeps the device tree below 3 GiB for the benefit of 32-bit-addressing boot code.
    public static let deviceTreeCeiling: UInt64 = 3 << 30

    static func alignUp(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
        let (sum, overflow) = value.addingReportingOverflow(alignment - 1)
        return overflow ? UInt64.max & ~(alignment - 1) : sum & ~(alignment - 1)
    }

    static func alignDown(_ value: UInt64, _ alignment: UInt64) -> UInt64 { value & ~(alignment - 1) }

    /// Where a raw kernel image goes: the first 2 MiB boundary at or after `firmwareEnd`, and at
    /// least `RAM base + 2 MiB`.
    public static func kernelAddress(ram: RAMRegion, firmwareEnd: UInt64?) -> UInt64 {
        let floor = ram.base &+ kernelAlignment
        guard let end = firmwareEnd else { return floor }
        return max(floor, alignUp(end, kernelAlignment))
    }

    /// Where the device tree blob of `size` bytes goes, avoiding `occupied`.
    public static func deviceTreeAddress(ram: RAMRegion, size: UInt64,
                                         avoiding occupied: [PlacedImage]) throws(BootError) -> UInt64 {
        let top = ram.base < deviceTreeCeiling ? min(ram.end, deviceTreeCeiling) : ram.end
        guard top >= ram.base, top - ram.base >= size else {
            throw .doesNotFit(role: "device tree", address: ram.base, size: size, ram: ram)
        }
        for alignment in [kernelAlignment, pageSize] {
            let candidate = alignDown(top - size, alignment)
            let range = MemoryRange(address: candidate, size: size)
            if candidate >= ram.base, occupied.allSatisfy({ !$0.range.overlaps(range) }) { return candidate }
        }
        let range = MemoryRange(address: alignDown(top - size, pageSize), size: size)
        let blocker = occupied.first { $0.range.overlaps(range) }!
        throw .overlap(role: "device tree", address: range.address, size: size, other: blocker.role,
                       otherAddress: blocker.range.address, otherSize: blocker.range.size)
    }

    /// Where an initrd of `size` bytes goes, below `limit` (the device tree) and clear of `occupied`.
    public static func initrdAddress(ram: RAMRegion, kernelEntry: UInt64, size: UInt64, limit: UInt64,
                                     avoiding occupied: [PlacedImage]) throws(BootError) -> UInt64 {
        let preferred = kernelEntry &+ min(ram.size / 2, 128 << 20)
        let ceiling = min(limit, ram.end)
        func fits(_ address: UInt64) -> Bool {
            let range = MemoryRange(address: address, size: size)
            return address >= ram.base && address <= ceiling && ceiling - address >= size
                && occupied.allSatisfy { !$0.range.overlaps(range) }
        }
        if fits(preferred) { return preferred }
        // As high as possible under the limit: the kernel grows upwards from below.
        if ceiling >= size, case let high = alignDown(ceiling - size, pageSize), fits(high) { return high }
        throw .doesNotFit(role: "initrd", address: preferred, size: size, ram: RAMRegion(base: ram.base, size: ceiling - ram.base))
    }

    /// Checks that every image lies inside RAM and that no two overlap.
    public static func check(_ images: [PlacedImage], ram: RAMRegion) throws(BootError) {
        for image in images where !ram.contains(image.range.address, length: image.range.size) {
            throw .doesNotFit(role: image.role, address: image.range.address, size: image.range.size, ram: ram)
        }
        for (index, image) in images.enumerated() {
            for other in images[(index + 1)...] where image.range.overlaps(other.range) {
                throw .overlap(role: other.role, address: other.range.address, size: other.range.size,
                               other: image.role, otherAddress: image.range.address, otherSize: image.range.size)
            }
        }
    }
}
