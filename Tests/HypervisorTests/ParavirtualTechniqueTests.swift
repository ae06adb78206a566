// The para-virtual technique on a running S-mode kernel: hypercalls through `ecall`, TVM/TW
// emulation of what the kernel still does unmodified, reflection of other illegal instructions,
// and PMP confinement.
import Boot
import Machine
import RISCV
import Testing
@testable import Hypervisor

@Suite struct ParavirtualTechniqueTests {
    static let pvMacros = """
        .equ PV, 0x0A564D4C
        .equ ROOT, 0x80300000
        .equ LIST, 0x80310000
    """

    /// A hypercall: a6 = number; arguments already in a0...
    static func hypercall(_ number: Hypercall) -> String {
        "    li a7, PV\n    li a6, \(number.rawValue)\n    ecall\n"
    }

    /// A board running `source` with the para-virtual VMM installed as `ParavirtualTechnique`
    /// installs it (the guest-level test does the same through `Guest`).
    static func pvBoard(_ source: String, policy: ParavirtualPolicy = ParavirtualPolicy()) throws -> (VirtBoard, ParavirtualDomain) {
        let board = try VirtBoard(TestKernels.board(pvMacros + "\n" + source))
        let domain = ParavirtualDomain(id: 1, machine: board.machine, firmware: board.firmware?.sbi,
                                       console: board.console, policy: policy)
        board.machine.trapHandler = ParavirtualTrapHandler(domain: domain, firmware: board.firmware)
        ParavirtualTechnique.deprivilege(board.machine, hart: 0, policy: policy)
        return (board, domain)
    }

    static let kernel = """
    _start:
        la t0, trap
        csrw stvec, t0
        la a0, msg
        li a1, 3
    \(hypercall(.consoleWrite))
        bnez a0, fail
        li a0, ROOT
    \(hypercall(.pinTable))
        bnez a0, fail
        # root[2] = a RAM gigapage for the kernel (RWX, global), through one mmu_update.
        li t0, LIST
        li t1, ROOT + 16
        sd t1, 0(t0)
        li t1, 0x200000EF          # PPN 0x80000 << 10 | D A G X W R V
        sd t1, 8(t0)
        # root[3] = a gigapage above RAM: not the VM's, refused.
        li t1, ROOT + 24
        sd t1, 16(t0)
        li t1, 0x300000E3          # PPN 0xC0000 << 10 | D A R V
        sd t1, 24(t0)
        li a0, LIST
        li a1, 1
    \(hypercall(.mmuUpdate))
        bnez a0, fail
        li a0, LIST + 16
        li a1, 1
    \(hypercall(.mmuUpdate))
        li t0, -5                  # invalid_address
        bne a0, t0, fail
        li a0, 0x8000000000080300  # Sv39, root ROOT
        li a1, 1
    \(hypercall(.setSATP))
        bnez a0, fail
        csrr t1, satp              # TVM: trapped and emulated
        li t0, 0x8000000000080300
        bne t1, t0, fail
        sfence.vma                 # TVM: emulated
        li t0, 0x20
        csrw sie, t0               # STIE; sstatus.SIE stays clear, so wfi wakes without a trap
        csrr a0, time
        addi a0, a0, 100
        li a7, TIME
        li a6, 0
        ecall
        wfi                        # TW: emulated; the vCPU sleeps until the timer is pending
        .word 0                    # illegal: reflected to the trap handler below
        li t0, 1
        bne s5, t0, fail
        la a0, ok
        li a1, 3
    \(hypercall(.consoleWrite))
    \(TestKernels.shutdown(0))
    fail:
    \(TestKernels.shutdown(1))
    .align 2
    trap:
        csrr t0, scause
        li t1, 2
        bne t0, t1, fail
        addi s5, s5, 1
        csrr t0, sepc
        addi t0, t0, 4
        csrw sepc, t0
        sret
    msg: .ascii "pv\\n"
    ok: .ascii "ok\\n"
    """

    @Test func aKernelRunsThroughHypercallsAndEmulation() throws {
        let (board, domain) = try Self.pvBoard(Self.kernel)
        let stop = board.run(maxInstructions: 100_000)
        #expect(stop == .poweredOff(code: 0))
        #expect(board.console.text == "pv\nok\n")
        #expect(domain.emulated["satp_read"] == 1)
        #expect(domain.emulated["sfence_vma"] == 1)
        #expect(domain.emulated["wfi"] == 1)
        #expect(domain.reflected == 1)
        #expect(domain.errors["mmu_update.invalid_address"] == 1)
        #expect(domain.updatesApplied == 1)
        #expect(domain.calls["console_write"] == 2)
        #expect(domain.calls["set_satp"] == 1)
        #expect(board.machine.readCSR(RISCV.CSR.satp) == 0x8000_0000_0008_0300)
        // The SBI shutdown went to the firmware, not the hypercall handler.
        #expect(board.firmware?.sbi.callsByExtension["SRST"] == 1)
    }

    @Test func pmpConfinesTheKernelToItsMemory() throws {
        // A load beyond RAM: an access fault (delegated) instead of a read of anything.
        let source = """
        _start:
            la t0, trap
            csrw stvec, t0
            li t0, 0x80400000
            ld t1, 0(t0)
        \(TestKernels.shutdown(0))
        .align 2
        trap:
            csrr t0, scause
            li t1, 5
            bne t0, t1, 1f
        \(TestKernels.print("A"))
        1:
        \(TestKernels.shutdown(1))
        """
        let (board, _) = try Self.pvBoard(source)
        // Entry 0: TOR up to RAM, R+W (devices, never code); entry 1: TOR up to RAM's end, RWX.
        #expect(board.machine.readCSR(0x3A0) == 0x0B | 0x0F << 8)
        #expect(board.machine.readCSR(0x3B0) == 0x8000_0000 >> 2)
        #expect(board.machine.readCSR(0x3B1) == 0x8040_0000 >> 2)
        #expect(board.run(maxInstructions: 10_000) == .poweredOff(code: 1))
        #expect(board.console.text == "A")
    }

    @Test func aForgottenSatpWriteToAnUnvalidatedRootIsTheKernelsIllegalInstruction() throws {
        let source = """
        _start:
            la t0, trap
            csrw stvec, t0
            li t0, 0x8000000000080300
            csrw satp, t0
        \(TestKernels.shutdown(0))
        .align 2
        trap:
        \(TestKernels.print("T"))
        \(TestKernels.shutdown(1))
        """
        let (board, domain) = try Self.pvBoard(source)
        #expect(board.run(maxInstructions: 10_000) == .poweredOff(code: 1))
        #expect(board.console.text == "T")
        #expect(domain.emulated["satp_write"] == 1)
        #expect(domain.reflected == 1)
        #expect(board.machine.readCSR(RISCV.CSR.satp) == 0)
    }
}
