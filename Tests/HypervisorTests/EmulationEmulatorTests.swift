import Testing
import Machine
import RISCV
@testable import Hypervisor

// Privileged instructions of a deprivileged guest kernel, emulated (privileged spec, "Supervisor
// Instructions"; unprivileged spec, "Zicsr"). Each guest starts in its virtual S-mode and ends with
// the SBI shutdown call (a7 = 8).
@Suite struct EmulationEmulatorTests {
    static let shutdown = "li a7, 8\n li a0, 0\n ecall\n"

    @Test func csrForms() throws {
        let vmm = try MiniVMM("""
            li t0, 0x80001000
            csrw stvec, t0
            csrr s0, stvec
            csrwi sscratch, 5
            csrrsi s1, sscratch, 2      # reads 5, writes 7
            csrrci s2, sscratch, 1      # reads 7, writes 6
            csrr s3, sscratch
            li t1, 0x30
            csrrw s4, sscratch, t1      # swap
            csrrc s5, sscratch, t1      # reads 0x30, writes 0
            csrr s6, sscratch
            li t2, -1
            csrw sstatus, t2
            csrr s7, sstatus
            mv s8, t2
            csrrw s8, sepc, s8          # rd == rs1: the old value lands, the operand was read first
            csrr s9, sepc
            \(Self.shutdown)
            """)
        #expect(vmm.run() == .hostStop("shutdown"))
        #expect(vmm.x(8) == 0x8000_1000)
        #expect(vmm.x(9) == 5 && vmm.x(18) == 7 && vmm.x(19) == 6)
        #expect(vmm.x(20) == 6 && vmm.x(21) == 0x30 && vmm.x(22) == 0)
        #expect(vmm.x(23) & SupervisorBits.sstatusWritable == SupervisorBits.sstatusWritable)
        #expect(vmm.x(24) == 0, "old sepc")
        #expect(vmm.x(25) == ~UInt64(1), "sepc bit 0 reads zero")
        #expect(vmm.reflected.isEmpty)
        #expect(vmm.exitCode == 0)
    }

    @Test func readOnlyCounterRules() throws {
        // csrrs with rs1 = x0 reads a read-only CSR; csrrs with any other rs1 (even holding zero) writes it → illegal.
        let vmm = try MiniVMM("""
            la t0, handler
            csrw stvec, t0
            csrrs s0, cycle, x0
            li a1, 0
            csrrs s1, cycle, a1
            li s2, 0x77
            \(Self.shutdown)
            .align 2
            handler:
            csrr s3, scause
            csrr s4, stval
            csrr t0, sepc
            addi t0, t0, 4
            csrw sepc, t0
            sret
            """)
        #expect(vmm.run() == .hostStop("shutdown"))
        #expect(vmm.reflected == [.exception(.illegalInstruction, tval: 0xC005_A4F3)])
        #expect(vmm.x(19) == 2, "scause = illegal instruction")
        #expect(vmm.x(20) == 0xC005_A4F3, "stval holds the instruction")
        #expect(vmm.x(18) == 0x77, "execution resumed after the handler")
    }

