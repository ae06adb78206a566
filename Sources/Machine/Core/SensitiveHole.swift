// "Holes": sensitive instructions that, by choice of the lab, do NOT trap when executed with too
// little privilege. RISC-V has no such instruction (every access the privileged spec refuses
// raises illegal-instruction), so the machine can be made to behave like an architecture that
// fails Popek and Goldberg's condition. The holes are modelled on the x86 instructions Robin and
// Irvine list [RI00]: SMSW, SGDT, SIDT and PUSHF let ring 3 read privileged state (here: a
// deprivileged CSR read returns the real value), POPF in ring 3 silently ignores the interrupt
// flag (here: a deprivileged CSR write is dropped without a trap), and privileged returns and
// halts that would fault become no-ops.
//
// Only refusals for lack of privilege are holed: CSR privilege (address bits 9:8), mstatus.TVM for
// satp and sfence.vma, TSR for sret, TW for wfi, and mcounteren/scounteren for the counters
// (privileged spec, "Machine Status Registers (mstatus)", "Counter-Enable Registers"). A write to
// a read-only CSR, an access to a CSR that does not exist, and an FP CSR access with mstatus.FS
// Off still raise illegal-instruction: they are illegal at every privilege.
//
// The checks sit on the illegal-instruction paths only, so an empty set costs nothing on the
// paths that legal instructions take.

import RISCV

/// A sensitive instruction (or part of one) that executes without trapping when the hart's
/// privilege is too low for it. Set them with ``Machine/holes``.
public enum SensitiveHole: Hashable, Sendable {
    /// A CSR instruction that reads CSR `number` gets the real value instead of trapping, like
    /// x86's SMSW/SGDT/SIDT/PUSHF reading privileged state from ring 3. An instruction that also
    /// writes needs a `.csrWrite` hole for the same CSR too.
    case csrRead(UInt16)
    /// A CSR instruction that writes CSR `number` completes without trapping and without any
    /// effect on the CSR, like x86's POPF silently keeping IF in ring 3. If the instruction's
    /// result is observed (rd ≠ x0) it needs a `.csrRead` hole for the same CSR too.
    case csrWrite(UInt16)
    /// sret where it would trap (U-mode, or S-mode with mstatus.TSR) is a no-op.
    case sret
    /// mret below M-mode is a no-op.
    case mret
    /// wfi where it would trap (U-mode, or S-mode with mstatus.TW) is a no-op.
    case wfi
    /// sfence.vma where it would trap (U-mode, or S-mode with mstatus.TVM) is a no-op.
    case sfenceVMA

    /// Both holes for CSR `number`: reads leak the real value, writes are dropped.
    public static func csr(_ number: UInt16) -> Set<SensitiveHole> { [.csrRead(number), .csrWrite(number)] }

    /// The privileged instructions other than CSR accesses: sret, mret, wfi, sfence.vma.
    public static let privilegedInstructions: Set<SensitiveHole> = [.sret, .mret, .wfi, .sfenceVMA]

    /// The supervisor CSRs this machine implements (privileged spec, "Supervisor-Level CSRs").
    static let supervisorCSRNumbers: [UInt16] = [
        CSR.sstatus, CSR.sie, CSR.stvec, CSR.scounteren, CSR.senvcfg, CSR.sscratch, CSR.sepc,
        CSR.scause, CSR.stval, CSR.sip, CSR.satp,
    ]

    /// Reads and writes of every supervisor CSR: a guest kernel deprivileged to U-mode then runs
    /// its CSR code without a single trap, against the real registers.
    public static var supervisorCSRs: Set<SensitiveHole> {
        Set(supervisorCSRNumbers.flatMap { csr($0) })
    }

    /// The RISC-V counterparts of Robin and Irvine's x86 list [RI00]: reading sstatus (PUSHF,
    /// SMSW: the real interrupt-enable and previous-privilege bits), stvec (SIDT: where the real
    /// trap vector is) and satp (SGDT/SLDT: where the real address-space tables are), and writing
    /// sstatus with the write dropped (POPF, whose change of IF ring 3 silently ignores).
    public static let x86Like: Set<SensitiveHole> = [
        .csrRead(CSR.sstatus), .csrWrite(CSR.sstatus), .csrRead(CSR.stvec), .csrRead(CSR.satp),
    ]
}

extension SensitiveHole: CustomStringConvertible {
    /// `csr_read:sstatus`, `csr_write:satp` (a number in hex for an unnamed CSR), `sret`, `mret`,
    /// `wfi`, `sfence_vma`: the names `parse` reads.
    public var description: String {
        switch self {
        case .csrRead(let n): "csr_read:\(Self.csrName(n))"
        case .csrWrite(let n): "csr_write:\(Self.csrName(n))"
        case .sret: "sret"
        case .mret: "mret"
        case .wfi: "wfi"
        case .sfenceVMA: "sfence_vma"
        }
    }

    private static func csrName(_ n: UInt16) -> String { RISCV.CSR.name(n) ?? "0x\(String(n, radix: 16))" }

    /// The groups `parse` knows, by name.
    public static let groupNames = ["x86_like", "supervisor_csrs", "privileged_instructions"]

    /// Reads one hole or group by name, for scripts: a `description` (`csr_write:sstatus`,
    /// `csr_read:0x180`, `wfi`), `csr:NAME` for both holes of a CSR, or a group (`x86_like`,
    /// `supervisor_csrs`, `privileged_instructions`). Nil for anything else.
    public static func parse(_ text: String) -> Set<SensitiveHole>? {
        switch text {
        case "sret": return [.sret]
        case "mret": return [.mret]
        case "wfi": return [.wfi]
        case "sfence_vma": return [.sfenceVMA]
        case "x86_like": return x86Like
        case "supervisor_csrs": return supervisorCSRs
        case "privileged_instructions": return privilegedInstructions
        default: break
        }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let kind = text[..<colon], name = String(text[text.index(after: colon)...])
        let number: UInt16?
        if name.hasPrefix("0x") {
            number = UInt16(name.dropFirst(2), radix: 16).flatMap { $0 <= 0xFFF ? $0 : nil }
        } else {
            number = RISCV.CSR.number(name)
        }
        guard let n = number else { return nil }
        switch kind {
        case "csr_read": return [.csrRead(n)]
        case "csr_write": return [.csrWrite(n)]
        case "csr": return csr(n)
        default: return nil
        }
    }
}
