// Goldfish real-time clock as on QEMU `virt` (compatible "google,goldfish-rtc", base 0x0010_1000,
// 4 KiB, PLIC source 11). Reference: Android emulator "GOLDFISH-VIRTUAL-HARDWARE.TXT", goldfish RTC.
//
//   offset  register          notes
//   0x00    TIME_LOW          ns since the Unix epoch, low half; reading it latches TIME_HIGH
//   0x04    TIME_HIGH         the latched high half; a write stages the high half for a TIME_LOW write
//   0x08    ALARM_LOW         write arms the alarm at (ALARM_HIGH << 32 | value)
//   0x0C    ALARM_HIGH        write stages the alarm's high half
//   0x10    IRQ_ENABLED       bit 0
//   0x14    CLEAR_ALARM       write: disarm
//   0x18    ALARM_STATUS      1 while armed
//   0x1C    CLEAR_INTERRUPT   write: drop the pending interrupt
//
// Time is derived, never read from the host clock: ns = epoch + mtime * 100 (the 10 MHz timebase)
// + an offset the guest sets by writing the time, so runs are deterministic and an experiment can
// pick its wall-clock date. Registers are 32-bit; an aligned 64-bit access is split into two 32-bit
// ones, low address first, as QEMU splits it (so a 64-bit read of TIME_LOW returns the whole time).
// Other widths are rejected (access fault).
// An alarm at or before "now" fires at once; a later one is a TimedDevice deadline.

import Machine

public final class GoldfishRTC: MMIODevice, TimedDevice, CountingDevice {
    public let mmioSize: UInt64 = VirtPlatform.rtc.size
    public let name: String
    /// Nanoseconds per mtime tick (10 MHz timebase).
    public static let nsPerTick: UInt64 = 1_000_000_000 / VirtPlatform.timebaseFrequency
    /// 2025-01-01T00:00:00Z: the default wall-clock time at mtime 0.
    public static let defaultEpochNs: UInt64 = 1_735_689_600 * 1_000_000_000

    public var counters: DeviceCounters {
        var c = stats
        c.interrupts = irq.risingEdges
        return c
    }
    private var stats = DeviceCounters()
    private let time: any TimeSource
    private let irq: InterruptLine
    private let errors: GuestErrorLog?

    private var offsetNs: UInt64             // ns at mtime 0, including guest adjustments
    private var latchedHigh: UInt32 = 0
    private var stagedTimeHigh: UInt32 = 0
    private var alarmNs: UInt64 = 0
    private var alarmRunning = false
    private var irqEnabled = false
    private var irqPending = false

    public init(time: any TimeSource, irq: InterruptLine = .unconnected(),
                epochNs: UInt64 = GoldfishRTC.defaultEpochNs, errors: GuestErrorLog? = nil,
                name: String = "rtc") {
        self.time = time
        self.irq = irq
        self.offsetNs = epochNs
        self.errors = errors
        self.name = name
    }

    /// The clock's current reading in ns since the Unix epoch.
    public var nowNs: UInt64 { offsetNs &+ time.mtime &* Self.nsPerTick }

    public func mmioRead(offset: UInt64, size: Int) -> UInt64? {
        if size == 8 && offset % 8 == 0 {
            guard let low = mmioRead(offset: offset, size: 4), let high = mmioRead(offset: offset + 4, size: 4) else { return nil }
            stats.reads &-= 1
            return high << 32 | low
        }
        stats.reads &+= 1
        guard check(offset, size) else { return nil }
        switch offset {
        case 0x00:
            let now = nowNs
            latchedHigh = UInt32(truncatingIfNeeded: now >> 32)
            return now & 0xFFFF_FFFF
        case 0x04: return UInt64(latchedHigh)
        case 0x08: return alarmNs & 0xFFFF_FFFF
        case 0x0C: return alarmNs >> 32
        case 0x10: return irqEnabled ? 1 : 0
        case 0x18: return alarmRunning ? 1 : 0
        default: return 0
        }
    }

    public func mmioWrite(offset: UInt64, size: Int, value: UInt64) -> Bool {
        if size == 8 && offset % 8 == 0 {
            let ok = mmioWrite(offset: offset, size: 4, value: value & 0xFFFF_FFFF)
                && mmioWrite(offset: offset + 4, size: 4, value: value >> 32)
            stats.writes &-= 1
            return ok
        }
        stats.writes &+= 1
        guard check(offset, size) else { return false }
        let v = value & 0xFFFF_FFFF
        switch offset {
        case 0x00:
            let wanted = UInt64(stagedTimeHigh) << 32 | v
            offsetNs = wanted &- time.mtime &* Self.nsPerTick
            if alarmRunning { checkAlarm() }
        case 0x04: stagedTimeHigh = UInt32(v)
        case 0x08:
            alarmNs = (alarmNs & 0xFFFF_FFFF_0000_0000) | v
            alarmRunning = true
            stats.requests &+= 1
            checkAlarm()
        case 0x0C: alarmNs = (alarmNs & 0xFFFF_FFFF) | (v << 32)
        case 0x10: irqEnabled = v & 1 != 0
        case 0x14: alarmRunning = false
        case 0x1C: irqPending = false
        default: break
        }
        updateIRQ()
        return true
    }

    public func advance(to mtime: UInt64) {
        if alarmRunning { checkAlarm() }
        updateIRQ()
    }

    public var nextDeadline: UInt64? {
        guard alarmRunning else { return nil }
        let now = nowNs
        if alarmNs <= now { return time.mtime }
        let wait = alarmNs - now                 // round up without overflowing near UInt64.max
        let ticks = wait / Self.nsPerTick + (wait % Self.nsPerTick == 0 ? 0 : 1)
        let at = time.mtime &+ ticks
        return at < time.mtime ? nil : at
    }

    private func checkAlarm() {
        if alarmNs <= nowNs {
            alarmRunning = false
            irqPending = true
        }
    }

    private func updateIRQ() { irq.set(irqPending && irqEnabled) }

    private func check(_ offset: UInt64, _ size: Int) -> Bool {
        guard size == 4, offset % 4 == 0 else {
            stats.guestErrors &+= 1
            errors?.log(name, "rejected \(size)-byte access at offset 0x\(String(offset, radix: 16))")
            return false
        }
        return true
    }
}

// MARK: Snapshots

public struct GoldfishRTCState: DeviceState, Equatable {
    public let offsetNs: UInt64
    public let latchedHigh: UInt32
    public let stagedTimeHigh: UInt32
    public let alarmNs: UInt64
    public let alarmRunning: Bool
    public let irqEnabled: Bool
    public let irqPending: Bool
}

extension GoldfishRTC: SnapshottableDevice {
    public func saveState() -> any DeviceState {
        GoldfishRTCState(offsetNs: offsetNs, latchedHigh: latchedHigh, stagedTimeHigh: stagedTimeHigh, alarmNs: alarmNs,
                         alarmRunning: alarmRunning, irqEnabled: irqEnabled, irqPending: irqPending)
    }

    public func accepts(_ state: any DeviceState) -> Bool {
        state is GoldfishRTCState
    }

    @discardableResult
    public func restoreState(_ state: any DeviceState) -> Bool {
        guard accepts(state), let s = state as? GoldfishRTCState else { return false }
        offsetNs = s.offsetNs
        latchedHigh = s.latchedHigh
        stagedTimeHigh = s.stagedTimeHigh
        alarmNs = s.alarmNs
        alarmRunning = s.alarmRunning
        irqEnabled = s.irqEnabled
        irqPending = s.irqPending
        irq.restoreLevel(irqPending && irqEnabled)
        return true
    }
}
