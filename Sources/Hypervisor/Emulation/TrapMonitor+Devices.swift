// Device register accesses under a monitor: trap-and-emulate of memory-mapped I/O, the "emulated
// device" of I/O virtualisation. The guest (in U-mode) is denied the physical addresses of the
// board's devices by a PMP entry ahead of the one granting everything (privileged spec, "Physical
// Memory Protection": the lowest-numbered matching entry decides). Its shadow page tables still map
// the device pages, so a load or store there passes translation and then takes an access fault
// into the monitor, which decodes the instruction, performs the access on the device model and
// moves the guest past it: one exit per device register access (`trap` + `device_emulated`; [AA06]'s
// `in` costs 15 826 cycles under VT this way, against 3209 natively). `bt` shares the path for an
// instruction's first access and then learns the instruction (BinaryTranslator+Devices.swift).
//
// Loads and stores are emulated, integer and floating-point (which the hardware also performs on
// a device: an FP load of a register sets FS to Dirty); anything else aimed at a device (an AMO or
// LR/SC, which the board's devices refuse, a misaligned access, a hole between devices) is
// reflected to the guest as the access fault it took, as natively.

import Machine
import RISCV

/// One load or store of a guest instruction: its virtual address, size, direction, sign
/// extension, and whether its register is a floating-point one.
public struct DeviceAccess: Sendable, Equatable {
    public var va: UInt64
    public var size: Int
    public var isWrite: Bool
    public var signed: Bool
    public var isFloat = false

    /// The access `inst` makes with the hart's registers now, or nil when it is not a load or store.
    public init?(_ inst: Instruction, machine: Machine, hart: Int) {
        va = machine.register(Int(inst.rs1), hart: hart) &+ UInt64(bitPattern: Int64(inst.imm))
        switch inst.opcode {
        case .flw: (size, isWrite, signed, isFloat) = (4, false, false, true)
        case .fld: (size, isWrite, signed, isFloat) = (8, false, false, true)
        case .fsw: (size, isWrite, signed, isFloat) = (4, true, false, true)
        case .fsd: (size, isWrite, signed, isFloat) = (8, true, false, true)
        case .lb: (size, isWrite, signed) = (1, false, true)
        case .lh: (size, isWrite, signed) = (2, false, true)
        case .lw: (size, isWrite, signed) = (4, false, true)
        case .ld: (size, isWrite, signed) = (8, false, false)
        case .lbu: (size, isWrite, signed) = (1, false, false)
        case .lhu: (size, isWrite, signed) = (2, false, false)
        case .lwu: (size, isWrite, signed) = (4, false, false)
        case .sb: (size, isWrite, signed) = (1, true, false)
        case .sh: (size, isWrite, signed) = (2, true, false)
        case .sw: (size, isWrite, signed) = (4, true, false)
        case .sd: (size, isWrite, signed) = (8, true, false)
        default: return nil
        }
    }

    /// Performs this access of `inst` on the device at machine address `target` for `hart`, as
    /// the hart would have: a store sends rs2's value; a load writes rd, sign-extended, or for a
    /// float load NaN-boxed (unprivileged spec, "NaN Boxing of Narrower Values") with the FPU state
    /// made Dirty, in vsstatus too for a guest in VS-mode (`virtualized`). False when the device
    /// refused it.
    func perform(_ inst: Instruction, at target: UInt64, on machine: Machine, hart: Int, virtualized: Bool = false) -> Bool {
        if isWrite {
            let value = isFloat ? machine.floatRegister(Int(inst.rs2), hart: hart) : machine.register(Int(inst.rs2), hart: hart)
            return machine.deviceWrite(physical: target, size: size, value: value, hart: hart)
        }
        guard var value = machine.deviceRead(physical: target, size: size, hart: hart) else { return false }
        if isFloat {
            if size == 4 { value |= 0xFFFF_FFFF_0000_0000 }
            machine.setFloatRegister(Int(inst.rd), value, hart: hart)
            func makeDirty(_ csr: UInt16) {
                if let status = machine.readCSR(csr, hart: hart) { machine.writeCSR(csr, status | SupervisorBits.fs, hart: hart) }
            }
            makeDirty(CSR.mstatus)
            if virtualized { makeDirty(CSR.vsstatus) }
            return true
        }
        if signed && size < 8 {
            let shift = UInt64(64 - 8 * size)
            value = UInt64(bitPattern: Int64(bitPattern: value << shift) >> Int64(shift))
        }
        if inst.rd != 0 { machine.setRegister(Int(inst.rd), value, hart: hart) }
        return true
    }
}

