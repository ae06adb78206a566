// Sstc, S-mode's own timer (privileged spec, "Sstc" extension; "Supervisor Timer (stimecmp)
// Register"; with the hypervisor extension, "Virtual Supervisor Timer (vstimecmp) Register").
// While menvcfg.STCE is set, mip.STIP is the comparison time >= stimecmp, read-only to software;
// while henvcfg.STCE is set too, hip.VSTIP is hvip.VSTIP or (time + htimedelta) >= vstimecmp.
// A comparator's output is a pin of the hart (`InterruptPin.stip`, `.vstip`), brought up to date
// when a CSR it reads is written and when `time` reaches the value it waits for: the comparators
// are a timed device of the machine's own, so their interrupt rises at the same instruction in
// every run, as a CLINT's does.

/// The Sstc comparators of every hart, scheduled by the machine like a platform timer.
final class SupervisorTimerCompare: TimedDevice {
    unowned let machine: Machine

    init(machine: Machine) { self.machine = machine }

    func advance(to mtime: UInt64) {
        for h in machine.harts { update(h, now: mtime) }
    }

    /// The earliest `time` at which a comparator that is low now goes high (none goes low by
    /// itself: only a CSR write lowers one).
    var nextDeadline: UInt64? {
        let now = machine.mtime
        var earliest: UInt64?
        for h in machine.harts {
            if let d = h.supervisorTimerDeadline(now: now) { earliest = min(earliest ?? d, d) }
            if let d = h.virtualTimerDeadline(now: now) { earliest = min(earliest ?? d, d) }
        }
        return earliest
    }

    /// Sets `h`'s comparator pins for `now`. STIP is the comparator's only while STCE is set (else
    /// it is M-mode's, through mip, or an SBI's pin); VSTIP's pin is the comparator's alone.
    func update(_ h: Hart, now: UInt64) {
        let s = h.state
        if h.supervisorTimerCompareEnabled {
            machine.setPin(.stip, hart: h.id, level: now >= s.pointee.stimecmp)
        }
        if h.hasHypervisor {
            let vs = h.virtualTimerCompareEnabled && now &+ s.pointee.hyper.htimedelta >= s.pointee.vstimecmp
            machine.setPin(.vstip, hart: h.id, level: vs)
        }
    }
}

extension Hart {
    /// menvcfg.STCE: stimecmp drives STIP, and S-mode may reach stimecmp.
    var supervisorTimerCompareEnabled: Bool { config.sstc && state.pointee.menvcfg & Envcfg.stce != 0 }

    /// Whether M-mode lets modes below it reach stimecmp (and VS-mode's vstimecmp through it):
    /// mcounteren.TM and menvcfg.STCE.
    var machineAllowsTimerCompare: Bool {
        state.pointee.mcounteren & 2 != 0 && state.pointee.menvcfg & Envcfg.stce != 0
    }

    /// The writable fields of menvcfg and henvcfg: FIOM, and STCE with Sstc (no CBO, PBMT or ADUE).
    var envcfgWritable: UInt64 { config.sstc ? Envcfg.fiom | Envcfg.stce : Envcfg.fiom }

    /// henvcfg.STCE as it acts: read-only zero while menvcfg.STCE is clear.
    var virtualTimerCompareEnabled: Bool {
        supervisorTimerCompareEnabled && state.pointee.hyper.henvcfg & Envcfg.stce != 0
    }

    /// `time` when STIP rises, if it is low and STCE set.
    func supervisorTimerDeadline(now: UInt64) -> UInt64? {
        guard supervisorTimerCompareEnabled, now < state.pointee.stimecmp else { return nil }
        return state.pointee.stimecmp
    }

    /// `time` when the VS comparator rises, if it is low: when time + htimedelta (mod 2^64)
    /// reaches vstimecmp, unless `time` itself would wrap first.
    func virtualTimerDeadline(now: UInt64) -> UInt64? {
        guard hasHypervisor, virtualTimerCompareEnabled else { return nil }
        let delta = state.pointee.hyper.htimedelta, compare = state.pointee.vstimecmp
        guard now &+ delta < compare else { return nil }
        let due = compare &- delta
        return due >= now ? due : nil
    }

    /// A CSR the comparators read was written (stimecmp, vstimecmp, htimedelta, menvcfg, henvcfg):
    /// their pins follow at once, and the slice ends, so that the next one is bounded by the new
    /// deadline. `wasEnabled` is whether STCE was set before the write: clearing it leaves STIP to
    /// mip and the SBI again, and the comparator's level goes. Nothing without Sstc.
    func timerCompareChanged(wasEnabled: Bool) {
        guard let compare = machine.timerCompare else { return }
        let enabled = supervisorTimerCompareEnabled
        if wasEnabled && !enabled { machine.setPin(.stip, hart: id, level: false) }
        // What M-mode wrote to mip.STIP gives way to the comparator (and stays gone after).
        if !wasEnabled && enabled { state.pointee.mipSoft &= ~Irq.sti }
        compare.update(self, now: machine.mtime)
        machine.timedDeviceChanged(compare)
        state.pointee.exitSlice = .checkInterrupts
    }
}
