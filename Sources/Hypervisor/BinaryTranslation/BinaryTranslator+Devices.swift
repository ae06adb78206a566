// Device register accesses under `bt`. VMware's BT emulates the guest kernel's port I/O and MMIO in
// translated code, against the device model, without leaving the translation cache: [AA06]'s
// `in` from an emulated port costs 216 cycles under BT, against 3209 natively (an uncached device
// access) and 15826 under VT (a VM exit). Memory-mapped registers are not visible in the code, so
// they are learnt: as under `trap`, the monitor denies the guest the device region
// (TrapMonitor+Devices.swift), so the first access by an instruction takes an access fault into
// the monitor, which emulates it (`device_emulated`); for kernel code the translator then
// retranslates the instruction into a `device` callout that performs every later access on the
// device model (`bt_inline`). Guest user code is never translated: its device accesses (rare) are
// emulated trap by trap.

import Machine
import RISCV

extension BinaryTranslator {
    /// The monitor emulated a device access that trapped at `pc` (`retired`: it completed): a
    /// kernel instruction is learnt and retranslated.
    func deviceAccessTrapped(pc: UInt64, retired: Bool) {
        counters.deviceEmulated &+= 1
        // The access may claim the PLIC's interrupt, which the monitor follows only at its next step.
        defer { settleGuards() }
        guard retired, inKernel, let (physical, length) = physicalInstruction(at: pc), !deviceAccesses.contains(physical) else { return }
        deviceAccesses.insert(physical)
        counters.devicesLearnt &+= 1
        retranslate(physical, length)
    }

    /// A learnt device access in translated code: performed on the device model when it still
    /// reaches a device; otherwise (ordinary memory, a fault in the guest's view) the hardware runs it.
    func deviceAccess(_ inst: Instruction, pc: UInt64) -> CalloutOutcome {
        guard let access = withMachine({ DeviceAccess(inst, machine: $0, hart: monitor.hart) }),
              let target = monitor.deviceTarget(access, asGuestAccess: true) else { return .native }
        chargeEmulation(.device)
        deviceAccessesInTranslatedCode &+= 1
        return monitor.performDeviceAccess(access, inst, at: target, pc: pc) ? .retired : .abandoned
    }
}
