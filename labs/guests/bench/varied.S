/* varied.S — dispatch microbenchmark for scripts/bench: sixteen different operations.
 *
 * Each iteration runs 16 different integer operations, each reading only s1 and s2 (set once) and
 * writing a register of its own, then the loop's addi/bnez: INSNS_PER_ITER = 18. Like same.S,
 * nothing waits for a result; unlike it, consecutive instructions need different handlers, so an
 * interpreter's dispatch jump must predict a sequence of targets. 20 M iterations = 360 M
 * instructions. Checked at the end: the sixteen results, against values worked out by hand from
 * s1 = 12345 and s2 = 678 (their sum is folded into one register and compared). */
#include "dispatch.h"

    .option norvc
    .section .text.init, "ax"
    .globl _start
_start:
    loop_start
    li      s1, 12345
    li      s2, 678
    .balign 4
loop:
    add     a0, s1, s2          /* 13023 */
    xor     a1, s1, s2          /* 12959 */
    slli    a2, s1, 7           /* 1580160 */
    srli    a3, s2, 1           /* 339 */
    or      a4, s1, s2          /* 12991 */
    sub     a5, s1, s2          /* 11667 */
    and     a6, s1, s2          /* 32 */
    addi    a7, s1, 13          /* 12358 */
    sltu    t1, s2, s1          /* 1 */
    mul     t2, s1, s2          /* 8369910 */
    addiw   t3, s1, 1           /* 12346 */
    sraiw   t4, s1, 3           /* 1543 */
    xori    t5, s1, 5           /* 12348 */
    andi    t6, s2, 7           /* 6 */
    ori     s3, s1, 9           /* 12345 (bits 0 and 3 already set) */
    sll     s4, s1, s2          /* 12345 << (678 & 63 = 38) */
    loop_end loop
    /* fold: the sum of the sixteen results, s4 checked on its own */
    add     s5, a0, a1
    add     s5, s5, a2
    add     s5, s5, a3
    add     s5, s5, a4
    add     s5, s5, a5
    add     s5, s5, a6
    add     s5, s5, a7
    add     s5, s5, t1
    add     s5, s5, t2
    add     s5, s5, t3
    add     s5, s5, t4
    add     s5, s5, t5
    add     s5, s5, t6
    add     s5, s5, s3
    li      s6, 13023 + 12959 + 1580160 + 339 + 12991 + 11667 + 32 + 12358 + 1 + 8369910 + 12346 + 1543 + 12348 + 6 + 12345
    li      s7, 12345 << 38
    li      t2, FAIL
    bne     s5, s6, 3f
    bne     s4, s7, 3f
    li      t2, PASS
3:  finish
