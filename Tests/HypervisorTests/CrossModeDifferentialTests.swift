import Boot
import Machine
import RISCV
import Testing
@testable import Hypervisor

/// A guest kernel must not be able to tell how it is run. Random Sv39 page tables (random leaf
/// permissions and A/D bits, superpages, invalid and reserved entries), then random loads, stores,
/// AMOs and jumps through them with SUM and MXR toggled and entries rewritten on the way: every
/// mode must end with the same registers, the same log of the traps the kernel saw, and the same
/// memory (page tables included, so A/D updates count), under both A/D policies. Natively the
/// hart walks the tables; under trap and bt the VMM walks them in software and keeps shadows;
/// under hw the hart walks them in VS-mode, through the G stage or (shadow paging) on the VMM's
/// shadows, which keep the guest's U bits and leave U/S, SUM and MXR to the hardware.
/// (Differential fuzzing against Spike found that trap and bt ignored `adBits = .pageFault`.)
///
/// The same for the supervisor CSRs: random writes read back, under the VMM's virtual CSRs.
///
/// Twelve seeds of each run in the suite (a few seconds); 400 and 1000 agreed when this was
/// written.
@Suite struct CrossModeDifferentialTests {
    static let modes: [ExecutionMode] = [.native, .interpret, .trap, .bt, .hw]
    /// The modes compared with native, hw with both kinds of paging.
    static let others: [(mode: ExecutionMode, paging: HardwarePaging)] =
        modes.dropFirst().map { ($0, .nested) } + [(.hw, .shadow)]

    /// Guest-physical layout: the root table at DATA, then the level-1 table and two level-0
    /// tables, then the 32 pages the random leaves point at (each starts with a `ret`, so a jump
    /// that is allowed to execute there comes back).
    static let root: UInt64 = 0x8030_0000
    static let level1: UInt64 = root + 0x1000
    static let level0: [UInt64] = [root + 0x2000, root + 0x3000]
    static let pages: UInt64 = root + 0x1_0000
    static let pageCount: UInt64 = 32
    /// The random virtual addresses: root[1] covers 0x4000_0000 up.
    static let window: UInt64 = 0x4000_0000
    /// User mode runs the kernel's code here: root[3], RAM again with U set.
    static let userAlias: UInt64 = 0x4000_0000

    /// Both kernels start alike: full-size instructions only (the handler skips 4 bytes), their
    /// handler at `trap`, and the registers the results fold into cleared.
    static let prologue = """
            .option norvc
        _start:
            la t0, trap
            csrw stvec, t0
            li s9, 0
            li s10, 0
            li s11, 0
        """

