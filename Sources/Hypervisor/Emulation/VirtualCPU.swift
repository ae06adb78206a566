// One vCPU of a trap-and-emulate VM as the VMM keeps it: the guest's supervisor CSRs, the
// privilege the guest believes it runs at (the hardware runs it in U-mode either way: ring
// compression) and whether it waits in wfi. General registers, floating-point state and pc stay
// in the hart: the guest executes on it directly. Its timer is the virtual SBI's.

import RISCV
import Machine

/// The vCPU state the hardware does not hold for a deprivileged guest.
public struct VirtualCPU: Sendable, Equatable, Codable {
    public var csrs: VirtualCSRs
    /// The guest's virtual privilege: `.supervisor` while its kernel runs, `.user` for its processes.
    /// Never `.machine`: the VMM is the guest's machine mode.
    public var privilege: PrivilegeMode = .supervisor
    /// Set by an emulated wfi; cleared when a virtual interrupt becomes pending and enabled in sie.
    public var waitingForInterrupt = false

    public init(asidBits: Int = 16, widestTranslation: Int = 5) {
        csrs = VirtualCSRs(asidBits: asidBits, widestTranslation: widestTranslation)
    }

    /// Raises or lowers a virtual interrupt line (STIP from the timer, SEIP from the virtual PLIC,
    /// SSIP from an SBI IPI), waking a vCPU in wfi when it is locally enabled (wfi ignores SIE, as the
    /// privileged spec says for "Wait for Interrupt").
    public mutating func setInterrupt(_ cause: InterruptCause, pending: Bool) {
        csrs.setPending(cause.mask, pending)
        wakeIfInterruptible()
    }

    /// What `init` guarantees and a decoder does not (a snapshot file is not trusted): ASID bits
    /// from 0 to 16, a widest translation from Sv39 to Sv57, and a privilege the guest can hold.
    var isWellFormed: Bool {
        (0...16).contains(csrs.asidBits) && (Sv39.levels...5).contains(csrs.widestTranslation) && privilege != .machine
    }

    mutating func wakeIfInterruptible() {
        if waitingForInterrupt && csrs.sip & csrs.sie != 0 { waitingForInterrupt = false }
    }
}
