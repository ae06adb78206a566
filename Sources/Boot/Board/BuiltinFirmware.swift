// The built-in firmware: what M-mode firmware leaves behind before entering S-mode, plus the SBI
// serving the kernel's calls. It installs itself as the machine's `MachineModeTrapHandler`: an
// `ecall` from S-mode becomes an SBI call; any other trap that reaches M-mode has no firmware to
// handle it, so the run stops with a message naming the trap (a guest error, never a host crash).
import Devices
import Machine
import RISCV

public final class BuiltinFirmware: MachineModeTrapHandler {
    public let sbi: BuiltinSBI
    let platform: MachineSBIPlatform
    private let errors: GuestErrorLog?

    /// Exceptions delegated to S-mode. OpenSBI delegates misaligned fetch, breakpoint, U-mode
    /// ecall and page faults (medeleg 0xb109) and redirects the access faults, illegal instructions
    /// and misaligned accesses it does not emulate to S-mode by software; with no M-mode code here,
    /// those are delegated in hardware instead, so S-mode sees the same traps.
    public static let delegatedExceptions: UInt64 =
        1 << 0 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 8 | 1 << 12 | 1 << 13 | 1 << 15
    /// With the H extension, also what OpenSBI delegates to HS-mode: ecall from VS-mode, the guest
    /// page faults and virtual instruction (privileged spec, "Hypervisor Extension", trap causes).
    public static let delegatedHypervisorExceptions: UInt64 = 1 << 10 | 1 << 20 | 1 << 21 | 1 << 22 | 1 << 23
    /// SSIP, STIP, SEIP: S-mode's own interrupts (privileged spec, "Machine Interrupt Delegation").
    public static let delegatedInterrupts: UInt64 = 1 << 1 | 1 << 5 | 1 << 9

    public init(machine: Machine, console: any ConsoleSink, errors: GuestErrorLog? = nil) {
        platform = MachineSBIPlatform(machine: machine, console: console)
        sbi = BuiltinSBI(platform: platform)
        self.errors = errors
    }

    /// Sets up `hart`'s M-mode state as firmware does before the first `mret` to S-mode: trap
    /// delegation, counter access, a PMP entry granting S/U all memory, and the FPU switched on.
    public func prepare(machine: Machine, hart: Int) {
        machine.grantFullPMPAccess(hart: hart)
        let hasH = (machine.readCSR(CSR.misa, hart: hart) ?? 0) & (1 << 7) != 0
        machine.writeCSR(CSR.medeleg, Self.delegatedExceptions | (hasH ? Self.delegatedHypervisorExceptions : 0), hart: hart)
        machine.writeCSR(CSR.mideleg, Self.delegatedInterrupts, hart: hart)
        machine.writeCSR(CSR.mcounteren, 0xFFFF_FFFF, hart: hart)
        // Sstc: S-mode's own timer, where the hart has it (the write is ignored where not).
        let menvcfg = machine.readCSR(CSR.menvcfg, hart: hart) ?? 0
        machine.writeCSR(CSR.menvcfg, menvcfg | 1 << 63, hart: hart)
        let mstatus = machine.readCSR(CSR.mstatus, hart: hart) ?? 0
        machine.writeCSR(CSR.mstatus, mstatus | (1 << 13), hart: hart)   // FS = Initial
    }

    /// Forgets the SBI's per-hart state after a machine reset: pending timers (and the STIP they
    /// raised) and suspends.
    public func reset() {
        sbi.reset()
    }

    /// It never touches S-mode's CSRs, satp or PMP after `prepare`, and resumes an S-mode hart only
    /// past an `ecall` it served (any other trap stops the run).
    public var leavesSupervisorAlone: Bool { true }

    /// Bytes for the SBI console (legacy getchar, DBCN read).
    public func enqueueInput(_ bytes: [UInt8]) { platform.input += bytes }

    /// Takes up to `max` bytes of the SBI console's pending input: for a VMM whose own SBI serves
    /// the guest (`trap`, `bt`), so that the board's console input reaches the guest there too.
    public func takeConsoleInput(max: Int) -> [UInt8] { platform.consoleRead(max: max) }

    public func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart: Int) -> Bool {
        if !trap.isInterrupt && trap.cause == RISCV.ExceptionCause.ecallS.rawValue {
            sbi.handleEcall(hart: hart)
            return true
        }
        stopForUnhandledTrap(cause: trap.cause, privilege: trap.privilege, pc: trap.pc, tval: trap.tval,
                             machine: machine, hart: hart)
        return true
    }

    /// Logs a trap no firmware is there to handle and stops the run with a message naming it.
    func stopForUnhandledTrap(cause: UInt64, privilege: PrivilegeMode, pc: UInt64, tval: UInt64,
                              machine: Machine, hart: Int) {
        let name = RISCV.ExceptionCause(rawValue: cause).map { "\($0)" } ?? "cause \(cause)"
        let message = "no firmware handles \(name) from \(privilege) mode at pc 0x\(String(pc, radix: 16))"
            + " (tval 0x\(String(tval, radix: 16))) on hart \(hart)"
        errors?.log("builtin-sbi", message)
        machine.requestStop(.hostStop(message))
    }
}