    /// The random kernel for `seed`.
    static func kernel(seed: UInt64) -> String {
        var rng = HostileKernel.LCG(state: seed &* 0x9E37_79B9_7F4A_7C15 &+ 7)
        var body: [String] = []
        func store(_ value: UInt64, at address: UInt64) {
            body.append("    li t0, \(value)\n    li t1, \(address)\n    sd t0, 0(t1)")
        }
        func randomLeaf() -> UInt64 {
            let page = pages + (rng.next() % pageCount) * 0x1000
            // V always but now and then; R, W, X, U, G, A, D at random (W without R is reserved).
            var flags = rng.next() & 0xFE
            if rng.next() % 8 != 0 { flags |= 1 }
            if rng.next() % 2 == 0 { flags |= 2 }    // favour readable pages
            return (page >> 12) << 10 | flags
        }
        // The kernel itself and the tables: an identity gigapage at 0x8000_0000 (V R W X A D),
        // and the same RAM again at 0xC000_0000 for user mode (U set), where the random body runs
        // while it is in U-mode.
        store(UInt64(0x8_0000) << 10 | 0xCF, at: root + 2 * 8)
        store(UInt64(0x8_0000) << 10 | 0xDF, at: root + 3 * 8)
        store((level1 >> 12) << 10 | 1, at: root + 1 * 8)
        store((level0[0] >> 12) << 10 | 1, at: level1 + 0 * 8)
        store((level0[1] >> 12) << 10 | 1, at: level1 + 1 * 8)
        // l1[2]: a 2 MiB leaf, aligned (RAM's first megapage, which nothing executes from under
        // the built-in SBI) or misaligned (a fault); l1[3]: random bits.
        let superpage: UInt64 = rng.next() % 2 == 0 ? 0x8000_0000 : pages
        store((superpage >> 12) << 10 | (rng.next() & 0xFE) | 1, at: level1 + 2 * 8)
        store(rng.next() & 0x3FF, at: level1 + 3 * 8)
        for table in level0 {
            for i in 0..<UInt64(8) { store(randomLeaf(), at: table + i * 8) }
        }
        for p in 0..<pageCount { store(0x0000_8067, at: pages + p * 0x1000) }   // ret
        body.append("""
                li t0, 0x\(String(root >> 12 | 8 << 60, radix: 16))
                csrw satp, t0
                sfence.vma
            """)
        // Addresses: the 8 mapped pages of each level-0 table, the superpage, and l1[3]'s range.
        func randomAddress(aligned: UInt64) -> UInt64 {
            let region = rng.next() % 10
            let base: UInt64
            switch region {
            case 0..<4: base = window + (rng.next() % 8) * 0x1000                 // level0[0]
            case 4..<8: base = window + 0x20_0000 + (rng.next() % 8) * 0x1000    // level0[1]
            case 8: base = window + 0x40_0000 + (rng.next() % 512) * 0x1000      // the superpage
            default: base = window + 0x60_0000 + (rng.next() % 512) * 0x1000     // l1[3]
            }
            // Never the page's first 8 bytes, where its `ret` is.
            return base + (8 + rng.next() % 0xFF8) & ~(aligned - 1)
        }
        /// The start of a page mapped by a level-0 table (a `ret`, when it may be executed).
        func randomJumpTarget() -> UInt64 {
            window + (rng.next() % 2) * 0x20_0000 + (rng.next() % 8) * 0x1000
        }
        var user = false
        for _ in 0..<300 {
            let r = rng.next()
            switch r % 17 {
            case 16:
                // Into U-mode at the same code's user alias, or back (an ecall the handler turns
                // into a return to S-mode).
                body.append(user ? "    ecall" : """
                        la t0, 1f
                        li t1, \(userAlias)
                        add t0, t0, t1
                        csrw sepc, t0
                        li t0, 0x100
                        csrc sstatus, t0
                        sret
                    1:
                    """)
                user.toggle()
            case 0..<4:
                let (op, size) = [("ld", 8), ("lw", 4), ("lhu", 2), ("lbu", 1)][Int(r >> 8) % 4]
                body.append("    li a1, \(randomAddress(aligned: UInt64(size)))\n    \(op) a0, 0(a1)\n    call mix")
            case 4..<7:
                let (op, size) = [("sd", 8), ("sw", 4), ("sb", 1)][Int(r >> 8) % 3]
                body.append("    li a1, \(randomAddress(aligned: UInt64(size)))\n    li a0, \(rng.next())\n    \(op) a0, 0(a1)")
            case 7:
                body.append("    li a1, \(randomAddress(aligned: 8))\n    li a0, \(rng.next() % 1000)\n    amoadd.d a0, a0, (a1)\n    call mix")
            case 8:
                // A jump into a page: its `ret` comes back when it may execute.
                body.append("    li t2, \(randomJumpTarget())\n    jalr ra, 0(t2)")
            case 9:
                body.append("    li t0, \(1 << 18)\n    \(r & 256 == 0 ? "csrs" : "csrc") sstatus, t0")   // SUM
            case 10:
                body.append("    li t0, \(1 << 19)\n    \(r & 256 == 0 ? "csrs" : "csrc") sstatus, t0")   // MXR
            case 11:
                // A leaf rewritten (a store to a page-table page: traced under trap and bt).
                let table = level0[Int(r >> 8) % 2]
                store(randomLeaf(), at: table + (rng.next() % 8) * 8)
                body.append("    sfence.vma")
            default:
                let (op, size) = [("ld", 8), ("sd", 8), ("lw", 4), ("sh", 2)][Int(r >> 8) % 4]
                let a = randomAddress(aligned: UInt64(size))
                body.append(op.hasPrefix("s") ? "    li a1, \(a)\n    \(op) a1, 0(a1)" : "    li a1, \(a)\n    \(op) a0, 0(a1)\n    call mix")
            }
        }
        if user { body.append("    ecall") }
        return """
        \(prologue)
        \(body.joined(separator: "\n"))
            csrw satp, zero
            sfence.vma
        \(TestKernels.shutdown(0))
        # s9 folds in every loaded value.
        mix:
            slli s9, s9, 5
            add s9, s9, a0
            ret
        # s10/s11 fold in every trap's scause and stval; a fault on a fetch returns to ra, an
        # ecall from U-mode returns to S-mode after it (at the kernel's own address), any other
        # trap skips its instruction.
        .align 2
        trap:
            csrr t3, scause
            slli s10, s10, 3
            add s10, s10, t3
            csrr t3, stval
            slli s11, s11, 1
            xor s11, s11, t3
            csrr t3, scause
            li t4, 8
            beq t3, t4, 2f
            li t4, 12
            beq t3, t4, 1f
            li t4, 1
            beq t3, t4, 1f
            csrr t3, sepc
            addi t3, t3, 4
            csrw sepc, t3
            sret
        1:  csrw sepc, ra
            sret
        2:  csrr t3, sepc
            addi t3, t3, 4
            li t4, \(userAlias)
            sub t3, t3, t4
            csrw sepc, t3
            li t4, 0x100
            csrs sstatus, t4
            sret
        """
    }

