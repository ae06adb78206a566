// CLINT / ACLINT MSWI + MTIMER as on QEMU `virt` (compatible "sifive,clint0", base 0x0200_0000,
// 64 KiB). Specs: RISC-V ACLINT v1.0 (§2 MTIMER, §3 MSWI) and the privileged spec, "Machine Timer
// Registers (mtime and mtimecmp)".
//
//   offset              register        width  notes
//   0x0000 + 4*h        msip[h]         32     bit 0 drives hart h's mip.MSIP; other bits read 0
//   0x4000 + 8*h        mtimecmp[h]     64     mip.MTIP[h] = (mtime >= mtimecmp[h]); 32-bit halves ok
//   0xBFF8              mtime           64     the platform timebase; writable (kept as an offset)
//
// Accesses are 4 or 8 bytes, naturally aligned (msip: 4 only); anything else is rejected (access
// fault), as QEMU's aclint. Unimplemented offsets inside the window read 0 and ignore writes.
// mtimecmp resets to all-ones (no interrupt) like QEMU; msip resets to 0.
//
// mtime is not stored: it is the TimeSource's ticks plus `mtimeOffset`, so it advances with modelled
// cycles and stays deterministic. The device is a TimedDevice whose deadline is the earliest
// mtimecmp that has not yet fired, translated back to TimeSource ticks.

import Machine

public final class CLINT: MMIODevice, TimedDevice, CountingDevice {
    public static let msipBase: UInt64 = 0x0000
    public static let mtimecmpBase: UInt64 = 0x4000
    public static let mtimeOffset: UInt64 = 0xBFF8

    public let mmioSize: UInt64 = VirtPlatform.clint.size
    public let name: String
    public let hartCount: Int
    public private(set) var counters = DeviceCounters()

    private let pins: any InterruptPins
    private let time: any TimeSource
    private let errors: GuestErrorLog?
    private var msip: [Bool]
    private var mtimecmp: [UInt64]
    private var mtipLevel: [Bool]
    /// mtime = time.mtime &+ offset; a guest write of mtime changes only the offset.
    private var offset: UInt64 = 0

    public init(hartCount: Int, pins: any InterruptPins, time: any TimeSource,
                errors: GuestErrorLog? = nil, name: String = "clint") {
        precondition(hartCount >= 1 && hartCount <= 4095, "CLINT supports 1...4095 harts")
        self.hartCount = hartCount
        self.pins = pins
        self.time = time
        self.errors = errors
        self.name = name
        msip = Array(repeating: false, count: hartCount)
        mtimecmp = Array(repeating: UInt64.max, count: hartCount)
        mtipLevel = Array(repeating: false, count: hartCount)
        for h in 0..<hartCount {
            pins.setPin(.msip, hart: h, level: false)
            pins.setPin(.mtip, hart: h, level: false)
        }
    }

    /// The guest-visible mtime now.
    public var mtime: UInt64 { time.mtime &+ offset }

    /// What a guest store to mtime added to the timebase (0 until one happens). The `time` CSR must
    /// read `TimeSource.mtime &+ mtimeOffset` to agree with this register, as QEMU's rdtime does.
    public var mtimeOffset: UInt64 { offset }

    /// mtimecmp of one hart (for the SBI in Swift and for tests).
    public func mtimecmp(hart: Int) -> UInt64 { mtimecmp[hart] }

    /// Sets a hart's mtimecmp as a guest store would (used by an SBI implemented in Swift).
    public func setMtimecmp(hart: Int, _ value: UInt64) {
        mtimecmp[hart] = value
        updateTimer(hart: hart)
    }

    /// Sets a hart's msip as a guest store would (used by an SBI implemented in Swift for IPIs).
    public func setMsip(hart: Int, _ value: Bool) {
        msip[hart] = value
        pins.setPin(.msip, hart: hart, level: value)
        if value { counters.interrupts &+= 1 }
    }

    public func msipPending(hart: Int) -> Bool { msip[hart] }

    // MARK: MMIODevice

