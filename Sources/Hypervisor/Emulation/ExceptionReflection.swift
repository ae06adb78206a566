// Delivering a trap to the guest kernel exactly as the hardware would deliver it to S-mode
// (privileged spec, "Supervisor Trap Vector Base Address Register (stvec)", "Supervisor Cause
// Register (scause)", "Supervisor Status Register (sstatus)", and "Machine Interrupt Registers" for
// which interrupt is taken when). The hardware delivered the real trap to the VMM; the guest must
// see the one its own kernel would have taken, in its virtual CSRs.

import RISCV
import Machine

/// A trap as the guest kernel will see it.
public struct VirtualTrap: Sendable, Equatable, CustomStringConvertible {
    /// The cause code without the interrupt bit.
    public var cause: UInt64
    public var isInterrupt: Bool
    /// What stval will hold (always zero for interrupts).
    public var tval: UInt64

    public init(cause: UInt64, isInterrupt: Bool, tval: UInt64) {
        self.cause = cause
        self.isInterrupt = isInterrupt
        self.tval = isInterrupt ? 0 : tval
    }

    public static func exception(_ cause: ExceptionCause, tval: UInt64 = 0) -> VirtualTrap {
        VirtualTrap(cause: cause.rawValue, isInterrupt: false, tval: tval)
    }

    public static func interrupt(_ cause: InterruptCause) -> VirtualTrap {
        VirtualTrap(cause: cause.rawValue, isInterrupt: true, tval: 0)
    }

    /// scause as the guest reads it.
    public var scause: UInt64 { isInterrupt ? cause | causeInterruptBit : cause }

    /// The snake_case cause name of the event vocabulary.
    public var name: String {
        if isInterrupt { return InterruptCause(rawValue: cause)?.name ?? "interrupt_\(cause)" }
        return ExceptionCause(rawValue: cause)?.name ?? "exception_\(cause)"
    }

    public var description: String { name }
}

/// Trap delivery and interrupt selection for a vCPU.
public enum ExceptionReflection {
    /// Delivers `trap`, taken by the instruction at `pc` (or, for an interrupt, before it), into
    /// the guest kernel: scause/sepc/stval; SPP ← the virtual privilege, SPIE ← SIE, SIE ← 0;
    /// virtual privilege ← S. Returns the pc the guest kernel resumes at: stvec's BASE, plus
    /// 4 × cause for an interrupt when stvec is vectored.
    public static func deliver(_ trap: VirtualTrap, to vcpu: inout VirtualCPU, pc: UInt64) -> UInt64 {
        vcpu.csrs.recordTrap(cause: trap.scause, epc: pc, tval: trap.tval)
        let status = vcpu.csrs.sstatus
        var new: UInt64 = 0
        if vcpu.privilege == .supervisor { new |= SupervisorBits.spp }
        if status & SupervisorBits.sie != 0 { new |= SupervisorBits.spie }
        vcpu.csrs.setStatus(SupervisorBits.spp | SupervisorBits.spie | SupervisorBits.sie, new)
        vcpu.privilege = .supervisor
        vcpu.waitingForInterrupt = false
        let tvec = vcpu.csrs.stvec
        let base = tvec & ~3
        return trap.isInterrupt && tvec & 3 == 1 ? base &+ 4 &* trap.cause : base
    }

    /// sret: privilege ← SPP, SIE ← SPIE, SPIE ← 1, SPP ← U. Returns the pc to resume at (sepc).
    /// The caller has checked legality (virtual S-mode; the virtual TSR is clear).
    public static func returnFromSupervisor(_ vcpu: inout VirtualCPU) -> UInt64 {
        let status = vcpu.csrs.sstatus
        vcpu.privilege = status & SupervisorBits.spp != 0 ? .supervisor : .user
        var new = SupervisorBits.spie
        if status & SupervisorBits.spie != 0 { new |= SupervisorBits.sie }
        vcpu.csrs.setStatus(SupervisorBits.spp | SupervisorBits.spie | SupervisorBits.sie, new)
        return vcpu.csrs.sepc
    }

    /// Supervisor interrupts in decreasing priority (privileged spec: SEI, SSI, STI).
    static let priority: [InterruptCause] = [.supervisorExternal, .supervisorSoftware, .supervisorTimer]

    /// The interrupt the vCPU takes now, if any: pending in sip and enabled in sie, and globally
    /// enabled — always while the guest runs its user mode, only with SIE in its kernel.
    public static func pendingInterrupt(_ vcpu: VirtualCPU) -> InterruptCause? {
        let ready = vcpu.csrs.sip & vcpu.csrs.sie
        guard ready != 0 else { return nil }
        let enabled = vcpu.privilege == .user
            || (vcpu.privilege == .supervisor && vcpu.csrs.sstatus & SupervisorBits.sie != 0)
        guard enabled else { return nil }
        return priority.first { ready & $0.mask != 0 }
    }
}