    /// What a run leaves that the guest could have seen: registers, the pc where it stopped, and
    /// the tables and pages.
    struct Outcome: Equatable, CustomStringConvertible {
        var stop: StopReason
        var registers: [UInt64]
        var memory: [UInt8]
        /// The ecalls from U-mode the hart took (natively: the returns from the user stretches).
        var userEcalls: UInt64
        /// The supervisor software interrupts the hart took (natively: those `sip` made pending).
        var softwareInterrupts: UInt64
        var description: String {
            "\(stop), s9 \(registers[25]) s10 \(registers[26]) s11 \(registers[27])"
        }
    }

    /// Random writes (csrw, csrs, csrc, and their immediate forms) of random values to the
    /// supervisor CSRs a guest kernel owns, each read back into s9: the VMM's virtual CSRs must
    /// keep exactly the bits the hart's do (WARL), and a software interrupt made pending with
    /// `sip` must arrive where it does natively. stvec and satp stay put (the handler, and no
    /// translation); the handler returns to S-mode whatever SPP was written.
    static func csrKernel(seed: UInt64) -> String {
        var rng = HostileKernel.LCG(state: seed &* 0xD1B5_4A32_D192_ED03 &+ 11)
        let csrs = ["sstatus", "sie", "sscratch", "sepc", "scause", "stval", "sip", "scounteren", "senvcfg"]
        var body: [String] = []
        for _ in 0..<400 {
            let csr = csrs[Int(rng.next() % UInt64(csrs.count))]
            let value = rng.next() << 16 ^ rng.next()
            let op = ["csrw", "csrs", "csrc", "csrwi", "csrsi", "csrci"][Int(rng.next() % 6)]
            if op.hasSuffix("i") {
                body.append("    \(op) \(csr), \(value & 31)")
            } else {
                body.append("    li t0, 0x\(String(value, radix: 16))\n    \(op) \(csr), t0")
            }
            body.append("    csrr a0, \(csr)\n    call mix")
        }
        return """
        \(prologue)
        \(body.joined(separator: "\n"))
            csrw sie, zero
        \(TestKernels.shutdown(0))
        mix:
            slli t1, s9, 5
            srli s9, s9, 59
            or s9, s9, t1
            xor s9, s9, a0
            ret
        # s10 folds in every trap's scause; an interrupt (the software one, from sip) is cleared,
        # an exception skips its instruction; back to S-mode either way.
        .align 2
        trap:
            csrr t3, scause
            slli s10, s10, 3
            add s10, s10, t3
            bltz t3, 1f
            csrr t3, sepc
            addi t3, t3, 4
            csrw sepc, t3
            j 2f
        1:  csrci sip, 2
        2:  li t3, 0x100
            csrs sstatus, t3
            sret
        """
    }