extension TrapMonitor {
    /// Denies U-mode (the deprivileged guest) every physical address below RAM, where the virt
    /// board's devices sit: entry 0 TOR [0, ramBase) with no permission, entry 1 NAPOT over
    /// everything with RWX (the entry firmware sets up). From now on every device register access
    /// of the guest traps here and is emulated.
    public func protectDevices() {
        withMachine { Self.denyDevices(on: $0, hart: hart) }
        emulatesDevices = true
    }

    /// The PMP set-up of `protectDevices` on `hart` of `machine`: S- and U-mode (VS and VU
    /// included) lose every address below RAM. Also `hw`'s with shadow paging, whose guest kernel
    /// runs in VS-mode on shadows that map device pages.
    static func denyDevices(on machine: Machine, hart: Int) {
        let ramBase = machine.configuration.ramBase
        let cfg = machine.readCSR(CSR.pmpcfg(0), hart: hart) ?? 0
        machine.writeCSR(CSR.pmpaddr(1), .max, hart: hart)            // pmpaddr1: NAPOT, all
        machine.writeCSR(CSR.pmpaddr(0), ramBase >> 2, hart: hart)    // pmpaddr0: TOR top
        let entry0: UInt64 = 0x08                                     // A = TOR, no R/W/X
        let entry1: UInt64 = 0x1F                                     // A = NAPOT, R/W/X
        machine.writeCSR(CSR.pmpcfg(0), (cfg & ~0xFFFF) | entry1 << 8 | entry0, hart: hart)
    }

    /// An access fault of a load or store whose target is a device register (the protection
    /// above): performed here. False when the fault is the guest's own (reflected by the caller).
    func emulateDeviceAccess(_ trap: MachineTrap) -> Bool {
        guard trap.cause == ExceptionCause.loadAccessFault.rawValue || trap.cause == ExceptionCause.storeAccessFault.rawValue,
              let inst = shadow.fetchInstruction(at: trap.pc),
              let access = withMachine({ DeviceAccess(inst, machine: $0, hart: hart) }),
              let target = deviceTarget(access, asGuestAccess: true) else { return false }
        counters.deviceEmulated &+= 1
        charge(prices.deviceEmulated)
        let retired = performDeviceAccess(access, inst, at: target, pc: trap.pc)
        // Performed here, it retires for the guest as it would natively (as emulated privileged
        // instructions do): instret must not depend on how the VMM did it.
        if retired { withMachine { $0.retireEmulatedInstruction(hart: hart) } }
        // The access may have claimed the PLIC's interrupt: the real enable comes back now, not
        // at the next trap.
        syncExternalInterrupt()
        deviceAccessEmulated?(trap.pc, retired)
        return true
    }

    /// The machine-physical device address `access` reaches in the guest's current view, or nil
    /// (misaligned — the hardware faults on misaligned device accesses —, refused by the guest's
    /// tables, RAM, or no device there).
    public func deviceTarget(_ access: DeviceAccess, asGuestAccess: Bool) -> UInt64? {
        guard access.va & UInt64(access.size - 1) == 0,
              let gpa = guestPhysical(access.va, access.isWrite ? .store : .load, asGuestAccess: asGuestAccess),
              let (ma, isRAM) = shadow.map.machineAddress(gpa), !isRAM,
              withMachine({ $0.isDevice(physical: ma, size: access.size) }) else { return nil }
        return ma
    }

    /// The guest-physical address of `va` for `access` through the guest's own tables in the
    /// current view; nil when they refuse it (the hardware then takes the fault through the shadow).
    public func guestPhysical(_ va: UInt64, _ access: GuestAccess, asGuestAccess: Bool) -> UInt64? {
        GuestPageWalker.physicalAddress(va, access, shadow.guestContext(shadow.view), map: shadow.map,
                                        memory: shadow.words, asGuestAccess: asGuestAccess)
    }

    /// Performs `access` of `inst` at device address `target` and moves the guest past it; false
    /// when the device refused it and the access fault was reflected into the guest.
    public func performDeviceAccess(_ access: DeviceAccess, _ inst: Instruction, at target: UInt64, pc: UInt64) -> Bool {
        let h = hart
        let done = withMachine { access.perform(inst, at: target, on: $0, hart: h) }
        guard done else {
            reflect(.exception(access.isWrite ? .storeAccessFault : .loadAccessFault, tval: access.va), pc: pc)
            return false
        }
        withMachine { $0.setPC(pc &+ UInt64(inst.length), hart: h) }
        return true
    }
}
