// The vCPU as the guest sees it, for tools (`vm:read`, `vm:write`): under trap-and-emulate the
// hardware runs the guest kernel in U-mode on shadow tables, so its privilege and supervisor CSRs
// live in the monitor, not in the hart. A tool's write goes through the same rules and reactions
// as the guest's own csrw: WARL, the shadow switch on satp, the FPU's state, and an interrupt the
// write unmasks is injected at once.

import RISCV
import Machine

extension TrapMonitor {
    /// The privilege the guest believes it runs at (S or U; the VMM is its M-mode).
    public var guestPrivilege: PrivilegeMode { vcpu.privilege }

    /// Moves the vCPU to S or U, switching the shadow the hart walks, as an sret or a trap
    /// would. False for M-mode, which a guest under a VMM never has.
    public func setGuestPrivilege(_ privilege: PrivilegeMode) -> Bool {
        guard privilege != .machine else { return false }
        vcpu.privilege = privilege
        activateShadow()
        return true
    }

    /// CSR `number` as the guest reads it; nil for a CSR the monitor does not virtualise (the
    /// hart's own value is then the guest's: counters, the FPU's fcsr).
    public func guestCSR(_ number: UInt16) -> UInt64? {
        guard PrivilegedEmulator.guestHas(number, machine: machine) else { return nil }
        var seen = vcpu
        PrivilegedEmulator.syncFloatingPoint(&seen, machine: machine, hart: hart)
        return seen.csrs.read(number)
    }

    /// Writes a virtualised CSR with the effects the guest's own write would have. False for a
    /// CSR the monitor does not virtualise.
    public func setGuestCSR(_ number: UInt16, _ value: UInt64) -> Bool {
        guard PrivilegedEmulator.guestHas(number, machine: machine), vcpu.csrs.read(number) != nil else { return false }
        PrivilegedEmulator.syncFloatingPoint(&vcpu, machine: machine, hart: hart)
        let effects = PrivilegedEmulator.writeCSR(number, value, vcpu: &vcpu, machine: machine, hart: hart)
        apply(effects)
        if effects.contains(.interrupts) { deliverPendingInterrupt() }
        return true
    }
}
