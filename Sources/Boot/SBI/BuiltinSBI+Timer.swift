// SBI Timer extension (EID "TIME"; SBI v2.0 chapter 6) and the timer device behind it. Without Sstc,
// S-mode cannot program a timer itself: `sbi_set_timer(stime_value)` clears the hart's pending
// supervisor timer interrupt and raises STIP once `mtime` reaches `stime_value`. OpenSBI does this
// with the CLINT's mtimecmp and an M-mode interrupt; here the SBI is itself a `TimedDevice`, so
// the machine calls `advance(to:)` exactly when a deadline passes. A hart with Sstc enabled has a
// timer of its own, `stimecmp`, and the SBI writes it instead, as OpenSBI does.
import Machine

extension BuiltinSBI: TimedDevice {
    func setTimer(hart: Int, _ deadline: UInt64) -> SBIResult {
        if platform.programSupervisorTimerCompare(hart: hart, deadline) {
            if timerDeadlines[hart] != nil {
                timerDeadlines[hart] = nil
                platform.timerDeadlineChanged(self)
            }
            return .success()
        }
        platform.setSupervisorTimerPending(hart: hart, false)
        if deadline <= platform.mtime {
            timerDeadlines[hart] = nil
            platform.setSupervisorTimerPending(hart: hart, true)
        } else {
            // (uint64_t)-1 is "never" by the spec's own suggestion; it simply never arrives.
            timerDeadlines[hart] = deadline
        }
        platform.timerDeadlineChanged(self)
        return .success()
    }

    /// A timer request that is not an SBI call: a VMM's guest wrote its (virtual) `stimecmp`,
    /// which the VMM serves with the timer it serves set_timer with.
    public func programTimer(hart: Int, _ deadline: UInt64) {
        _ = setTimer(hart: hart, deadline)
    }

    public func advance(to mtime: UInt64) {
        for hart in timerDeadlines.indices {
            if let deadline = timerDeadlines[hart], deadline <= mtime {
                timerDeadlines[hart] = nil
                platform.setSupervisorTimerPending(hart: hart, true)
            }
        }
    }

    // Re-read on every set_timer, which a guest kernel calls on every tick: a loop, not an array.
    public var nextDeadline: UInt64? {
        var earliest: UInt64?
        for case let deadline? in timerDeadlines { earliest = min(earliest ?? deadline, deadline) }
        return earliest
    }
}
