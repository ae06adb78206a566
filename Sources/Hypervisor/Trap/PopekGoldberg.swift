// The Popek–Goldberg checker. Popek and Goldberg's theorem [PG74]: a VMM can be built by
// trap-and-emulate alone (every guest instruction runs directly except the ones that trap to the
// VMM) iff every sensitive instruction is privileged, i.e. traps when executed outside the most
// privileged mode. The checker does not take that from a table: it EXECUTES each instruction of
// the catalogue (SensitiveInstruction.swift) on a scratch `Machine` at the guest kernel's
// privilege, with the lab's mstatus TVM/TSR/TW, counter enables and holes, and observes whether
// it trapped (with which cause) or what it did to the real machine instead.
//
// Which instructions are sensitive depends on where the guest kernel runs:
// - in U-mode (trap-and-emulate with ring compression, the VMM in S or M): the guest's whole
//   supervisor state is virtual, so every instruction of the catalogue is sensitive;
// - in S-mode (the VMM in M, as for para-virtualisation without the H extension): the VM's
//   supervisor registers are the real ones, switched by the VMM with the VM, so plain S-level CSR
//   accesses are the guest's own business; what stays sensitive is M-level state, the memory
//   map (satp, sfence.vma: mstatus.TVM), sret (TSR), wfi (TW) and the counters (mcounteren)
//   (privileged spec, "Virtualization Support in mstatus Register").

import Machine
import RISCV

/// The CPU configuration the checker executes the catalogue under.
public struct PopekGoldbergConfiguration: Sendable, Equatable {
    /// Where the guest kernel runs: `.user` for trap-and-emulate (ring compression), `.supervisor`
    /// for a VMM in M-mode (PV) relying on TVM/TSR/TW.
    public var guestPrivilege: PrivilegeMode
    /// mstatus.TVM: satp accesses and sfence.vma trap from S-mode.
    public var tvm: Bool
    /// mstatus.TSR: sret traps from S-mode.
    public var tsr: Bool
    /// mstatus.TW: wfi traps from S-mode.
    public var tw: Bool
    /// Which counters S-mode (and, with `scounteren`, U-mode) may read: bit 0 cycle, 1 time,
    /// 2 instret (privileged spec, "Counter-Enable Registers").
    public var mcounteren: UInt32
    /// Which counters U-mode may read, within `mcounteren`.
    public var scounteren: UInt32
    /// Sensitive instructions made not to trap (see `SensitiveHole`).
    public var holes: Set<SensitiveHole>

    public init(guestPrivilege: PrivilegeMode = .user, tvm: Bool = false, tsr: Bool = false, tw: Bool = false,
                mcounteren: UInt32 = 0, scounteren: UInt32 = 0, holes: Set<SensitiveHole> = []) {
        self.guestPrivilege = guestPrivilege
        self.tvm = tvm
        self.tsr = tsr
        self.tw = tw
        self.mcounteren = mcounteren
        self.scounteren = scounteren
        self.holes = holes
    }

    /// The configuration `machine`'s hart `hart` is in now: its mstatus TVM/TSR/TW bits, counter
    /// enables and the machine's holes, for a guest kernel at `guestPrivilege`.
    public init(machine: Machine, hart: Int = 0, guestPrivilege: PrivilegeMode) {
        let mstatus = machine.readCSR(RISCV.CSR.mstatus, hart: hart) ?? 0
        self.init(guestPrivilege: guestPrivilege,
                  tvm: mstatus & (1 << 20) != 0, tsr: mstatus & (1 << 22) != 0, tw: mstatus & (1 << 21) != 0,
                  mcounteren: UInt32(truncatingIfNeeded: machine.readCSR(RISCV.CSR.mcounteren, hart: hart) ?? 0),
                  scounteren: UInt32(truncatingIfNeeded: machine.readCSR(RISCV.CSR.scounteren, hart: hart) ?? 0),
                  holes: machine.holes)
    }

    /// Trap-and-emulate: the guest kernel in U-mode, counters denied. The default.
    public static let trapAndEmulate = PopekGoldbergConfiguration()
    /// A guest kernel in S-mode under an M-mode VMM with TVM, TSR and TW set and counters denied.
    public static let supervisorGuest = PopekGoldbergConfiguration(guestPrivilege: .supervisor, tvm: true, tsr: true, tw: true)
}

