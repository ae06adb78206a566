// One vCPU of a trap-and-emulate VM as the VMM keeps it: the guest's supervisor CSRs, the
// privilege the guest believes it runs at (the hardware runs it in U-mode either way: ring
// compression), whether it waits in wfi, and its virtual timer (SBI set_timer). General registers,
// floating-point state and pc stay in the hart: the guest executes on it directly.

import RISCV
import Machine

/// The vCPU state the hardware does not hold for a deprivileged guest.
public struct VirtualCPU: Sendable, Equatable {
    public var csrs: VirtualCSRs
    /// The guest's virtual privilege: `.supervisor` while its kernel runs, `.user` for its processes.
    /// Never `.machine`: the VMM is the guest's machine mode.
    public var privilege: PrivilegeMode = .supervisor
    /// Set by an emulated wfi; cleared when a virtual interrupt becomes pending and enabled in sie.
    public var waitingForInterrupt = false
    /// The virtual timer's compare value (SBI set_timer), in `time` units; `.max` when none is set.
    public var timerCompare: UInt64 = .max

    public init(asidBits: Int = 16) {
        csrs = VirtualCSRs(asidBits: asidBits)
    }

    /// Raises or lowers a virtual interrupt line (STIP from the timer, SEIP from the virtual PLIC,
    /// SSIP from an SBI IPI), waking a vCPU in wfi when it is locally enabled (wfi ignores SIE, as the
    /// privileged spec says for "Wait for Interrupt").
    public mutating func setInterrupt(_ cause: InterruptCause, pending: Bool) {
        csrs.setPending(cause.mask, pending)
        wakeIfInterruptible()
    }

    /// Programs the virtual timer (SBI `set_timer`): it also clears a pending timer interrupt, as the
    /// SBI spec requires, and raises it again at once when the deadline has already passed.
    public mutating func setTimer(_ compare: UInt64, now: UInt64) {
        timerCompare = compare
        setInterrupt(.supervisorTimer, pending: now >= compare)
    }

    /// Raises STIP when the virtual timer's deadline has passed. Returns true when it newly did.
    @discardableResult
    public mutating func updateTimer(now: UInt64) -> Bool {
        guard timerCompare != .max, now >= timerCompare, csrs.sip & SupervisorBits.sti == 0 else { return false }
        setInterrupt(.supervisorTimer, pending: true)
        return true
    }

    mutating func wakeIfInterruptible() {
        if waitingForInterrupt && csrs.sip & csrs.sie != 0 { waitingForInterrupt = false }
    }
}
