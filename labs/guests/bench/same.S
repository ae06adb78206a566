/* same.S — dispatch microbenchmark for scripts/bench: the best case of an interpreter's loop.
 *
 * Each iteration runs 16 `addi`s, two on each of eight registers, then the loop's addi/bnez:
 * INSNS_PER_ITER = 18. The same operation every time (so a dispatch jump always goes to the same
 * handler) and no instruction reads a result of the one before it (so nothing waits for a value
 * that goes through an in-memory register file). Compare with varied.S (different operations)
 * and chain.S (every instruction reads the one before); the Engine article of the Machine module
 * explains what the three show. 20 M iterations = 360 M instructions.
 *
 * Checked at the end: each of a0..a7 must equal 2 × ITERATIONS. Pass = finisher 0x5555, mismatch =
 * (1 << 16) | 0x3333. */
#include "dispatch.h"

    .option norvc
    .section .text.init, "ax"
    .globl _start
_start:
    loop_start
    li      a0, 0
    li      a1, 0
    li      a2, 0
    li      a3, 0
    li      a4, 0
    li      a5, 0
    li      a6, 0
    li      a7, 0
    .balign 4
loop:
    .rept 2
    addi    a0, a0, 1
    addi    a1, a1, 1
    addi    a2, a2, 1
    addi    a3, a3, 1
    addi    a4, a4, 1
    addi    a5, a5, 1
    addi    a6, a6, 1
    addi    a7, a7, 1
    .endr
    loop_end loop
    /* every register counted 2 × ITERATIONS */
    li      t1, 2 * ITERATIONS
    li      t2, FAIL
    bne     a0, t1, 3f
    bne     a1, t1, 3f
    bne     a2, t1, 3f
    bne     a3, t1, 3f
    bne     a4, t1, 3f
    bne     a5, t1, 3f
    bne     a6, t1, 3f
    bne     a7, t1, 3f
    li      t2, PASS
3:  finish
