// The VMM of a `hw` VM: what stands in HS-mode while the guest kernel runs in VS-mode (the H
// extension, the RISC-V counterpart of VT-x). The hardware runs the guest's privileged work
// itself — its CSRs are the VS ones, its traps and interrupts are delegated to VS-mode by
// `hedeleg`/`hideleg`, its page tables are walked in two stages — so the VMM sees only what it
// chose to: the exits. Each is a trap that reaches this Swift handler, priced as a VM exit and a
// VM entry ([AA06]'s Core 2 figures in the standard profile):
//
// - an SBI call (ecall from VS-mode): the board's SBI serves it (HardwareSBIPlatform.swift);
// - a guest-page fault on a device address: the guest touched a device register, which the G
//   stage does not map; the VMM decodes the instruction, performs the access on the device model
//   and moves the guest past it (the emulated device of I/O virtualisation);
// - a guest-page fault elsewhere, or a virtual-instruction exception: the guest's own error,
//   reflected into it as the access fault or illegal instruction a machine without a VMM gives;
// - the PLIC raising the guest's external interrupt line (SEIP, not delegated): the VMM injects
//   VSEIP through `hvip` and masks SEIE until a device access (the guest's claim) lowers the line,
//   the interrupt-controller emulation a PLIC-only platform needs (AIA's guest interrupt files
//   would deliver it without an exit).
//
// With shadow paging (`HardwareAssistedPolicy.paging`), the G stage is off and three more kinds of
// trap exit: the guest's page faults, its satp accesses and fences, and its device accesses (as
// access faults: PMP denies VS-mode the devices). HardwareAssistedVMM+Shadow.swift has them.

import Boot
import Machine
import RISCV

/// What a `hw` VMM did, for statistics and the cycle account.
public struct HardwareExitCounters: Sendable, Equatable, Codable {
    /// Every exit: traps handled and external interrupts injected.
    public var exits: UInt64 = 0
    public var sbiCalls: UInt64 = 0
    public var deviceEmulated: UInt64 = 0
    /// Exits for the guest's external interrupt line (the PLIC raised it while nothing was
    /// pending for the guest).
    public var interruptExits: UInt64 = 0
    /// Times the VMM raised the guest's VSEIP: at such an exit, or after a device access that
    /// left the line high (another source pending after a completion).
    public var interruptsInjected: UInt64 = 0
    public var exceptionsReflected: UInt64 = 0
    /// Intercepted instructions the VMM emulated (`HardwareAssistedPolicy.intercepts`), in all and
    /// by kind (`wfi`, `sret`, `satp`, `sfence_vma`).
    public var emulated: UInt64 = 0
    public var intercepted: [String: UInt64] = [:]
    /// Shadow paging only: page faults the VMM filled a shadow entry for (hidden from the guest),
    /// and stores to the guest's page tables it performed (traced writes).
    public var shadowFaults: UInt64 = 0
    public var tracedWrites: UInt64 = 0
    /// Exits by the cause that made them (exception and interrupt names, as `vm:stats().exits`).
    public var byCause: [String: UInt64] = [:]
}

/// The prices of the VMM's software work, charged to the vCPU's clock as it is done.
struct HardwarePrices {
    /// An exit the hardware does not charge itself (an interrupt taken into the VMM).
    var exitRoundTrip: UInt64 = 0
    var firmwareCall: UInt64 = 0
    var deviceEmulated: UInt64 = 0
    var interruptInjected: UInt64 = 0
    var exceptionReflected: UInt64 = 0
    var privilegedEmulated: UInt64 = 0
    var shadowFault: UInt64 = 0
    var tracedWrite: UInt64 = 0
}

public final class HardwareAssistedVMM: MachineModeTrapHandler {
    static let vssi: UInt64 = 1 << 2, vsti: UInt64 = 1 << 6, vsei: UInt64 = 1 << 10
    static let sei: UInt64 = 1 << 9

