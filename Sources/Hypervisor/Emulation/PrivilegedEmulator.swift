// Emulation of the instructions a deprivileged guest kernel traps on (privileged spec, "Supervisor
// Instructions", "Trap-Return Instructions", "Wait for Interrupt"; unprivileged spec, "Zicsr"). The
// guest kernel runs in U-mode, so every CSR access, sret, wfi and sfence.vma it executes raises an
// illegal-instruction exception to the VMM; this type decides what the same instruction would have
// done in the guest's own view — at its virtual privilege, against its virtual CSRs — and does it.
// What is illegal in the guest's own view comes back as a trap to reflect.

import RISCV
import Machine

/// What the VMM must resynchronise after an emulated instruction.
public struct EmulationEffects: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// satp changed: select or build another shadow root.
    public static let satp = EmulationEffects(rawValue: 1 << 0)
    /// sstatus.SUM or MXR changed: the guest-kernel view of user pages changes.
    public static let translation = EmulationEffects(rawValue: 1 << 1)
    /// sie, sip or sstatus.SIE changed: a virtual interrupt may now be deliverable.
    public static let interrupts = EmulationEffects(rawValue: 1 << 2)
    /// The virtual privilege changed (sret): the shadow view (guest-user/guest-kernel) changes.
    public static let privilege = EmulationEffects(rawValue: 1 << 3)
    /// sstatus.FS changed: mirrored into the hart's mstatus.FS.
    public static let floatingPoint = EmulationEffects(rawValue: 1 << 4)
    /// stimecmp was written (Sstc): the guest's timer moves, as with the SBI's set_timer.
    public static let timer = EmulationEffects(rawValue: 1 << 5)
}

/// The result of emulating one trapped instruction.
public enum EmulationOutcome: Sendable, Equatable {
    /// Emulated; the hart's pc is past the instruction.
    case completed(EmulationEffects)
    /// sret: virtual privilege, sstatus and pc (← sepc) are updated.
    case returned(EmulationEffects)
    /// wfi with no virtual interrupt ready: the vCPU waits (pc is past the wfi).
    case waiting
    /// sfence.vma: the VMM drops the shadow entries it names (pc is past the instruction). nil
    /// means every address / every address space (rs1 / rs2 = x0).
    case fence(va: UInt64?, asid: UInt16?)
    /// ecall from the guest kernel: a call to the virtual SBI (pc unchanged, at the ecall).
    case supervisorCall
    /// The instruction traps in the guest's own view: deliver this trap to the guest kernel (pc unchanged).
    case reflect(VirtualTrap)
    /// Not an instruction this emulator owns (a load or store, say): the caller decides.
    case notPrivileged(Instruction)
}

/// Decodes and emulates trapped privileged instructions for one vCPU.
public enum PrivilegedEmulator {
    /// Counters the virtual M-mode (the VMM) lets the guest kernel read: cycle, time, instret and
    /// the (zero) hpmcounters — what OpenSBI grants through mcounteren.
    public static let machineCounterEnable: UInt64 = 0xFFFF_FFFF

    /// Emulates instruction `bits`, fetched at `pc`, for the guest running on `hart`.
    public static func emulate(_ bits: UInt32, pc: UInt64, vcpu: inout VirtualCPU, machine: Machine, hart: Int) -> EmulationOutcome {
        emulate(decoded: Decoder.decode(bits), pc: pc, vcpu: &vcpu, machine: machine, hart: hart)
    }

