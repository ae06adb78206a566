// What a para-virtual kernel still does unmodified. With mstatus.TVM and TW set (and TSR, if the
// policy asks), `csrr/csrw satp`, `sfence.vma`, `wfi` (and `sret`) in S-mode raise an illegal
// instruction exception (Privileged spec 3.1.6.5, "Virtualization Support in mstatus Register")
// that is not delegated, so it reaches the VMM: each is emulated and counted by kind, so a PV
// kernel that forgot a path shows up in the statistics. Any other illegal instruction — from
// user mode, or really illegal — is reflected to the guest kernel as the hardware would have
// delivered it, had it been delegated.
import Machine
import RISCV

/// The VMM's M-mode trap handler for a para-virtual guest: hypercalls, emulation, reflection;
/// every other trap (SBI calls included) goes to the board's built-in firmware.
final class ParavirtualTrapHandler: MachineModeTrapHandler {
    let domain: ParavirtualDomain
    let firmware: (any MachineModeTrapHandler)?

    init(domain: ParavirtualDomain, firmware: (any MachineModeTrapHandler)?) {
        self.domain = domain
        self.firmware = firmware
    }

    /// The domain acts on its kernel only in answer to the kernel's own traps (hypercalls, the
    /// instructions it emulates or reflects) and signals events with SSIP; the rest is the
    /// firmware's.
    var leavesSupervisorAlone: Bool { firmware?.leavesSupervisorAlone ?? true }

    func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart: Int) -> Bool {
        if !trap.isInterrupt && trap.cause == RISCV.ExceptionCause.ecallS.rawValue
            && machine.register(17, hart: hart) == HypercallABI.extensionID {
            let request = HypercallRequest(number: machine.register(16, hart: hart),
                                           arguments: (10...15).map { machine.register($0, hart: hart) })
            let result = domain.handle(request, hart: hart)
            machine.setRegister(10, result.a0, hart: hart)
            machine.setRegister(11, result.value, hart: hart)
            return true
        }
        if !trap.isInterrupt && trap.cause == RISCV.ExceptionCause.illegalInstruction.rawValue {
            if trap.privilege == .supervisor,
               domain.emulate(UInt32(truncatingIfNeeded: trap.tval), pc: trap.pc, hart: hart) {
                machine.retireEmulatedInstruction(hart: hart)
                return true
            }
            domain.reflect(trap, hart: hart)
            return true
        }
        domain.checkTimer()
        return firmware?.handleMachineTrap(trap, machine: machine, hart: hart) ?? false
    }
}

extension ParavirtualDomain {
    /// Emulates `instruction` trapped from S-mode by TVM/TSR/TW; false when it is not one of those.
    func emulate(_ instruction: UInt32, pc: UInt64, hart: Int) -> Bool {
        switch instruction {
        case 0x1050_0073:   // wfi: the vCPU sleeps until an interrupt enabled in mie is pending
            emulated["wfi", default: 0] &+= 1
            charge(.emulated, hart: hart)
            machine.setPC(pc &+ 4, hart: hart)
            machine.waitForInterrupt(hart: hart)
            return true
        case 0x1020_0073:   // sret (only trapped with TSR)
            emulated["sret", default: 0] &+= 1
            charge(.emulated, hart: hart)
            emulateSRET(hart: hart)
            return true
        default:
            break
        }
        if instruction & 0xFE00_7FFF == 0x1200_0073 {   // sfence.vma rs1, rs2
            emulated["sfence_vma", default: 0] &+= 1
            charge(.emulated, hart: hart)
            flushTLB(hart: hart)
            machine.setPC(pc &+ 4, hart: hart)
            return true
        }
        // A Zicsr instruction on satp (opcode SYSTEM, funct3 ≠ 0, 4; csr = 0x180).
        let funct3 = (instruction >> 12) & 7
        guard instruction & 0x7F == 0x73, funct3 != 0, funct3 != 4, instruction >> 20 == UInt32(RISCV.CSR.satp) else { return false }
        let rd = Int((instruction >> 7) & 31), rs1 = Int((instruction >> 15) & 31)
        let source = funct3 >= 5 ? UInt64(rs1) : machine.register(rs1, hart: hart)
        let old = machine.readCSR(RISCV.CSR.satp, hart: hart) ?? 0
        var new: UInt64?
        switch funct3 & 3 {
        case 1: new = source                                  // csrrw
        case 2: new = rs1 == 0 ? nil : old | source           // csrrs
        default: new = rs1 == 0 ? nil : old & ~source         // csrrc
        }
        if let new {
            emulated["satp_write", default: 0] &+= 1
            charge(.emulated, hart: hart)
            // The same rule as set_satp: a refused root is the kernel's error, delivered as the
            // illegal instruction it executed.
            guard setSATP(new, flush: 0, hart: hart).error == nil else {
                emulated["satp_refused", default: 0] &+= 1
                return false
            }
        } else {
            emulated["satp_read", default: 0] &+= 1
            charge(.emulated, hart: hart)
        }
        if rd != 0 { machine.setRegister(rd, old, hart: hart) }
        machine.setPC(pc &+ 4, hart: hart)
        return true
    }

    /// `sret` (Privileged spec 3.3.2): back to SPP with SIE = SPIE, SPIE = 1, SPP = U, pc = sepc.
    func emulateSRET(hart: Int) {
        let sstatus = machine.readCSR(RISCV.CSR.sstatus, hart: hart) ?? 0
        let spp = (sstatus >> 8) & 1, spie = (sstatus >> 5) & 1
        var next = sstatus & ~(UInt64(1) << 1 | 1 << 8)
        next |= spie << 1 | 1 << 5
        machine.writeCSR(RISCV.CSR.sstatus, next, hart: hart)
        machine.setPrivilege(spp == 1 ? .supervisor : .user, hart: hart)
        machine.setPC(machine.readCSR(RISCV.CSR.sepc, hart: hart) ?? 0, hart: hart)
    }

    /// Delivers `trap` to the guest kernel as a delegated exception would arrive (Privileged spec
    /// 4.1.1, 4.1.2: scause, stval, sepc, SPP, SPIE, SIE; pc = stvec's base).
    func reflect(_ trap: MachineTrap, hart: Int) {
        reflected &+= 1
        charge(.reflected, hart: hart)
        machine.writeCSR(RISCV.CSR.scause, trap.cause, hart: hart)
        machine.writeCSR(RISCV.CSR.stval, trap.tval, hart: hart)
        machine.writeCSR(RISCV.CSR.sepc, trap.pc, hart: hart)
        let sstatus = machine.readCSR(RISCV.CSR.sstatus, hart: hart) ?? 0
        let sie = (sstatus >> 1) & 1
        var next = sstatus & ~(UInt64(1) << 1 | 1 << 5 | 1 << 8)
        next |= sie << 5 | (trap.privilege == .supervisor ? 1 << 8 : 0)
        machine.writeCSR(RISCV.CSR.sstatus, next, hart: hart)
        machine.setPrivilege(.supervisor, hart: hart)
        machine.setPC((machine.readCSR(RISCV.CSR.stvec, hart: hart) ?? 0) & ~3, hart: hart)
    }
}
