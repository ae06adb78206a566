import Testing
import Machine
import RISCV
@testable import Hypervisor

// The Popek–Goldberg checker: the catalogue covers the ISA's sensitive instructions, and executing
// them under each CPU configuration gives the facts the privileged spec implies ("Virtualization
// Support in mstatus Register", "Counter-Enable Registers") and [PG74]'s verdict.

@Suite struct PopekGoldbergTests {
    static let catalogue = SensitiveInstruction.catalogue()

    // MARK: the catalogue

    @Test func catalogueCoversEverySupervisorAndMachineCSRTheMachineHas() {
        let probe = Machine(SensitiveInstruction.scratchConfiguration)
        let names = Set(Self.catalogue.map(\.name))
        for (n, name) in RISCV.CSR.all {
            let level = RISCV.CSR.minimumPrivilege(n)
            guard level == .supervisor || level == .machine else { continue }
            let implemented = !RISCV.CSR.isRV32Only(n) && probe.readCSR(n) != nil
            #expect(names.contains(name) == implemented, "\(name)")
        }
        for name in ["sstatus", "satp", "mstatus", "pmpaddr63", "pmpcfg14", "mhpmevent31", "mhartid",
                     "cycle", "time", "instret", "sret", "mret", "wfi", "sfence.vma"] {
            #expect(names.contains(name), "\(name)")
        }
        for name in ["hstatus", "pmpcfg1", "mstatush", "vsatp", "dcsr", "fcsr"] {
            #expect(!names.contains(name), "\(name) is not an RV64 S/M CSR of this machine")
        }
    }

    @Test func everyCSRHasItsFormsAndClasses() {
        let byCSR = Dictionary(grouping: Self.catalogue.filter { $0.csr != nil }, by: { $0.csr! })
        for (n, forms) in byCSR {
            #expect(forms.count == (RISCV.CSR.isReadOnly(n) ? 4 : 13), "\(forms[0].name)")
            for f in forms {
                guard case .csr(_, let reads, let writes) = f.subject else { continue }
                #expect(f.sensitivity == (writes ? .control : .behaviour), "\(f.text)")
                #expect(reads || writes)
                // The encoding is the text: decoding it gives the same instruction back.
                #expect(Disassembler.disassemble(Decoder.decode(f.encoding), style: .aliases) == f.text)
            }
        }
        #expect(Set(Self.catalogue.map(\.text)).count == Self.catalogue.count, "no instruction twice")
        let texts = Self.catalogue.map(\.text)
        for t in ["csrr t0, sstatus", "csrw sstatus, t1", "csrrwi t0, satp, 31", "rdtime t0", "sret", "sfence.vma"] {
            #expect(texts.contains(t), "\(t)")
        }
    }

    // MARK: verdicts under each configuration

    @Test func trapAndEmulateGuestInUserModeIsVirtualisable() {
        let report = PopekGoldberg.check(.trapAndEmulate)
        #expect(report.rows.count == Self.catalogue.count)
        #expect(report.rows.allSatisfy { $0.sensitive && $0.traps && $0.cause == "illegal_instruction" })
        #expect(report.isClassicallyVirtualisable)
        #expect(report.summary == "classically virtualisable: yes (all \(Self.catalogue.count) sensitive instructions trap)")
    }

    @Test func supervisorGuestWithTVMTSRTWIsVirtualisable() throws {
        let report = PopekGoldberg.check(.supervisorGuest)
        #expect(report.isClassicallyVirtualisable, "\(report.summary)")
        // The VM's own supervisor registers run directly: not sensitive for an S-mode guest.
        let sstatus = try #require(report.row("csrw sstatus, t1"))
        #expect(sstatus.verdict == .guestState && !sstatus.traps && sstatus.effect == "writes the real sstatus")
        for text in ["csrr t0, satp", "csrw satp, t1", "sfence.vma", "sret", "wfi", "mret", "csrr t0, mstatus", "rdcycle t0"] {
            let row = try #require(report.row(text))
            #expect(row.sensitive && row.traps && row.cause == "illegal_instruction", "\(text)")
        }
    }

    @Test func withoutTVMSatpAndSfenceDoNotTrapFromS() {
        var c = PopekGoldbergConfiguration.supervisorGuest
        c.tvm = false
        let report = PopekGoldberg.check(c)
        #expect(!report.isClassicallyVirtualisable)
        let bad = report.violations
        #expect(bad.count == 14)
        #expect(bad.allSatisfy { $0.name == "satp" || $0.name == "sfence.vma" })
        #expect(report.row("csrw satp, t1")?.effect == "writes the real satp")
        #expect(report.row("csrr t0, satp")?.effect == "returns the real satp")
        #expect(report.row("sfence.vma")?.effect == "flushes the real TLB")
        #expect(report.summary.hasPrefix("classically virtualisable: no (14 sensitive instructions do not trap: csrr t0, satp; "))
    }

    @Test func withoutTSRAndTWSretAndWfiRunOnTheRealHart() {
        let report = PopekGoldberg.check(PopekGoldbergConfiguration(guestPrivilege: .supervisor, tvm: true))
        #expect(report.violations.map(\.instruction) == ["sret", "wfi"])
        // sret goes where the real sstatus.SPP (U) and sepc (0x8000_3000 in the scratch state) say.
        #expect(report.row("sret")?.effect == "moves the real hart to U-mode at 0x80003000")
        #expect(report.row("wfi")?.effect == "stops the real hart until an interrupt")
        #expect(report.row("mret")?.traps == true, "mret traps below M whatever the bits")
    }