    public func mmioRead(offset: UInt64, size: Int) -> UInt64? {
        counters.reads &+= 1
        guard let reg = decode(offset, size) else { return nil }
        switch reg {
        case .msip(let h): return msip[h] ? 1 : 0
        case .mtimecmp(let h, let shift, let width): return extract(mtimecmp[h], shift, width)
        case .mtime(let shift, let width): return extract(mtime, shift, width)
        case .unimplemented: return 0
        }
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool {
        counters.writes &+= 1
        guard let reg = decode(offset, size) else { return false }
        switch reg {
        case .msip(let h):
            setMsip(hart: h, value & 1 != 0)
        case .mtimecmp(let h, let shift, let width):
            mtimecmp[h] = insert(mtimecmp[h], value, shift, width)
            updateTimer(hart: h)
        case .mtime(let shift, let width):
            let wanted = insert(mtime, value, shift, width)
            self.offset = wanted &- time.mtime
            for h in 0..<hartCount { updateTimer(hart: h) }
        case .unimplemented:
            break
        }
        return true
    }

    // MARK: TimedDevice

    public func advance(to mtime: UInt64) {
        for h in 0..<hartCount { updateTimer(hart: h) }
    }

    /// The earliest TimeSource tick at which a not-yet-pending mtimecmp is reached. A hart whose
    /// mtip is already high needs nothing until its mtimecmp is rewritten (which re-evaluates).
    /// An mtimecmp that time has already passed without `advance` raising its mtip is due now:
    /// a hart whose clock ran past another hart's deadline within its slice (an MMIO access or a
    /// trap costs more than an instruction) may touch this device (an IPI) before the machine
    /// advances it, and that deadline must not be lost.
    public var nextDeadline: UInt64? {
        var best: UInt64?
        let now = time.mtime
        let guestNow = now &+ offset
        for h in 0..<hartCount where !mtipLevel[h] && mtimecmp[h] != UInt64.max {
            if mtimecmp[h] <= guestNow { return now }
            // Ticks until guest-visible mtime reaches mtimecmp.
            let (at, beyondTheEndOfTime) = now.addingReportingOverflow(mtimecmp[h] - guestNow)
            if beyondTheEndOfTime { continue }
            best = min(best ?? at, at)
        }
        return best
    }

    // MARK: Internals

    private func updateTimer(hart h: Int) {
        let level = mtime >= mtimecmp[h]
        if level != mtipLevel[h] {
            mtipLevel[h] = level
            if level { counters.interrupts &+= 1 }
            pins.setPin(.mtip, hart: h, level: level)
        }
    }

    private enum Register {
        case msip(Int)
        case mtimecmp(Int, shift: Int, width: Int)
        case mtime(shift: Int, width: Int)
        case unimplemented
    }

    /// Register and the part of it an access touches, or nil (rejected) for a bad width/alignment.
    private func decode(_ offset: UInt64, _ size: Int) -> Register? {
        guard (size == 4 || size == 8), offset % UInt64(size) == 0 else {
            errors?.log(name, "rejected \(size)-byte access at offset 0x\(String(offset, radix: 16))")
            counters.guestErrors &+= 1
            return nil
        }
        let width = size * 8
        if offset < Self.msipBase + 4 * UInt64(hartCount) {
            guard size == 4 else {
                errors?.log(name, "msip is 32 bits wide; rejected 8-byte access")
                counters.guestErrors &+= 1
                return nil
            }
            return .msip(Int(offset / 4))
        }
        if offset >= Self.mtimecmpBase && offset < Self.mtimecmpBase + 8 * UInt64(hartCount) {
            let rel = offset - Self.mtimecmpBase
            return .mtimecmp(Int(rel / 8), shift: Int(rel % 8) * 8, width: width)
        }
        if offset >= Self.mtimeOffset && offset < Self.mtimeOffset + 8 {
            return .mtime(shift: Int(offset - Self.mtimeOffset) * 8, width: width)
        }
        return .unimplemented
    }

    private func extract(_ reg: UInt64, _ shift: Int, _ width: Int) -> UInt64 {
        let v = reg >> UInt64(shift)
        return width == 64 ? v : v & 0xFFFF_FFFF
    }

    private func insert(_ reg: UInt64, _ value: UInt64, _ shift: Int, _ width: Int) -> UInt64 {
        if width == 64 { return value }
        let mask: UInt64 = 0xFFFF_FFFF << UInt64(shift)
        return (reg & ~mask) | ((value & 0xFFFF_FFFF) << UInt64(shift))
    }
}

// MARK: Snapshots

public struct CLINTState: DeviceState, Equatable {
    public let msip: [Bool]
    public let mtimecmp: [UInt64]
    public let mtimeOffset: UInt64
}

extension CLINT: SnapshottableDevice {
    public func saveState() -> any DeviceState {
        CLINTState(msip: msip, mtimecmp: mtimecmp, mtimeOffset: offset)
    }

    public func accepts(_ state: any DeviceState) -> Bool {
        guard let s = state as? CLINTState, s.msip.count == hartCount, s.mtimecmp.count == hartCount else { return false }
        return true
    }

    @discardableResult
    public func restoreState(_ state: any DeviceState) -> Bool {
        guard accepts(state), let s = state as? CLINTState else { return false }
        msip = s.msip
        mtimecmp = s.mtimecmp
        offset = s.mtimeOffset
        for h in 0..<hartCount {
            pins.setPin(.msip, hart: h, level: msip[h])
            mtipLevel[h] = mtime >= mtimecmp[h]
            pins.setPin(.mtip, hart: h, level: mtipLevel[h])
        }
        return true
    }
}