    /// Emulates `inst` (as `Decoder.decode` gives it), fetched at `pc`, for the guest running on
    /// `hart`: for a caller that decoded it already (a binary translator's callout).
    public static func emulate(decoded inst: Instruction, pc: UInt64, vcpu: inout VirtualCPU, machine: Machine, hart: Int) -> EmulationOutcome {
        let kernel = vcpu.privilege == .supervisor
        let illegal = EmulationOutcome.reflect(.exception(.illegalInstruction, tval: UInt64(inst.raw)))
        let next = pc &+ UInt64(inst.length)
        switch inst.opcode {
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
            guard let effects = emulateCSR(inst, vcpu: &vcpu, machine: machine, hart: hart) else { return illegal }
            machine.setPC(next, hart: hart)
            return .completed(effects)
        case .sret:
            guard kernel else { return illegal }
            let target = ExceptionReflection.returnFromSupervisor(&vcpu)
            machine.setPC(target, hart: hart)
            var effects: EmulationEffects = [.interrupts]
            if vcpu.privilege != .supervisor { effects.insert(.privilege) }
            return .returned(effects)
        case .wfi:
            // In U-mode wfi is illegal when S-mode exists (privileged spec, "Wait for Interrupt").
            guard kernel else { return illegal }
            machine.setPC(next, hart: hart)
            if vcpu.csrs.sip & vcpu.csrs.sie != 0 { return .completed([.interrupts]) }
            vcpu.waitingForInterrupt = true
            return .waiting
        case .sfence_vma:
            guard kernel else { return illegal }
            let va: UInt64? = inst.rs1 == 0 ? nil : machine.register(Int(inst.rs1), hart: hart)
            let asid: UInt16? = inst.rs2 == 0 ? nil : UInt16(truncatingIfNeeded: machine.register(Int(inst.rs2), hart: hart))
            machine.setPC(next, hart: hart)
            return .fence(va: va, asid: asid)
        case .ecall:
            return kernel ? .supervisorCall : .reflect(.exception(.ecallU))
        case .ebreak:
            return .reflect(.exception(.breakpoint, tval: pc))
        case .mret, .illegal,
             .hfence_vvma, .hfence_gvma, .hlv_b, .hlv_bu, .hlv_h, .hlv_hu, .hlvx_hu, .hlv_w, .hlvx_wu, .hlv_wu, .hlv_d,
             .hsv_b, .hsv_h, .hsv_w, .hsv_d:
            // No virtual M-mode for the guest to return from, and no H extension in its view.
            return illegal
        default:
            return .notPrivileged(inst)
        }
    }

    /// One Zicsr instruction in the guest's view; nil when it is illegal there.
    ///
    /// csrrw/csrrwi always write and read only when rd ≠ x0; csrrs/csrrc (and the immediate forms)
    /// always read and write only when rs1 ≠ x0 (uimm ≠ 0), so a read-only CSR may be read with them.
    static func emulateCSR(_ inst: Instruction, vcpu: inout VirtualCPU, machine: Machine, hart: Int) -> EmulationEffects? {
        let number = UInt16(truncatingIfNeeded: inst.imm) & 0xFFF
        let immediate = inst.opcode == .csrrwi || inst.opcode == .csrrsi || inst.opcode == .csrrci
        let operand = immediate ? UInt64(inst.rs1) : machine.register(Int(inst.rs1), hart: hart)
        let isSwap = inst.opcode == .csrrw || inst.opcode == .csrrwi
        let writes = isSwap || inst.rs1 != 0
        let reads = !isSwap || inst.rd != 0

        // Legality before effect (privileged spec, "CSR Address Mapping Conventions").
        let level: UInt8 = vcpu.privilege == .supervisor ? 1 : 0
        if UInt8((number >> 8) & 3) > level { return nil }
        if writes && (number >> 10) & 3 == 3 { return nil }
        syncFloatingPoint(&vcpu, machine: machine, hart: hart)

        switch number {
        case CSR.fflags, CSR.frm, CSR.fcsr:
            guard vcpu.csrs.sstatus & SupervisorBits.fs != 0 else { return nil }
            let old = machine.readCSR(number, hart: hart) ?? 0
            if writes { machine.writeCSR(number, combine(inst.opcode, old, operand), hart: hart) }
            if reads { machine.setRegister(Int(inst.rd), old, hart: hart) }
            syncFloatingPoint(&vcpu, machine: machine, hart: hart)
            return []
        case CSR.cycle...(CSR.cycle + 31):
            let bit: UInt64 = 1 << UInt64(number - CSR.cycle)
            guard machineCounterEnable & bit != 0 else { return nil }
            if vcpu.privilege == .user && vcpu.csrs.scounteren & bit == 0 { return nil }
            let value = machine.readCSR(number, hart: hart) ?? 0
            machine.setRegister(Int(inst.rd), value, hart: hart)
            return []
        default:
            guard guestHas(number, machine: machine), let old = vcpu.csrs.read(number) else { return nil }
            let effects = writes ? writeCSR(number, combine(inst.opcode, old, operand), vcpu: &vcpu, machine: machine, hart: hart) : []
            if reads { machine.setRegister(Int(inst.rd), old, hart: hart) }
            return effects
        }
    }

