// Kernels whose outcome shows a fault's effect: each powers off with code 0 when what it waits for
// happens (or nothing disturbs it) and code 1 otherwise; a trap it does not expect prints "T".
enum FaultKernels {
    static let exceptionT = """
        \(TestKernels.print("T"))
        \(TestKernels.shutdown(1))
    """

    /// Sv39 on: RAM identity-mapped by a gigapage, VA 0x1000 mapped by a 4 KiB leaf to DATA; counts
    /// down reading VA 0x1000 (code 0); a page fault prints "T" (code 1).
    static let paged = """
    _start:
        la t0, trap
        csrw stvec, t0
        li t0, 0x80310000       # root
        li t1, 0x200000CF       # root[2]: 1 GiB leaf at 0x80000000, V R W X A D
        sd t1, 16(t0)
        li t1, 0x200C4401       # root[0]: next level at 0x80311000
        sd t1, 0(t0)
        li t0, 0x80311000
        li t1, 0x200C4801       # L1[0]: next level at 0x80312000
        sd t1, 0(t0)
        li t0, 0x80312000
        li t1, 0x200C00C7       # L0[1]: VA 0x1000 -> DATA, V R W A D
        sd t1, 8(t0)
        li t1, 0x8000000000080310
        csrw satp, t1
        sfence.vma
        li s0, 20000
        li s2, 0x1000
    1:  ld t1, 0(s2)
        bnez t1, fail
        addi s0, s0, -1
        bnez s0, 1b
    \(TestKernels.shutdown(0))
    fail:
    \(TestKernels.shutdown(1))
    .align 2
    trap:
    \(exceptionT)
    """

    /// Enables the supervisor timer and software interrupts, optionally arms the SBI timer `ticks`
    /// ahead, and counts down `iterations`: an interrupt powers off with code 0 (its cause code at
    /// DATA+16), the count running out with code 1.
    static func interrupts(armTimer ticks: Int?, iterations: Int = 20_000, plic: Bool = false) -> String {
        let arm = ticks.map { """
            rdtime a0
            addi a0, a0, \($0)
            li a7, TIME
            li a6, 0
            ecall
        """ } ?? ""
        // PLIC context 1 is hart 0's S-mode: UART (source 10) at priority 1, enabled, threshold 0;
        // the UART interrupts on received data.
        let plicSetup = plic ? """
            li t0, 0x0C000028       # priority[10]
            li t1, 1
            sw t1, 0(t0)
            li t0, 0x0C002080       # enable, context 1
            li t1, 0x400
            sw t1, 0(t0)
            li t0, 0x0C201000       # threshold, context 1
            sw zero, 0(t0)
            li t0, 0x10000001       # UART IER: received data available
            li t1, 1
            sb t1, 0(t0)
            li t0, 0x200            # sie.SEIE
            csrs sie, t0
        """ : ""
        return """
        _start:
            la t0, trap
            csrw stvec, t0
            li t0, 0x22             # sie.STIE | sie.SSIE
            csrs sie, t0
        \(plicSetup)
            csrsi sstatus, 2        # sstatus.SIE
        \(arm)
            li s0, \(iterations)
        1:  addi s0, s0, -1
            bnez s0, 1b
        \(TestKernels.shutdown(1))
        .align 2
        trap:
            csrr t0, scause
            bgez t0, exception
            li t1, DATA
            sd t0, 16(t1)
            li t2, 0x8000000000000009
            bne t0, t2, done
            li t0, 0x0C201004       # claim, context 1
            lw t2, 0(t0)
            sd t2, 8(t1)
        done:
        \(TestKernels.shutdown(0))
        exception:
        \(exceptionT)
        """
    }
}
