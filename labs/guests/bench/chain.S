/* chain.S — dispatch microbenchmark for scripts/bench: one dependency chain.
 *
 * As same.S, but all 16 `addi`s update a0, so every instruction reads the result of the one
 * before it: in an interpreter whose register file is in memory, each result is stored and the
 * next instruction's load waits for it (store-to-load forwarding). INSNS_PER_ITER = 18;
 * 20 M iterations = 360 M instructions. Checked at the end: a0 = 16 × ITERATIONS. */
    .equ ITERATIONS, 20000000
    .equ INSNS_PER_ITER, 18

    .option norvc
    .section .text.init, "ax"
    .globl _start
_start:
    csrr    t0, mhartid
    bnez    t0, park
    li      t0, ITERATIONS
    li      a0, 0
    .balign 4
loop:
    .rept 16
    addi    a0, a0, 1
    .endr
    addi    t0, t0, -1
    bnez    t0, loop
    li      t1, 16 * ITERATIONS
    li      t2, (1 << 16) | 0x3333
    bne     a0, t1, 3f
    li      t2, 0x5555
3:  li      t0, 0x100000
    sw      t2, 0(t0)
park:
    wfi
    j       park
