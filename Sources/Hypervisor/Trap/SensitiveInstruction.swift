// The catalogue of RV64's sensitive instructions, the input of the Popek–Goldberg checker
// (PopekGoldberg.swift). In Popek and Goldberg's terms [PG74] an instruction is
// *control-sensitive* when it changes the configuration of the real machine (its privilege mode,
// memory map, trap and interrupt set-up), and *behaviour-sensitive* when what it does depends on
// that configuration, so that a guest would see the real machine instead of its virtual one.
//
// On RISC-V without the H extension the sensitive instructions are (privileged spec, "CSR
// Listing", "Privileged Instructions"; unprivileged spec, "Zicsr", "Zicntr"):
// - every CSR instruction on a supervisor- or machine-level CSR: a write form (anything that may
//   write: csrrw/csrrwi always, csrrs/csrrc/csrrsi/csrrci with a non-zero source) is
//   control-sensitive, a read-only form (csrrs/csrrc with x0, csrrsi/csrrci with 0) is
//   behaviour-sensitive: it reveals the real register;
// - the unprivileged counters cycle, time and instret: behaviour-sensitive, they reveal real time
//   (a guest that measures itself sees the VMM's work). They are read-only;
// - sret and mret (change the privilege mode and pc), wfi (stops the real hart), sfence.vma
//   (changes the real TLB): control-sensitive.
//
// The catalogue lists only the CSRs a scratch `Machine` implements (so the list follows the
// machine), taking names and numbers from RISCV's CSR table, in address order within a level. Read-only CSRs (address bits 11:10 =
// 0b11) appear with their read forms only: a write to them is illegal at every privilege.

import Machine
import RISCV

/// Popek and Goldberg's two kinds of sensitive instruction [PG74].
public enum SensitivityClass: String, Sendable, CaseIterable {
    /// Changes the configuration of the real machine's resources.
    case control
    /// Behaves according to the real machine's configuration (and so reveals it).
    case behaviour
}

/// One sensitive instruction of the catalogue, with the encoding the checker executes.
public struct SensitiveInstruction: Sendable, Hashable {
    /// What the instruction touches; the checker observes its effect accordingly.
    public enum Subject: Sendable, Hashable {
        /// A CSR instruction on CSR `number`, which reads it (`reads`: the result reaches a
        /// register, or it is a read-only form) and/or writes it.
        case csr(number: UInt16, reads: Bool, writes: Bool)
        case sret, mret, wfi, sfenceVMA
    }

    /// The assembly text (the disassembler's, with its standard aliases: `csrr t0, sstatus`).
    public let text: String
    /// The 32-bit encoding executed by the checker.
    public let encoding: UInt32
    public let subject: Subject
    public let sensitivity: SensitivityClass
    /// One line: why the instruction is sensitive.
    public let reason: String
    /// The CSR name, or the mnemonic for the other privileged instructions.
    public let name: String
    /// The instruction's opcode (`csrrw`, `sret`...).
    public let opcode: Opcode

    /// The CSR number for a CSR instruction.
    public var csr: UInt16? {
        if case .csr(let n, _, _) = subject { return n }
        return nil
    }
}

extension SensitiveInstruction {
    /// Register numbers the catalogue uses: results go to t0, sources come from t1.
    static let rd: UInt8 = 5, rs1: UInt8 = 6
    /// The immediate of the write forms of csrrwi/csrrsi/csrrci (all five bits set).
    static let zimm: UInt8 = 31

    /// The catalogue for the CSRs that exist in a machine built from `configuration`: supervisor
    /// CSRs, machine CSRs, the counters cycle/time/instret, then sret, mret, wfi, sfence.vma.
    public static func catalogue(_ configuration: MachineConfiguration = scratchConfiguration) -> [SensitiveInstruction] {
        let probe = Machine(configuration)
        let exists = { (n: UInt16) in probe.readCSR(n) != nil }
        var list: [SensitiveInstruction] = []
        for level in [CSRPrivilege.supervisor, .machine] {
            let csrs = RISCV.CSR.all.filter {
                RISCV.CSR.minimumPrivilege($0.number) == level && !RISCV.CSR.isRV32Only($0.number) && exists($0.number)
            }
            for (n, name) in csrs.sorted(by: { $0.number < $1.number }) {
                list += csrForms(n, name: name, purpose: purpose(of: name), counter: false)
            }
        }
        for n in [RISCV.CSR.cycle, RISCV.CSR.time, RISCV.CSR.instret] where exists(n) {
            let name = RISCV.CSR.name(n) ?? "0x\(String(n, radix: 16))"
            list += csrForms(n, name: name, purpose: purpose(of: name), counter: true)
        }
        list.append(plain(.sret, .sret, "sret", "returns from a supervisor trap: changes the real privilege mode, pc and sstatus.SIE"))
        list.append(plain(.mret, .mret, "mret", "returns from a machine trap: changes the real privilege mode, pc and mstatus"))
        list.append(plain(.wfi, .wfi, "wfi", "stops the real hart until an interrupt: the VMM's processor, not the guest's"))
        list.append(plain(.sfence_vma, .sfenceVMA, "sfence.vma", "flushes the real TLB: the translation state the VMM's memory map depends on"))
        return list
    }