    unowned let machine: Machine
    let sbi: BuiltinSBI
    let map: GuestPhysicalMap
    /// Per vCPU (hart).
    public internal(set) var work: [HardwareExitCounters]
    /// Every vCPU's, added.
    public var counters: HardwareExitCounters {
        work.dropFirst().reduce(into: work[0]) { total, w in
            total.exits &+= w.exits
            total.sbiCalls &+= w.sbiCalls
            total.deviceEmulated &+= w.deviceEmulated
            total.interruptExits &+= w.interruptExits
            total.interruptsInjected &+= w.interruptsInjected
            total.exceptionsReflected &+= w.exceptionsReflected
            total.emulated &+= w.emulated
            total.shadowFaults &+= w.shadowFaults
            total.tracedWrites &+= w.tracedWrites
            total.intercepted.merge(w.intercepted, uniquingKeysWith: &+)
            total.byCause.merge(w.byCause, uniquingKeysWith: &+)
        }
    }
    var prices = HardwarePrices()
    /// Called with every exit's vCPU, pc and cause name (for guest event hooks).
    var onExit: ((Int, UInt64, String) -> Void)?
    /// Shadow paging: called with each hidden fault (its cause) and traced write (the guest-physical
    /// address stored to), with the vCPU and pc, for guest event hooks.
    var onShadowWork: ((GuestEventKind, Int, UInt64, String?, UInt64) -> Void)?
    /// Shadow paging's tables (nil with nested paging), and per vCPU the satp the guest believes
    /// it wrote (vsatp holds the shadow's root).
    public internal(set) var shadow: ShadowPageTables?
    var guestSATPs: [UInt64]
    public func guestSATP(hart: Int) -> UInt64 { guestSATPs[hart] }
    /// Asked when a vCPU's SBI timer fires whether to raise its VSTIP (fault injection withholds
    /// ticks this way). The SBI's timer is one-shot, so a withheld tick stays lost until the
    /// guest's next set_timer, as natively.
    public var timerFiring: ((_ vcpu: Int) -> Bool)?

    init(machine: Machine, sbi: BuiltinSBI, map: GuestPhysicalMap) {
        self.machine = machine
        self.sbi = sbi
        self.map = map
        work = Array(repeating: HardwareExitCounters(), count: machine.hartCount)
        guestSATPs = Array(repeating: 0, count: machine.hartCount)
    }

    /// The guest's external interrupt line comes here (SEIP is not delegated).
    public var handlesInterrupts: Bool { true }
    /// It changes a VS-mode hart only in answer to its exits.
    public var leavesSupervisorAlone: Bool { true }
    /// The external line, whatever it does with it, only raises VSEIP.
    public var interruptsConsumed: UInt64 { Self.sei }

