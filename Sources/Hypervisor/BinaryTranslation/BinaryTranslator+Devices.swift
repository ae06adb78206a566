// Device register accesses under `bt`. VMware's BT emulates the guest kernel's port I/O and MMIO in
// translated code, against the device model, without leaving the translation cache: [AA06]'s
// `in` from an emulated port costs 216 cycles under BT, against 3209 natively (an uncached device
// access) and 15826 under VT (a VM exit). Memory-mapped registers are not visible in the code, so
// they are learnt: the VMM denies the guest (which runs in U-mode) the device region with a PMP
// entry ahead of the one granting everything (privileged spec, "Physical Memory Protection": the
// lowest-numbered matching entry decides), so the first access by an instruction takes an access
// fault into the monitor; the translator emulates it (`device_emulated`) and, for kernel code,
// retranslates the instruction into a `device` callout that performs every later access on the
// device model (`bt_inline`). Guest user code is never translated: its device accesses (rare) are
// emulated trap by trap.

import Machine
import RISCV

extension BinaryTranslator {
    /// Denies U-mode (the deprivileged guest) every physical address below RAM, where the virt
    /// board's devices sit: entry 0 TOR [0, ramBase) with no permission, entry 1 NAPOT over
    /// everything with RWX (the entry firmware sets up).
    func protectDevices() {
        let ramBase = machine.configuration.ramBase
        let cfg = machine.readCSR(0x3A0, hart: monitor.hart) ?? 0
        machine.writeCSR(0x3B1, .max, hart: monitor.hart)              // pmpaddr1: NAPOT, all
        machine.writeCSR(0x3B0, ramBase >> 2, hart: monitor.hart)      // pmpaddr0: TOR top
        let entry0: UInt64 = 0x08                                      // A = TOR, no R/W/X
        let entry1: UInt64 = 0x1F                                      // A = NAPOT, R/W/X
        machine.writeCSR(0x3A0, (cfg & ~0xFFFF) | entry1 << 8 | entry0, hart: monitor.hart)
    }

    /// An exception the monitor would reflect: handled here when it is an access fault of a load
    /// or store whose target is a device register (the protection above), by performing the
    /// access; a kernel instruction is learnt and retranslated.
    func interceptedException(_ trap: MachineTrap) -> Bool {
        guard trap.cause == ExceptionCause.loadAccessFault.rawValue || trap.cause == ExceptionCause.storeAccessFault.rawValue,
              let inst = monitor.shadow.fetchInstruction(at: trap.pc),
              let access = Self.deviceAccess(inst, machine: machine, hart: monitor.hart),
              let target = deviceTarget(access, asGuestAccess: true) else { return false }
        counters.deviceEmulated &+= 1
        charge(prices.deviceEmulated)
        // The access may claim the PLIC's interrupt, which the monitor follows only at its next step.
        defer { settleGuards() }
        guard perform(access, inst, at: target, pc: trap.pc) else { return true }
        // Performed here, it retires for the guest as it would natively (and as the monitor's
        // emulated privileged instructions do): instret must not depend on how the VMM did it.
        machine.retireEmulatedInstruction(hart: monitor.hart)
        if inKernel, let (physical, length) = physicalInstruction(at: trap.pc), !deviceAccesses.contains(physical) {
            deviceAccesses.insert(physical)
            counters.devicesLearnt &+= 1
            retranslate(physical, length)
        }
        return true
    }

    /// A learnt device access in translated code: performed on the device model when it still
    /// reaches a device; otherwise (ordinary memory, a fault in the guest's view) the hardware runs it.
    func deviceAccess(_ inst: Instruction, pc: UInt64) -> CalloutOutcome {
        guard let access = Self.deviceAccess(inst, machine: machine, hart: monitor.hart),
              let target = deviceTarget(access, asGuestAccess: true) else { return .native }
        chargeEmulation(.device)
        return perform(access, inst, at: target, pc: pc) ? .retired : .abandoned
    }

    /// One integer load or store: its virtual address, size, direction and sign extension.
    struct DeviceAccess {
        var va: UInt64
        var size: Int
        var isWrite: Bool
        var signed: Bool
    }

    static func deviceAccess(_ inst: Instruction, machine: Machine, hart: Int) -> DeviceAccess? {
        let va = machine.register(Int(inst.rs1), hart: hart) &+ UInt64(bitPattern: Int64(inst.imm))
        switch inst.opcode {
        case .lb: return DeviceAccess(va: va, size: 1, isWrite: false, signed: true)
        case .lh: return DeviceAccess(va: va, size: 2, isWrite: false, signed: true)
        case .lw: return DeviceAccess(va: va, size: 4, isWrite: false, signed: true)
        case .ld: return DeviceAccess(va: va, size: 8, isWrite: false, signed: false)
        case .lbu: return DeviceAccess(va: va, size: 1, isWrite: false, signed: false)
        case .lhu: return DeviceAccess(va: va, size: 2, isWrite: false, signed: false)
        case .lwu: return DeviceAccess(va: va, size: 4, isWrite: false, signed: false)
        case .sb: return DeviceAccess(va: va, size: 1, isWrite: true, signed: false)
        case .sh: return DeviceAccess(va: va, size: 2, isWrite: true, signed: false)
        case .sw: return DeviceAccess(va: va, size: 4, isWrite: true, signed: false)
        case .sd: return DeviceAccess(va: va, size: 8, isWrite: true, signed: false)
        default: return nil
        }
    }

    /// The machine-physical device address `access` reaches in the guest's current view, or nil
    /// (misaligned — the hardware faults on misaligned device accesses —, refused by the guest's
    /// tables, RAM, or no device there).
    func deviceTarget(_ access: DeviceAccess, asGuestAccess: Bool) -> UInt64? {
        guard access.va & UInt64(access.size - 1) == 0,
              let gpa = guestPhysical(access.va, access.isWrite ? .store : .load, asGuestAccess: asGuestAccess),
              let (ma, isRAM) = monitor.shadow.map.machineAddress(gpa), !isRAM,
              machine.isDevice(physical: ma, size: access.size) else { return nil }
        return ma
    }

    /// Performs `access` of `inst` at device address `target` and moves the guest past it; false
    /// when the device refused it and the access fault was reflected into the guest.
    func perform(_ access: DeviceAccess, _ inst: Instruction, at target: UInt64, pc: UInt64) -> Bool {
        let h = monitor.hart
        if access.isWrite {
            let value = machine.register(Int(inst.rs2), hart: h)
            guard machine.deviceWrite(physical: target, size: access.size, value: value, hart: h) else {
                monitor.reflect(.exception(.storeAccessFault, tval: access.va), pc: pc)
                return false
            }
        } else {
            guard var value = machine.deviceRead(physical: target, size: access.size, hart: h) else {
                monitor.reflect(.exception(.loadAccessFault, tval: access.va), pc: pc)
                return false
            }
            if access.signed && access.size < 8 {
                let shift = UInt64(64 - 8 * access.size)
                value = UInt64(bitPattern: Int64(bitPattern: value << shift) >> Int64(shift))
            }
            if inst.rd != 0 { machine.setRegister(Int(inst.rd), value, hart: h) }
        }
        machine.setPC(pc &+ UInt64(inst.length), hart: h)
        return true
    }
}