    /// A small machine, enough to execute one instruction: the checker's scratch machine.
    public static var scratchConfiguration: MachineConfiguration {
        var c = MachineConfiguration()
        c.ramSize = 1 << 20
        return c
    }

    private static func plain(_ opcode: Opcode, _ subject: Subject, _ name: String, _ reason: String) -> SensitiveInstruction {
        let inst = Instruction(opcode: opcode)
        return SensitiveInstruction(text: Disassembler.disassemble(inst, style: .aliases), encoding: Encoder.encode(inst),
                                    subject: subject, sensitivity: .control, reason: reason, name: name, opcode: opcode)
    }

    /// The forms of a CSR instruction on CSR `n`: four read-only forms, and (unless the CSR is
    /// read-only) nine write forms, with and without an observed result.
    private static func csrForms(_ n: UInt16, name: String, purpose: String, counter: Bool) -> [SensitiveInstruction] {
        typealias Form = (opcode: Opcode, rd: UInt8, source: UInt8)
        let reads: [Form] = [(.csrrs, rd, 0), (.csrrc, rd, 0), (.csrrsi, rd, 0), (.csrrci, rd, 0)]
        let writes: [Form] = [(.csrrw, rd, rs1), (.csrrw, 0, rs1), (.csrrs, rd, rs1), (.csrrs, 0, rs1),
                              (.csrrc, rd, rs1), (.csrrc, 0, rs1),
                              (.csrrwi, rd, zimm), (.csrrsi, rd, zimm), (.csrrci, rd, zimm)]
        var out: [SensitiveInstruction] = []
        for form in reads + (RISCV.CSR.isReadOnly(n) ? [] : writes) {
            let inst = Instruction(opcode: form.opcode, rd: form.rd, rs1: form.source, imm: Int32(n))
            let writesCSR = form.source != 0
            let sensitivity: SensitivityClass = writesCSR ? .control : .behaviour
            let reason: String
            if counter {
                reason = "reads \(name), \(purpose): a guest sees real time, the VMM's work included"
            } else if writesCSR {
                reason = "writes \(name), \(purpose): changes the real machine's configuration"
            } else {
                reason = "reads \(name), \(purpose): the result is the real machine's, not the virtual one's"
            }
            out.append(SensitiveInstruction(
                text: Disassembler.disassemble(inst, style: .aliases), encoding: Encoder.encode(inst),
                subject: .csr(number: n, reads: form.rd != 0 || !writesCSR, writes: writesCSR),
                sensitivity: sensitivity, reason: reason, name: name, opcode: form.opcode))
        }
        return out
    }

    /// What a CSR holds, in a few words (privileged spec, the CSR's own section).
    static func purpose(of name: String) -> String {
        switch name {
        case "sstatus": return "the supervisor status (interrupt enable, previous privilege, SUM, MXR)"
        case "sie": return "the supervisor interrupt enables"
        case "stvec": return "the supervisor trap vector"
        case "scounteren": return "the counters U-mode may read"
        case "senvcfg": return "the U-mode environment configuration"
        case "sscratch": return "the supervisor trap handler's scratch register"
        case "sepc": return "the supervisor exception pc"
        case "scause": return "the supervisor trap cause"
        case "stval": return "the supervisor trap value"
        case "sip": return "the supervisor interrupts pending"
        case "satp": return "the address-translation mode, ASID and page-table root"
        case "mvendorid", "marchid", "mimpid": return "the real implementation's identity"
        case "mhartid": return "the physical hart number"
        case "mconfigptr": return "the platform configuration pointer"
        case "mstatus": return "the machine status (interrupt enables, privilege stack, TVM/TW/TSR)"
        case "misa": return "the implemented ISA"
        case "medeleg": return "which exceptions go to S-mode"
        case "mideleg": return "which interrupts go to S-mode"
        case "mie": return "the interrupt enables"
        case "mtvec": return "the machine trap vector"
        case "mcounteren": return "the counters S-mode may read"
        case "menvcfg": return "the S-mode environment configuration"
        case "mcountinhibit": return "which counters stop"
        case "mscratch": return "the machine trap handler's scratch register"
        case "mepc": return "the machine exception pc"
        case "mcause": return "the machine trap cause"
        case "mtval": return "the machine trap value"
        case "mip": return "the interrupts pending"
        case "mcycle", "minstret": return "a machine counter"
        case "cycle": return "the real cycle count"
        case "time": return "the real time (mtime)"
        case "instret": return "the real count of retired instructions"
        default:
            if name.hasPrefix("pmpcfg") { return "physical memory protection configuration" }
            if name.hasPrefix("pmpaddr") { return "a physical memory protection address" }
            if name.hasPrefix("mhpmcounter") { return "a machine performance counter" }
            if name.hasPrefix("mhpmevent") { return "a performance counter's event selector" }
            return "a privileged register"
        }
    }
}