    /// Writes virtualised CSR `number` of the vCPU (WARL), keeping the hart's FPU state in step
    /// and waking a vCPU an interrupt now reaches; what the VMM must act on. The guest's `csrw`
    /// and a tool's write (`TrapMonitor.setGuestCSR`) both come here.
    static func writeCSR(_ number: UInt16, _ value: UInt64, vcpu: inout VirtualCPU, machine: Machine, hart: Int) -> EmulationEffects {
        let before = vcpu.csrs
        vcpu.csrs.write(number, value)
        var effects = changes(from: before, to: vcpu.csrs)
        // Every write of stimecmp moves the timer, even of the value it held (STIP follows it afresh).
        if number == CSR.stimecmp { effects.insert(.timer) }
        if effects.contains(.floatingPoint) { mirrorFloatingPoint(vcpu, machine: machine, hart: hart) }
        vcpu.wakeIfInterruptible()
        return effects
    }

    /// Whether the guest's machine has virtualised CSR `number`: `stimecmp` only where it has Sstc
    /// (the virtual M-mode, the VMM, then enables it for S-mode: menvcfg.STCE and mcounteren.TM,
    /// so the level check is the only one).
    static func guestHas(_ number: UInt16, machine: Machine) -> Bool {
        number != CSR.stimecmp || machine.configuration.sstc
    }

    static func combine(_ op: Opcode, _ old: UInt64, _ operand: UInt64) -> UInt64 {
        switch op {
        case .csrrs, .csrrsi: old | operand
        case .csrrc, .csrrci: old & ~operand
        default: operand
        }
    }

    /// What a CSR write changed that the VMM must act on.
    static func changes(from a: VirtualCSRs, to b: VirtualCSRs) -> EmulationEffects {
        var e: EmulationEffects = []
        if a.satp != b.satp { e.insert(.satp) }
        let diff = a.sstatus ^ b.sstatus
        if diff & (SupervisorBits.sum | SupervisorBits.mxr) != 0 { e.insert(.translation) }
        if diff & SupervisorBits.fs != 0 { e.insert(.floatingPoint) }
        if diff & SupervisorBits.sie != 0 || a.sie != b.sie || a.sip != b.sip { e.insert(.interrupts) }
        return e
    }

    // The FPU is the hart's own: the guest executes FP instructions directly, so the hart's
    // mstatus.FS must follow the guest's sstatus.FS (Off makes them trap, as the guest expects), and
    // a Dirty set by the hardware must show in the guest's sstatus.

    /// Copies a hardware-set Dirty into the virtual sstatus.FS.
    public static func syncFloatingPoint(_ vcpu: inout VirtualCPU, machine: Machine, hart: Int) {
        let fs = SupervisorBits.fs
        guard vcpu.csrs.sstatus & fs != 0, let ms = machine.readCSR(CSR.mstatus, hart: hart), ms & fs == fs else { return }
        vcpu.csrs.setStatus(fs, fs)
    }

    /// Sets the hart's mstatus.FS to the virtual sstatus.FS.
    public static func mirrorFloatingPoint(_ vcpu: VirtualCPU, machine: Machine, hart: Int) {
        let fs = SupervisorBits.fs
        guard let ms = machine.readCSR(CSR.mstatus, hart: hart) else { return }
        machine.writeCSR(CSR.mstatus, (ms & ~fs) | (vcpu.csrs.sstatus & fs), hart: hart)
    }
}
