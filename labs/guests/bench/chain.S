/* chain.S — dispatch microbenchmark for scripts/bench: one dependency chain.
 *
 * As same.S, but all 16 `addi`s update a0, so every instruction reads the result of the one
 * before it: in an interpreter whose register file is in memory, each result is stored and the
 * next instruction's load waits for it (store-to-load forwarding). INSNS_PER_ITER = 18;
 * 20 M iterations = 360 M instructions. Checked at the end: a0 = 16 × ITERATIONS. */
#include "dispatch.h"

    .option norvc
    .section .text.init, "ax"
    .globl _start
_start:
    loop_start
    li      a0, 0
    .balign 4
loop:
    .rept 16
    addi    a0, a0, 1
    .endr
    loop_end loop
    li      t1, 16 * ITERATIONS
    li      t2, FAIL
    bne     a0, t1, 3f
    li      t2, PASS
3:  finish