    @Test func userModeRoundTripWithEcallAndIllegalCSR() throws {
        let vmm = try MiniVMM("""
            la t0, handler
            csrw stvec, t0
            la t0, user
            csrw sepc, t0
            li t0, 0x100            # SPP
            csrc sstatus, t0
            li t0, 0x2               # SIE: sret must move SPIE (0) into it
            csrs sstatus, t0
            li t0, 0x20
            csrs sstatus, t0         # SPIE = 1 so user mode runs with SIE = 1
            li s0, 0
            sret
            user:
            li a0, 42
            ecall                    # a system call: reflected to the guest kernel as ecall_u
            csrr a1, sstatus         # illegal in the guest's user mode
            li s5, 1
            wfi                      # illegal in user mode too
            1: j 1b
            .align 2
            handler:
            addi s0, s0, 1
            csrr t1, scause
            csrr t2, sstatus
            li t3, 1
            beq s0, t3, first
            li t3, 2
            beq s0, t3, second
            mv s3, t1
            \(Self.shutdown)
            first:
            mv s1, t1
            mv s4, t2
            csrr t0, sepc
            addi t0, t0, 4
            csrw sepc, t0
            sret
            second:
            mv s2, t1
            csrr t0, sepc
            addi t0, t0, 4
            csrw sepc, t0
            sret
            """)
        #expect(vmm.run() == .hostStop("shutdown"))
        #expect(vmm.x(9) == 8, "ecall from the guest's user mode is ecall_u")
        #expect(vmm.x(18) == 2, "csrr sstatus from user mode is illegal in the guest's view")
        #expect(vmm.x(19) == 2, "wfi from user mode is illegal")
        #expect(vmm.x(21) == 1)
        let status = vmm.x(20)
        #expect(status & SupervisorBits.spp == 0 && status & SupervisorBits.spie != 0 && status & SupervisorBits.sie == 0,
                "trap entry from U with SIE set: SPP = U, SPIE = 1, SIE = 0")
        #expect(vmm.reflected.map(\.cause) == [8, 2, 2])
    }

    @Test func sretFromUserAndMachineCSRsAreIllegal() throws {
        let vmm = try MiniVMM("""
            la t0, handler
            csrw stvec, t0
            li s0, 0
            csrr a0, mstatus         # M-level CSR: illegal for the guest kernel
            csrw time, a0            # read-only CSR written: illegal
            csrr a0, stimecmp        # no Sstc in the guest's view
            mret                     # no virtual M-mode
            hfence.gvma              # no H extension
            \(Self.shutdown)
            .align 2
            handler:
            addi s0, s0, 1
            csrr t0, sepc
            addi t0, t0, 4
            csrw sepc, t0
            li t0, 0x100
            csrs sstatus, t0         # return to S
            sret
            """)
        #expect(vmm.run() == .hostStop("shutdown"))
        #expect(vmm.x(8) == 5)
        #expect(vmm.reflected.allSatisfy { $0.cause == 2 })
    }

    @Test func wfiSfenceAndFloatingPointState() throws {
        let vmm = try MiniVMM("""
            li t0, 0x2000
            csrs sstatus, t0         # FS = Initial: FP instructions now run on the hart
            fmv.d.x ft0, t0          # makes FS Dirty in hardware
            csrr s0, sstatus
            li a0, 0x1000
            li a1, 7
            sfence.vma a0, a1
            sfence.vma
            li t0, 0x6000
            csrc sstatus, t0         # FS = Off
            fmv.d.x ft0, t0          # now illegal in the guest's view, reflected
            """)
        vmm.vcpu.csrs.write(CSR.stvec, 0x8000_0000)  // the reflected trap restarts the program...
        #expect(vmm.run(60) != .hostStop("shutdown"))
        #expect(vmm.x(8) & SupervisorBits.fs == SupervisorBits.fs, "hardware Dirty shows in sstatus.FS")
        #expect(vmm.x(8) & SupervisorBits.sd != 0)
        #expect(vmm.fences.count >= 2)
        #expect(vmm.fences[0].0 == 0x1000 && vmm.fences[0].1 == 7)
        #expect(vmm.fences[1].0 == nil && vmm.fences[1].1 == nil)
        #expect(vmm.reflected.first?.cause == 2, "FP with FS = Off is illegal")

        let waiting = try MiniVMM("wfi\n li s0, 1\n" + Self.shutdown)
        #expect(waiting.run() == .hostStop("wfi"))
        #expect(waiting.vcpu.waitingForInterrupt)
        #expect(waiting.machine.pc() == 0x8000_0004, "wfi completes; the vCPU waits for a virtual interrupt")

        let ready = try MiniVMM("li t0, 0x20\n csrw sie, t0\n wfi\n li s0, 1\n" + Self.shutdown)
        ready.vcpu.setInterrupt(.supervisorTimer, pending: true)
        #expect(ready.run() == .hostStop("shutdown"))
        #expect(ready.x(8) == 1, "wfi with an enabled pending interrupt does not wait")
    }
}