    @Test(arguments: 0..<12)
    func supervisorCSRsKeepTheSameBitsInEveryMode(seed: Int) throws {
        let kernel = Self.csrKernel(seed: UInt64(seed))
        let native = try Self.run(kernel, mode: .native)
        #expect(native.stop == .poweredOff(code: 0), "seed \(seed): \(native.stop)")
        // Natively the software interrupt made pending through sip is taken now and then.
        #expect(native.softwareInterrupts > 0, "seed \(seed): no interrupt taken")
        // pv too: its kernel runs in S-mode on the hart, and these CSRs do not trap there.
        for (mode, paging) in Self.others + [(.pv, .nested)] {
            let other = try Self.run(kernel, mode: mode, paging: paging)
            #expect(other.stop == native.stop, "seed \(seed), \(mode)")
            #expect(other.registers == native.registers, "seed \(seed), \(mode): \(other) against \(native)")
        }
    }

    /// Runs kernel `source` under `mode` to its end and collects what the guest could have seen.
    static func run(_ source: String, mode: ExecutionMode, paging: HardwarePaging = .nested,
                    adBits: ADBitPolicy = .hardwareUpdate) throws -> Outcome {
        var configuration = try TestKernels.configuration(source, mode: mode)
        configuration.board.machine.adBits = adBits
        configuration.hardwarePolicy.paging = paging
        let guest = try Guest(configuration)
        defer { guest.close() }
        let stop = guest.run(maxInstructions: 2_000_000)
        let registers = (0..<32).map { guest.machine.register($0, hart: 0) }
        guard case .success(let memory) = guest.readMemory(root, count: Int(pages - root + pageCount * 0x1000)) else {
            Issue.record("\(mode): the tables cannot be read")
            return Outcome(stop: stop, registers: registers, memory: [], userEcalls: 0, softwareInterrupts: 0)
        }
        let counters = guest.machine.counters(hart: 0)
        return Outcome(stop: stop, registers: registers, memory: memory,
                       userEcalls: counters.exceptions[Int(ExceptionCause.ecallU.rawValue)],
                       softwareInterrupts: counters.interrupts[Int(InterruptCause.supervisorSoftware.rawValue)])
    }

    @Test(arguments: 0..<12)
    func everyModeEndsAsNatively(seed: Int) throws {
        for adBits in [ADBitPolicy.hardwareUpdate, .pageFault] {
            let kernel = Self.kernel(seed: UInt64(seed))
            let native = try Self.run(kernel, mode: .native, adBits: adBits)
            #expect(native.stop == .poweredOff(code: 0), "seed \(seed): \(native.stop)")
            // The run took traps (most loads read zeros, so s9 may stay 0) and ran stretches in U-mode.
            #expect(native.registers[26] != 0, "seed \(seed): \(native)")
            #expect(native.userEcalls > 0, "seed \(seed): no stretch in U-mode")
            for (mode, paging) in Self.others {
                let other = try Self.run(kernel, mode: mode, paging: paging, adBits: adBits)
                let name = mode == .hw ? "hw (\(paging))" : "\(mode)"
                #expect(other.stop == native.stop, "seed \(seed), \(name), \(adBits)")
                #expect(other.registers == native.registers, "seed \(seed), \(name), \(adBits): \(other) against native \(native)")
                if let i = other.memory.indices.first(where: { other.memory[$0] != native.memory[$0] }) {
                    Issue.record("seed \(seed), \(name), \(adBits): memory differs first at 0x\(String(Self.root + UInt64(i), radix: 16))")
                }
            }
        }
    }
}
