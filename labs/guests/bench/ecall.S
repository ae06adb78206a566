/* ecall.S — trap round-trip benchmark for scripts/bench: a U-mode loop of ECALLs into an M-mode
 * handler that steps mepc past the ECALL and returns with MRET.
 *
 *     U-mode:  loop: ecall; addi; bnez                   3 instructions
 *     M-mode:  csrr; li; bne; csrr; addi; csrw; mret     7 instructions (checks mcause = 8)
 *
 * INSNS_PER_ITER = 10 (counting the ECALL, which traps and so does not retire in minstret terms),
 * i.e. one trap entry and one MRET per 10 instructions. Total ≈ ITERATIONS * 10 + a few dozen:
 * 2 M iterations = 20 M instructions, 2 M traps. MIPS = (ITERATIONS * 10) / seconds / 1e6;
 * traps per second = ITERATIONS / seconds. Exit: U-mode writes 0x5555 to the finisher (bare
 * addressing, PMP open to U). */
    .equ ITERATIONS, 2000000
    .equ INSNS_PER_ITER, 10

    .section .text.init, "ax"
    .globl _start
_start:
    csrr    t0, mhartid
    bnez    t0, park
    li      t0, -1
    csrw    pmpaddr0, t0
    li      t0, 0x1f
    csrw    pmpcfg0, t0
    la      t0, m_trap
    csrw    mtvec, t0
    li      t0, 3 << 11                   /* MPP = U */
    csrc    mstatus, t0
    la      t0, u_main
    csrw    mepc, t0
    mret

u_main:
    li      s0, ITERATIONS
    .balign 4
loop:
    ecall
    addi    s0, s0, -1
    bnez    s0, loop
    li      t0, 0x100000
    li      t1, 0x5555
    sw      t1, 0(t0)
park:
    wfi
    j       park

    .balign 4
m_trap:
    csrr    t5, mcause                    /* anything but an ECALL from U is a failure */
    li      t4, 8
    bne     t5, t4, fail
    csrr    t6, mepc
    addi    t6, t6, 4
    csrw    mepc, t6
    mret
fail:
    li      t0, 0x100000
    li      t1, (2 << 16) | 0x3333
    sw      t1, 0(t0)
    j       park