/// Executes the catalogue of sensitive instructions deprivileged and reports which do not trap.
public enum PopekGoldberg {
    /// Runs every instruction of `SensitiveInstruction.catalogue()` under `configuration`.
    public static func check(_ configuration: PopekGoldbergConfiguration = .trapAndEmulate) -> PopekGoldbergReport {
        let scratch = Scratch(configuration)
        let rows = SensitiveInstruction.catalogue().map { scratch.observe($0) }
        return PopekGoldbergReport(configuration: configuration, rows: rows)
    }

    /// Whether `instruction` is sensitive for a guest kernel at `privilege` (see the file header).
    public static func isSensitive(_ instruction: SensitiveInstruction, guestPrivilege privilege: PrivilegeMode) -> Bool {
        guard privilege == .supervisor, let n = instruction.csr else { return true }
        return RISCV.CSR.minimumPrivilege(n) != .supervisor || n == RISCV.CSR.satp
    }
}

/// Records the trap a deprivileged instruction raised (every trap from S/U goes to M: nothing is
/// delegated) and consumes it, so the scratch hart stays where it was.
private final class TrapRecorder: MachineModeTrapHandler {
    var trap: MachineTrap?
    func handleMachineTrap(_ trap: MachineTrap, machine: Machine, hart: Int) -> Bool {
        self.trap = trap
        return true
    }
}

/// The scratch machine and the state each instruction starts from: the VMM's real state, with
/// recognisable values in the registers a guest could read or overwrite.
private struct Scratch {
    let configuration: PopekGoldbergConfiguration
    let machine: Machine
    let recorder = TrapRecorder()
    let base: UInt64

    init(_ configuration: PopekGoldbergConfiguration) {
        self.configuration = configuration
        machine = Machine(SensitiveInstruction.scratchConfiguration)
        machine.trapHandler = recorder
        base = machine.configuration.ramBase
    }

    static let sie: UInt64 = 1 << 1, spie: UInt64 = 1 << 5
    static let tvm: UInt64 = 1 << 20, tw: UInt64 = 1 << 21, tsr: UInt64 = 1 << 22
    /// The satp value csrrw/csrrs write: Sv39 with a root in RAM.
    static let sv39Root: UInt64 = (8 << 60) | 0x80400

    /// Resets the scratch machine and puts `instruction` at the reset pc, to run at `privilege`.
    func prepare(_ instruction: SensitiveInstruction, privilege: PrivilegeMode, holes: Set<SensitiveHole>) {
        let m = machine
        m.reset()
        m.grantFullPMPAccess(hart: 0)
        var ms = Self.sie | Self.spie
        if configuration.tvm { ms |= Self.tvm }
        if configuration.tw { ms |= Self.tw }
        if configuration.tsr { ms |= Self.tsr }
        m.writeCSR(RISCV.CSR.mstatus, ms)
        m.writeCSR(RISCV.CSR.mcounteren, UInt64(configuration.mcounteren))
        m.writeCSR(RISCV.CSR.scounteren, UInt64(configuration.scounteren))
        m.writeCSR(RISCV.CSR.mideleg, 0x222)
        m.writeCSR(RISCV.CSR.mie, 0xAAA)
        m.writeCSR(RISCV.CSR.stvec, base + 0x1000)
        m.writeCSR(RISCV.CSR.mtvec, base + 0x2000)
        m.writeCSR(RISCV.CSR.sscratch, 0x5C5C_0000_0000_0001)
        m.writeCSR(RISCV.CSR.sepc, base + 0x3000)
        m.writeCSR(RISCV.CSR.scause, 8)
        m.writeCSR(RISCV.CSR.stval, 0x1234)
        m.writeCSR(RISCV.CSR.mscratch, 0x5C5C_0000_0000_0002)
        m.writeCSR(RISCV.CSR.mepc, base + 0x4000)
        m.writeCSR(RISCV.CSR.mcause, 9)
        m.writeCSR(RISCV.CSR.mtval, 0x5678)
        let e = instruction.encoding
        m.loadPhysical([UInt8(e & 0xFF), UInt8((e >> 8) & 0xFF), UInt8((e >> 16) & 0xFF), UInt8(e >> 24)], at: base)
        m.setRegister(Int(SensitiveInstruction.rd), 0)
        m.setRegister(Int(SensitiveInstruction.rs1), operand(instruction))
        m.holes = holes
        recorder.trap = nil
        m.startHart(0, privilege: privilege, pc: base, a0: 0, a1: 0)
    }

