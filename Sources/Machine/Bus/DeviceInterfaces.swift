// The contracts between the machine (hart, bus, clock) and the platform devices that live in the
// `Devices` module. Devices sit to the right of `Machine` in the module graph, so the machine states
// what it needs here and devices conform. MMIO is the slow path: an existential call per device access
// is acceptable; nothing here is touched per guest instruction.

/// A memory-mapped device on the physical bus.
///
/// Offsets are relative to the device's base; the bus guarantees `offset + size <= mmioSize` and
/// `size` ∈ {1, 2, 4, 8}. Alignment and width rules are the device's to enforce.
public protocol MMIODevice: AnyObject {
    /// Bytes of address space the device decodes from its base.
    var mmioSize: UInt64 { get }
    /// The value read, zero-extended, or `nil` when the device rejects the access; the hart then
    /// raises a load access fault (privileged spec, "Physical Memory Attributes").
    func mmioRead(offset: UInt64, size: Int) -> UInt64?
    /// `false` when the device rejects the access; the hart then raises a store/AMO access fault.
    func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool
    /// Whether AMOs may target the device's registers (the privileged spec's "AMOArithmetic" PMA
    /// for an I/O region). An AMO on such a device is an `mmioRead`, then an `mmioWrite` of the
    /// result, with nothing between them (harts take turns whole instructions at a time). LR/SC
    /// stay RAM-only: no device region is reservable. Default `false`: an AMO raises a store/AMO
    /// access fault, as on most I/O regions.
    var acceptsAtomics: Bool { get }
}

extension MMIODevice {
    public var acceptsAtomics: Bool { false }
}

/// A device that does work as modelled time passes (timer compare, DMA completion, console input).
///
/// The machine keeps every timed device's deadline and calls `advance(to:)` only once `mtime` has
/// reached it, at an instruction-block boundary, so devices cost nothing between deadlines. It
/// re-reads `nextDeadline` after each `advance` and after each MMIO access to the device.
public protocol TimedDevice: AnyObject {
    /// Brings the device up to `mtime` (ticks of the platform timebase).
    func advance(to mtime: UInt64)
    /// The `mtime` at which the device next needs `advance`, or `nil` when it has nothing pending.
    var nextDeadline: UInt64? { get }
}

/// The interrupt-pending bits of `mip` that platform hardware drives (privileged spec, "Machine
/// Interrupt Registers (mip and mie)"): software interrupts from the CLINT's msip, timer interrupts
/// from its mtimecmp, external interrupts from the PLIC's per-context outputs.
public enum InterruptPin: Int, Sendable {
    case ssip = 1   // an SBI implementation in Swift delivering an IPI
    case msip = 3
    case stip = 5   // Sstc's stimecmp, or an SBI implementation in Swift
    case vstip = 6  // Sstc's vstimecmp (hip.VSTIP is this or hvip.VSTIP)
    case mtip = 7
    case seip = 9
    case meip = 11
}

/// Whoever owns the harts' interrupt inputs (the `Machine`). Levels, not edges: a device holds its
/// pin high until the condition clears.
public protocol InterruptPins: AnyObject {
    func setPin(_ pin: InterruptPin, hart: Int, level: Bool)
}

/// The platform timebase, which advances with modelled cycles so runs are deterministic.
public protocol TimeSource: AnyObject {
    /// Ticks of the 10 MHz timebase (QEMU `virt`'s timebase-frequency) since reset.
    var mtime: UInt64 { get }
}

/// Physical memory as a DMA-capable device sees it. Writes must keep every cache of guest memory
/// coherent (decoded instructions, translated blocks, LR/SC reservations).
public protocol DMAMemory: AnyObject {
    /// `false`, copying nothing, unless the whole range is RAM.
    func dmaRead(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool
    /// `false`, writing nothing, unless the whole range is RAM.
    func dmaWrite(_ address: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool
}