    @Test func aHoleForSstatusWritesBreaksVirtualisability() throws {
        let report = PopekGoldberg.check(PopekGoldbergConfiguration(holes: [.csrWrite(RISCV.CSR.sstatus)]))
        #expect(!report.isClassicallyVirtualisable)
        #expect(report.violations.map(\.instruction) == ["csrw sstatus, t1", "csrs sstatus, t1", "csrc sstatus, t1"])
        let row = try #require(report.row("csrw sstatus, t1"))
        #expect(!row.traps && row.cause == nil && row.verdict == .violation && row.sensitivity == .control)
        #expect(row.effect == "the write is silently dropped")
        #expect(report.row("csrrw t0, sstatus, t1")?.traps == true, "an observed read needs a read hole too")
        #expect(report.summary == "classically virtualisable: no (3 sensitive instructions do not trap: csrw sstatus, t1; csrs sstatus, t1; csrc sstatus, t1)")
    }

    @Test func readHolesLeakAndInstructionHolesAreNoOps() {
        let holes = SensitiveHole.privilegedInstructions.union([.csrRead(RISCV.CSR.satp)])
        let report = PopekGoldberg.check(PopekGoldbergConfiguration(holes: holes))
        #expect(report.row("csrr t0, satp")?.effect == "returns the real satp")
        for text in ["sret", "mret", "wfi", "sfence.vma"] {
            #expect(report.row(text)?.effect == "executes as a no-op", "\(text)")
        }
        #expect(report.violations.count == 8)
    }

    @Test func countersAllowedMakeRdtimeANonTrappingBehaviourSensitiveInstruction() throws {
        let open = PopekGoldberg.check(PopekGoldbergConfiguration(mcounteren: 7, scounteren: 7))
        let rdtime = try #require(open.row("rdtime t0"))
        #expect(rdtime.sensitivity == .behaviour && !rdtime.traps && rdtime.verdict == .violation)
        #expect(rdtime.effect == "returns the real time")
        #expect(open.violations.count == 12, "the four read forms of cycle, time and instret")
        // U-mode needs both enables: mcounteren alone still traps.
        #expect(PopekGoldberg.check(PopekGoldbergConfiguration(mcounteren: 7)).isClassicallyVirtualisable)
        // An S-mode guest needs only mcounteren; time alone opens only time.
        let s = PopekGoldberg.check(PopekGoldbergConfiguration(guestPrivilege: .supervisor, tvm: true, tsr: true, tw: true,
                                                               mcounteren: 2))
        #expect(Set(s.violations.map(\.name)) == ["time"])
    }

    @Test func configurationDescription() {
        let c = PopekGoldbergConfiguration(guestPrivilege: .supervisor, tvm: true, mcounteren: 2, holes: [.sret, .wfi])
        #expect(PopekGoldberg.check(c).configurationDescription
                == "guest kernel in S-mode; TVM on, TSR off, TW off; mcounteren 0x2, scounteren 0x0; holes: sret, wfi")
    }

    @Test func configurationFromAMachine() {
        let m = Machine(SensitiveInstruction.scratchConfiguration)
        m.writeCSR(RISCV.CSR.mstatus, (1 << 20) | (1 << 22))
        m.writeCSR(RISCV.CSR.mcounteren, 5)
        m.holes = SensitiveHole.x86Like
        let c = PopekGoldbergConfiguration(machine: m, guestPrivilege: .supervisor)
        #expect(c == PopekGoldbergConfiguration(guestPrivilege: .supervisor, tvm: true, tsr: true, tw: false,
                                                mcounteren: 5, scounteren: 0, holes: SensitiveHole.x86Like))
    }

    @Test func groupedTableCondensesFamilies() {
        let table = PopekGoldberg.check().groupedTable
        #expect(table.contains("| `pmpaddr0`…`pmpaddr63` | all 9 write forms | control | yes | traps (illegal_instruction) | traps |"))
        #expect(table.contains("| `mhartid` | all 4 read forms | behaviour | yes | traps (illegal_instruction) | traps |"))
        #expect(table.contains("| `sret` | — | control | yes | traps (illegal_instruction) | traps |"))
        let hole = PopekGoldberg.check(PopekGoldbergConfiguration(holes: [.csrWrite(RISCV.CSR.sstatus)])).groupedTable
        #expect(hole.contains("| `sstatus` | `csrw csr, t1` | control | no | the write is silently dropped | does not trap |"))
        let violations = PopekGoldberg.check(PopekGoldbergConfiguration(holes: [.csrWrite(RISCV.CSR.sstatus)]))
            .groupedTable(verdicts: [.violation])
        #expect(violations.split(separator: "\n").count == 3, "header and one line for the three dropped writes")
        #expect(violations.contains("| `sstatus` | `csrw csr, t1`, `csrs csr, t1`, `csrc csr, t1` | control | no | the write is silently dropped | does not trap |"))
    }
}
