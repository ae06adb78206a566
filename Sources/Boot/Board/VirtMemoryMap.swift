// The physical memory map and interrupt numbers of QEMU's `virt` board (hw/riscv/virt.c,
// `virt_memmap`), which vmlab reproduces so guests built for QEMU run unmodified. The device tree,
// the board and the bare-metal guests' headers (labs/guests/common/baremetal.h) all agree with it.
//
//   0x0010_0000  0x1000     test finisher / syscon ("sifive,test1")
//   0x0010_1000  0x1000     goldfish RTC                                  PLIC source 11
//   0x0200_0000  0x1_0000   CLINT (msip, mtimecmp, mtime)
//   0x0C00_0000  0x60_0000  PLIC
//   0x1000_0000  0x100      NS16550A UART                                 PLIC source 10
//   0x1000_1000  8 × 0x1000 virtio-mmio slots 0..7                        PLIC sources 1..8
//   0x8000_0000  RAM (128 MiB by default)

/// Addresses, sizes and interrupt sources of the `virt` board.
public enum VirtMemoryMap {
    public static let testBase: UInt64 = 0x0010_0000
    public static let testSize: UInt64 = 0x1000
    public static let rtcBase: UInt64 = 0x0010_1000
    public static let rtcSize: UInt64 = 0x1000
    public static let clintBase: UInt64 = 0x0200_0000
    public static let clintSize: UInt64 = 0x1_0000
    public static let plicBase: UInt64 = 0x0C00_0000
    /// QEMU sizes the PLIC window for its maximum hart count, whatever the machine has.
    public static let plicSize: UInt64 = 0x60_0000
    public static let uartBase: UInt64 = 0x1000_0000
    public static let uartSize: UInt64 = 0x100
    public static let virtioBase: UInt64 = 0x1000_1000
    public static let virtioStride: UInt64 = 0x1000
    public static let virtioSlots = 8
    public static let ramBase: UInt64 = 0x8000_0000
    public static let defaultRAMSize: UInt64 = 128 << 20

    public static let uartIRQ: UInt32 = 10
    public static let rtcIRQ: UInt32 = 11
    /// Slot `n` raises PLIC source `1 + n`.
    public static func virtioIRQ(slot: Int) -> UInt32 { 1 + UInt32(slot) }
    public static func virtioAddress(slot: Int) -> UInt64 { virtioBase + UInt64(slot) * virtioStride }

    /// The highest PLIC source number (`riscv,ndev`), as QEMU's virt advertises it.
    public static let plicSourceCount: UInt32 = 96
    /// The UART's input clock, which Linux's 8250 driver divides for the baud rate.
    public static let uartClockFrequency: UInt32 = 3_686_400
    /// mtime ticks per second: 10 MHz, as on QEMU's virt.
    public static let timebaseFrequency: UInt32 = 10_000_000

    /// syscon values that end a run through the test finisher (QEMU hw/misc/sifive_test.c).
    public static let testPass: UInt32 = 0x5555
    public static let testReset: UInt32 = 0x7777
}
