/* dispatch.h — what the dispatch microbenchmarks (same.S, varied.S, chain.S) share: the set-up
 * of the loop counter and the exit through the sifive test finisher. Each program runs
 * ITERATIONS iterations of 16 instructions of its own and the loop's addi/bnez. */
    .equ ITERATIONS, 20000000
    .equ INSNS_PER_ITER, 18
    .equ FINISHER, 0x100000
    .equ PASS, 0x5555
    .equ FAIL, (1 << 16) | 0x3333

/* Hart 0 runs the loop (t0 counts it down); any other hart parks. */
.macro loop_start
    csrr    t0, mhartid
    bnez    t0, park
    li      t0, ITERATIONS
.endm

/* The loop's own two instructions, closing the loop at `label`. */
.macro loop_end label
    addi    t0, t0, -1
    bnez    t0, \label
.endm

/* Writes t2 (PASS or FAIL) to the finisher, which ends the run; then parks. */
.macro finish
    li      t0, FINISHER
    sw      t2, 0(t0)
park:
    wfi
    j       park
.endm