    public func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart: Int) -> Bool {
        if trap.isInterrupt {
            guard trap.cause == 9 else { return false }
            exit(hart, trap, name: RISCV.InterruptCause(rawValue: trap.cause)?.name ?? "interrupt_\(trap.cause)")
            // The hardware charged the interrupt; the exit's round trip is the VMM's to charge.
            work[hart].interruptExits &+= 1
            charge(prices.exitRoundTrip, hart: hart)
            injectExternalInterrupt(hart: hart)
            return true
        }
        let cause = RISCV.ExceptionCause(rawValue: trap.cause)
        exit(hart, trap, name: cause?.name ?? "cause_\(trap.cause)")
        if let shadow, let cause, handleShadowPagingTrap(trap, cause, shadow: shadow, hart: hart) { return true }
        switch cause {
        case .ecallVS?:
            work[hart].sbiCalls &+= 1
            charge(prices.firmwareCall, hart: hart)
            sbi.handleEcall(hart: hart)
        case .loadGuestPageFault?, .storeGuestPageFault?:
            if !emulateDeviceAccess(trap, hart: hart) {
                reflect(cause == .loadGuestPageFault ? .loadAccessFault : .storeAccessFault, tval: trap.tval, trap: trap, hart: hart)
            }
        case .instructionGuestPageFault?:
            reflect(.instructionAccessFault, tval: trap.tval, trap: trap, hart: hart)
        case .virtualInstruction?:
            // An instruction the VMM intercepts (hstatus VTW/VTSR/VTVM) is emulated; any other
            // is made the illegal instruction it is to the guest (privileged spec, "Virtual
            // Instruction Exceptions", note).
            if !emulateIntercepted(trap, hart: hart) {
                reflect(.illegalInstruction, tval: trap.tval, trap: trap, hart: hart)
            }
        default:
            let name = cause.map { "\($0)" } ?? "cause \(trap.cause)"
            machine.requestStop(.hostStop("the hw VMM does not handle \(name) at pc 0x\(String(trap.pc, radix: 16)) on vCPU \(hart)"))
        }
        return true
    }

    func exit(_ hart: Int, _ trap: MachineTrap, name: String) {
        work[hart].exits &+= 1
        work[hart].byCause[name, default: 0] &+= 1
        onExit?(hart, trap.pc, name)
    }

    func charge(_ cycles: UInt64, hart: Int) {
        if cycles != 0 { machine.charge(cycles, hart: hart) }
    }

    // MARK: interrupts

    /// The VS-level interrupts a VMM raises for its guest through `hvip`.
    public enum VirtualInterrupt {
        case software, timer, external
        var bit: UInt64 {
            switch self {
            case .software: HardwareAssistedVMM.vssi
            case .timer: HardwareAssistedVMM.vsti
            case .external: HardwareAssistedVMM.vsei
            }
        }
    }

    /// Raises or lowers a VS-level interrupt of vCPU `hart` (`hvip`); `hideleg` delivers it to the
    /// guest when the guest enables it.
    public func setVirtualInterrupt(_ interrupt: VirtualInterrupt, pending: Bool, hart: Int) {
        let hvip = machine.readCSR(RISCV.CSR.hvip, hart: hart) ?? 0
        machine.writeCSR(RISCV.CSR.hvip, pending ? hvip | interrupt.bit : hvip & ~interrupt.bit, hart: hart)
    }

    /// The SBI timer of vCPU `hart` reached its deadline.
    func timerFired(hart: Int) {
        if let allow = timerFiring, !allow(hart) { return }
        setVirtualInterrupt(.timer, pending: true, hart: hart)
    }

    /// The PLIC holds the guest's external line high: raise VSEIP, and stop taking the line (mask
    /// SEIE) until it falls.
    private func injectExternalInterrupt(hart: Int) {
        raiseExternal(hart: hart)
        let mie = machine.readCSR(RISCV.CSR.mie, hart: hart) ?? 0
        machine.writeCSR(RISCV.CSR.mie, mie & ~Self.sei, hart: hart)
    }

    /// Raises VSEIP (counted and charged as an injection when it was low).
    private func raiseExternal(hart: Int) {
        let pending = machine.interruptRegisters(hart: hart).pending & Self.vsei != 0
        guard !pending else { return }
        work[hart].interruptsInjected &+= 1
        charge(prices.interruptInjected, hart: hart)
        setVirtualInterrupt(.external, pending: true, hart: hart)
    }

    /// After a device access (a claim or completion may have moved the line): VSEIP follows the
    /// line, and the VMM takes the line again once it is low.
    private func syncExternalInterrupt(hart: Int) {
        let high = machine.interruptRegisters(hart: hart).pending & Self.sei != 0
        if high { raiseExternal(hart: hart) } else { setVirtualInterrupt(.external, pending: false, hart: hart) }
        let mie = machine.readCSR(RISCV.CSR.mie, hart: hart) ?? 0
        machine.writeCSR(RISCV.CSR.mie, high ? mie & ~Self.sei : mie | Self.sei, hart: hart)
    }

    // MARK: devices

    /// A guest-page fault (nested paging) or access fault (shadow paging) of a load or store on a
    /// device register: performed on the device. False when the address is no device's (or the
    /// access is not one a device takes).
    func emulateDeviceAccess(_ trap: MachineTrap, hart: Int) -> Bool {
        let isStore = trap.cause == RISCV.ExceptionCause.storeGuestPageFault.rawValue
            || trap.cause == RISCV.ExceptionCause.storeAccessFault.rawValue
        guard let inst = fetchInstruction(at: trap.pc, hart: hart),
              let access = DeviceAccess(inst, machine: machine, hart: hart),
              access.isWrite == isStore,
              let gpa = trap.guestPhysical ?? shadowGuestPhysical(access, trap: trap, hart: hart),
              let (address, isRAM) = map.machineAddress(gpa), !isRAM,
              address & UInt64(access.size - 1) == 0,
              machine.isDevice(physical: address, size: access.size) else { return false }
        work[hart].deviceEmulated &+= 1
        charge(prices.deviceEmulated, hart: hart)
        guard access.perform(inst, at: address, on: machine, hart: hart, virtualized: true) else { return false }
        machine.setPC(trap.pc &+ UInt64(inst.length), hart: hart)
        // Performed here, it retires for the guest as it would natively.
        machine.retireEmulatedInstruction(hart: hart)
        syncExternalInterrupt(hart: hart)
        return true
    }

    /// The guest's instruction at `pc`, read through both stages as the hart fetched it.
    private func fetchInstruction(at pc: UInt64, hart: Int) -> Instruction? {
        Decoder.decode(at: pc) { va in
            guard case .physical(let pa) = machine.translate(va, hart: hart, access: .fetch) else { return nil }
            return machine.readPhysical(littleEndianAt: pa, count: 2).map { UInt16(truncatingIfNeeded: $0) }
        }
    }

    // MARK: intercepted instructions

    /// Performs an instruction the guest may execute but the VMM chose to see (tval holds it, as
    /// for an illegal instruction), as the hardware would have, and moves the guest past it.
    private func emulateIntercepted(_ trap: MachineTrap, hart: Int) -> Bool {
        let inst = Decoder.decode(UInt32(truncatingIfNeeded: trap.tval))
        let m = machine
        let hstatus = m.readCSR(RISCV.CSR.hstatus, hart: hart) ?? 0
        let kind: String
        var next = trap.pc &+ UInt64(inst.length)
        switch inst.opcode {
        case .wfi where hstatus & HardwareIntercept.wfi.hstatusBit != 0 && trap.privilege == .supervisor:
            kind = "wfi"
            m.setPC(next, hart: hart)
            // Asleep until an interrupt is pending and enabled, as the wfi would have been.
            let (pending, enabled) = m.interruptRegisters(hart: hart)
            if pending & enabled == 0 { m.waitForInterrupt(hart: hart) }
        case .sret where hstatus & HardwareIntercept.sret.hstatusBit != 0 && trap.privilege == .supervisor:
            kind = "sret"
            // vsstatus: the privilege from SPP, SIE from SPIE, SPIE set, SPP cleared; pc = vsepc.
            var vsstatus = m.readCSR(RISCV.CSR.vsstatus, hart: hart) ?? 0
            let user = vsstatus & 1 << 8 == 0
            vsstatus = vsstatus & ~(1 << 1) | (vsstatus & 1 << 5 != 0 ? 1 << 1 : 0)
            vsstatus |= 1 << 5
            vsstatus &= ~(1 << 8)
            m.writeCSR(RISCV.CSR.vsstatus, vsstatus, hart: hart)
            m.setPrivilege(user ? .user : .supervisor, hart: hart)
            next = m.readCSR(RISCV.CSR.vsepc, hart: hart) ?? 0
            m.setPC(next, hart: hart)
        case .sfence_vma where hstatus & HardwareIntercept.satp.hstatusBit != 0 && trap.privilege == .supervisor:
            kind = "sfence_vma"
            if let shadow {
                // Shadows are kept coherent by write protection: the fence flushes the TLB.
                shadow.fence(va: nil, asid: nil)
            } else {
                // The guest's translations only (an hfence.vvma would do; all of the TLB is correct too).
                m.flushTLB(hart: hart)
            }
            m.setPC(next, hart: hart)
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
            // (A `where` after several patterns guards the last one only: hence a guard.) Any
            // other CSR instruction that exits is the guest's error: a hypervisor or VS CSR, or a
            // supervisor CSR from VU-mode.
            guard inst.csr == RISCV.CSR.satp && hstatus & HardwareIntercept.satp.hstatusBit != 0
                    && trap.privilege == .supervisor else { return false }
            kind = "satp"
            let immediate = inst.opcode == .csrrwi || inst.opcode == .csrrsi || inst.opcode == .csrrci
            let operand = immediate ? UInt64(inst.rs1) : m.register(Int(inst.rs1), hart: hart)
            // Under shadow paging the guest's satp is the VMM's to keep; vsatp holds the shadow.
            let old = shadow != nil ? guestSATPs[hart] : m.readCSR(RISCV.CSR.vsatp, hart: hart) ?? 0
            let writes = inst.opcode == .csrrw || inst.opcode == .csrrwi || inst.rs1 != 0
            if writes {
                let value: UInt64
                switch inst.opcode {
                case .csrrw, .csrrwi: value = operand
                case .csrrs, .csrrsi: value = old | operand
                default: value = old & ~operand
                }
                if let shadow {
                    switchGuestAddressSpace(value, shadow: shadow, hart: hart)
                } else {
                    m.writeCSR(RISCV.CSR.vsatp, value, hart: hart)   // WARL as the hardware's
                }
            }
            if inst.rd != 0 { m.setRegister(Int(inst.rd), old, hart: hart) }
            m.setPC(next, hart: hart)
        default:
            return false
        }
        work[hart].emulated &+= 1
        work[hart].intercepted[kind, default: 0] &+= 1
        charge(prices.privilegedEmulated, hart: hart)
        m.retireEmulatedInstruction(hart: hart)
        return true
    }

    // MARK: reflection

    /// Delivers exception `cause` to the guest's VS-mode as the hardware would (privileged spec,
    /// "Trap Entry": vscause, vsepc, vstval, vsstatus SPP/SPIE/SIE, then vstvec).
    func reflect(_ cause: RISCV.ExceptionCause, tval: UInt64, trap: MachineTrap, hart: Int) {
        work[hart].exceptionsReflected &+= 1
        charge(prices.exceptionReflected, hart: hart)
        let m = machine
        let previous = (cause: m.readCSR(RISCV.CSR.vscause, hart: hart) ?? 0, pc: m.readCSR(RISCV.CSR.vsepc, hart: hart) ?? 0,
                        tval: m.readCSR(RISCV.CSR.vstval, hart: hart) ?? 0)
        var vsstatus = m.readCSR(RISCV.CSR.vsstatus, hart: hart) ?? 0
        let sie = vsstatus & (1 << 1) != 0
        vsstatus &= ~(1 << 1 | 1 << 5 | 1 << 8)
        if sie { vsstatus |= 1 << 5 }
        if trap.privilege == .supervisor { vsstatus |= 1 << 8 }
        m.writeCSR(RISCV.CSR.vsstatus, vsstatus, hart: hart)
        m.writeCSR(RISCV.CSR.vscause, cause.rawValue, hart: hart)
        m.writeCSR(RISCV.CSR.vsepc, trap.pc, hart: hart)
        m.writeCSR(RISCV.CSR.vstval, tval, hart: hart)
        m.setPrivilege(.supervisor, hart: hart)
        let vector = (m.readCSR(RISCV.CSR.vstvec, hart: hart) ?? 0) & ~3
        m.setPC(vector, hart: hart)
        // A guest kernel's fetch fault that lands on its own trap vector, which faults again (a
        // kernel that jumped to an address where it has no RAM before setting stvec): the same
        // exit comes back at every step. SIE is now clear, so the VS-level interrupts the VMM
        // raises are masked, and it moves the vCPU only in answer to its exits: the run stops, as
        // the machine stops it for a fault hedeleg delivers (Hart.raise).
        guard cause == .instructionAccessFault || cause == .instructionPageFault, trap.privilege == .supervisor,
              vector == trap.pc else { return }
        let satp = shadow == nil ? m.readCSR(RISCV.CSR.vsatp, hart: hart) ?? 0 : guestSATPs[hart]
        m.deliveredFetchFaultToItsVector(hart: hart, register: "vstvec", fault: cause.rawValue, translated: satp >> 60 != 0,
                                         at: vector, previous: previous)
    }
}