    /// The source register's value: one that changes the CSR if the write is performed (csrrw
    /// flips every bit, csrrs sets every clear bit, csrrc clears every bit), except for satp,
    /// which csrrw/csrrs load with a valid Sv39 value (a write of any other MODE is ignored).
    func operand(_ instruction: SensitiveInstruction) -> UInt64 {
        guard let n = instruction.csr else { return 0 }
        if instruction.opcode == .csrrc { return .max }
        if n == RISCV.CSR.satp { return Self.sv39Root }
        return ~(machine.readCSR(n) ?? 0)
    }

    /// Executes `instruction` deprivileged and describes what happened.
    func observe(_ instruction: SensitiveInstruction) -> PopekGoldbergRow {
        let m = machine
        let privilege = configuration.guestPrivilege
        prepare(instruction, privilege: privilege, holes: configuration.holes)
        let before = instruction.csr.flatMap { m.readCSR($0) }
        let flushes = m.counters().tlb.fullFlushes
        _ = m.run(maxInstructions: 1)
        let sensitive = PopekGoldberg.isSensitive(instruction, guestPrivilege: privilege)
        if let trap = recorder.trap {
            let cause = ExceptionCause(rawValue: trap.cause)?.name ?? "cause_\(trap.cause)"
            return PopekGoldbergRow(instruction, sensitive: sensitive, traps: true, cause: cause, effect: "traps (\(cause))")
        }
        let effect: String
        switch instruction.subject {
        case .csr(let n, let reads, let writes):
            var parts: [String] = []
            let result = m.register(Int(SensitiveInstruction.rd))
            let after = m.readCSR(n)
            if reads {
                parts.append(result == before || isCounter(n) ? "returns the real \(instruction.name)"
                                                             : "returns 0x\(hex(result)) (the real \(instruction.name) is 0x\(hex(before ?? 0)))")
            }
            if writes {
                let privileged = reference(instruction)
                if after == privileged && privileged != before {
                    parts.append("writes the real \(instruction.name)")
                } else if after == before && privileged != before {
                    parts.append("the write is silently dropped")
                } else if after == before {
                    parts.append("no visible effect on \(instruction.name)")
                } else {
                    parts.append("writes \(instruction.name) differently from M-mode (0x\(hex(after ?? 0)), M-mode 0x\(hex(privileged ?? 0)))")
                }
            }
            effect = parts.joined(separator: "; ")
        case .sret, .mret, .wfi, .sfenceVMA:
            let next = base + 4
            var parts: [String] = []
            if m.privilege() != privilege || m.pc() != next {
                parts.append("moves the real hart to \(PopekGoldberg.modeName(m.privilege()))-mode at 0x\(hex(m.pc()))")
            }
            if m.runState(hart: 0) == .waitingForInterrupt { parts.append("stops the real hart until an interrupt") }
            if m.counters().tlb.fullFlushes != flushes { parts.append("flushes the real TLB") }
            effect = parts.isEmpty ? "executes as a no-op" : parts.joined(separator: "; ")
        }
        return PopekGoldbergRow(instruction, sensitive: sensitive, traps: false, cause: nil, effect: effect)
    }

    /// The CSR value the instruction leaves when executed with full privilege (M-mode): what the
    /// write means, to tell a real write from a dropped one.
    func reference(_ instruction: SensitiveInstruction) -> UInt64? {
        guard let n = instruction.csr else { return nil }
        prepare(instruction, privilege: .machine, holes: [])
        _ = machine.run(maxInstructions: 1)
        return machine.readCSR(n)
    }

    func isCounter(_ n: UInt16) -> Bool {
        n == RISCV.CSR.cycle || n == RISCV.CSR.time || n == RISCV.CSR.instret
            || n == RISCV.CSR.mcycle || n == RISCV.CSR.minstret
    }
}

private func hex(_ v: UInt64) -> String { String(v, radix: 16) }

extension PopekGoldberg {
    /// The privilege's letter: U, S or M.
    static func modeName(_ p: PrivilegeMode) -> String {
        switch p {
        case .user: "U"
        case .supervisor: "S"
        case .machine: "M"
        }
    }
}
