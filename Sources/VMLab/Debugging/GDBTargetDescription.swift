// The registers vmlab's GDB stub offers (GDB manual, "Target Descriptions" and "RISC-V Features"):
// the integer registers and pc (org.gnu.gdb.riscv.cpu), the float registers with fflags, frm and
// fcsr (org.gnu.gdb.riscv.fpu), the privilege level (org.gnu.gdb.riscv.virtual) and the trap and
// translation CSRs (org.gnu.gdb.riscv.csr). Numbers follow GDB's RISC-V numbering: x0–x31 are 0–31,
// pc 32, f0–f31 33–64, a CSR 65 + its number, priv 65 + 4096.

import RISCV

/// One register GDB may read or write by number.
enum GDBRegister: Equatable {
    case integer(Int)
    case pc
    case float(Int)
    case csr(UInt16)
    case privilege

    static let firstCSR = 65
    static let privilegeNumber = firstCSR + 4096

    init?(number: Int) {
        switch number {
        case 0..<32: self = .integer(number)
        case 32: self = .pc
        case 33..<65: self = .float(number - 33)
        case Self.privilegeNumber: self = .privilege
        case Self.firstCSR..<(Self.firstCSR + 4096): self = .csr(UInt16(number - Self.firstCSR))
        default: return nil
        }
    }

    /// Bytes in a register packet: fflags, frm and fcsr are 32-bit (as GDB's own description has
    /// them), everything else 64.
    var size: Int {
        if case .csr(let n) = self, n == CSR.fflags || n == CSR.frm || n == CSR.fcsr { return 4 }
        return 8
    }
}

enum GDBTargetDescription {
    /// The CSRs described beside the float ones: what a kernel's or firmware's trap handling and
    /// translation show (any other CSR can still be read as `$csrNNN`-numbered register by `p`).
    static let csrs: [UInt16] = [
        CSR.sstatus, CSR.sie, CSR.stvec, CSR.sscratch, CSR.sepc, CSR.scause, CSR.stval, CSR.sip, CSR.satp,
        CSR.mstatus, CSR.misa, CSR.medeleg, CSR.mideleg, CSR.mie, CSR.mtvec, CSR.mscratch, CSR.mepc,
        CSR.mcause, CSR.mtval, CSR.mip, CSR.mhartid, CSR.cycle, CSR.time, CSR.instret,
    ]

    static let xml: String = {
        var lines = [
            #"<?xml version="1.0"?>"#,
            #"<!DOCTYPE target SYSTEM "gdb-target.dtd">"#,
            #"<target version="1.0">"#,
            "<architecture>riscv:rv64</architecture>",
            #"<feature name="org.gnu.gdb.riscv.cpu">"#,
        ]
        for (i, name) in RegisterNames.integer.enumerated() {
            let type = i == 1 ? "code_ptr" : i == 2 ? "data_ptr" : "int"
            lines.append(#"<reg name="\#(name)" bitsize="64" type="\#(type)" regnum="\#(i)"/>"#)
        }
        lines.append(#"<reg name="pc" bitsize="64" type="code_ptr" regnum="32"/>"#)
        lines.append("</feature>")
        lines.append(#"<feature name="org.gnu.gdb.riscv.fpu">"#)
        for (i, name) in RegisterNames.floatingPoint.enumerated() {
            lines.append(#"<reg name="\#(name)" bitsize="64" type="ieee_double" regnum="\#(33 + i)"/>"#)
        }
        for (name, csr) in [("fflags", CSR.fflags), ("frm", CSR.frm), ("fcsr", CSR.fcsr)] {
            lines.append(#"<reg name="\#(name)" bitsize="32" type="int" regnum="\#(GDBRegister.firstCSR + Int(csr))"/>"#)
        }
        lines.append("</feature>")
        lines.append(#"<feature name="org.gnu.gdb.riscv.virtual">"#)
        lines.append(#"<reg name="priv" bitsize="64" type="int" regnum="\#(GDBRegister.privilegeNumber)"/>"#)
        lines.append("</feature>")
        lines.append(#"<feature name="org.gnu.gdb.riscv.csr">"#)
        for csr in csrs {
            let name = CSR.name(csr) ?? "csr\(csr)"
            lines.append(#"<reg name="\#(name)" bitsize="64" type="int" regnum="\#(GDBRegister.firstCSR + Int(csr))"/>"#)
        }
        lines.append("</feature>")
        lines.append("</target>")
        return lines.joined(separator: "\n") + "\n"
    }()
}
