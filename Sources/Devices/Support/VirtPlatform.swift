// The QEMU `virt` board's memory map and interrupt numbers (hw/riscv/virt.c, as dumped with
// `qemu-system-riscv64 -M virt,dumpdtb=virt.dtb`), in one place so the board wiring, the device
// tree and the guests agree. Addresses are physical; IRQs are PLIC source numbers.

public enum VirtPlatform {
    public struct Region: Sendable, Equatable {
        public let base: UInt64
        public let size: UInt64
        public init(base: UInt64, size: UInt64) { self.base = base; self.size = size }
    }

    public static let testFinisher = Region(base: 0x0010_0000, size: 0x1000)   // sifive,test1
    public static let rtc = Region(base: 0x0010_1000, size: 0x1000)            // google,goldfish-rtc
    public static let clint = Region(base: 0x0200_0000, size: 0x1_0000)       // sifive,clint0
    public static let plic = Region(base: 0x0C00_0000, size: 0x60_0000)       // sifive,plic-1.0.0
    public static let uart0 = Region(base: 0x1000_0000, size: 0x100)          // ns16550a
    public static let ram = Region(base: 0x8000_0000, size: 128 << 20)         // default 128 MiB

    /// virtio-mmio slots: eight transports, 4 KiB apart, after the UART.
    public static let virtioSlotCount = 8
    public static func virtio(slot: Int) -> Region {
        Region(base: 0x1000_1000 + UInt64(slot) * 0x1000, size: 0x1000)
    }

    /// The slot QEMU gives its `n`th virtio-mmio device (0-based, in command-line order): QEMU fills
    /// the slots from the top, so the first device sits at 0x1000_8000 (IRQ 8). Guests that scan
    /// every slot do not care; a board that wants identical addresses to QEMU's follows this order.
    public static func qemuVirtioSlot(forDevice n: Int) -> Int { virtioSlotCount - 1 - n }

    public static let uart0IRQ = 10
    public static let rtcIRQ = 11
    /// virtio-mmio slot n raises PLIC source 1 + n.
    public static func virtioIRQ(slot: Int) -> Int { 1 + slot }
    /// PLIC sources 1...96 (the device tree's `riscv,ndev` = 96); source 0 means "none".
    public static let plicSourceCount = 96
    /// `timebase-frequency` of the cpus node: mtime ticks per second.
    public static let timebaseFrequency: UInt64 = 10_000_000
}
