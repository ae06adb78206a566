/* cpu.S — integer ALU and branch benchmark for scripts/bench (simulator speed in MIPS).
 *
 * A fixed, deterministic loop in M-mode: each iteration runs exactly INSNS_PER_ITER = 16
 * instructions (12 ALU, a data-dependent branch whose two paths have the same length, a jump or
 * nop, and the loop-closing addi/bnez). Total ≈ ITERATIONS * 16 + a few dozen for set-up and exit:
 * 125 M iterations = 2000 M instructions (ten times the first version's 200 M: QEMU TCG ran that in
 * about 0.05 s, less than the noise of its start-up on the shared machine, so its MIPS swung from
 * 1000 to 4900). MIPS = (ITERATIONS * 16) / seconds / 1e6.
 *
 * The loop's result is checked at the end against a value computed off-line (a model of the same
 * arithmetic), so a wrong simulator cannot pass: pass = finisher 0x5555, mismatch = (1 << 16) | 0x3333.
 * No traps, no paging, no memory traffic in the loop: this measures the fetch/decode/execute path. */
    .equ ITERATIONS, 125000000
    .equ INSNS_PER_ITER, 16
    /* checksum for ITERATIONS = 125000000, from a C model of the loop (the same model gives
     * 0x36b8fc04ac7d9e7f, the previous checksum, for 12500000 iterations) */
    .equ EXPECTED, 0x56e241f574efc14f

    .section .text.init, "ax"
    .globl _start
_start:
    csrr    t0, mhartid
    bnez    t0, park
    li      t0, ITERATIONS
    li      a0, 0x0123456789abcdef
    li      a1, 0x0fedcba987654321
    li      a3, 0
    .balign 4
loop:
    add     a0, a0, a1          /* 1 */
    xor     a1, a1, a0          /* 2 */
    slli    a2, a0, 7           /* 3 */
    srli    a4, a1, 9           /* 4 */
    or      a2, a2, a4          /* 5 */
    sub     a4, a2, a0          /* 6 */
    and     a5, a4, a1          /* 7 */
    addi    a0, a0, 13          /* 8 */
    sltu    a6, a5, a2          /* 9 */
    add     a1, a1, a6          /* 10 */
    bltu    a5, a4, 1f          /* 11: taken about half the time */
    addi    a3, a3, 1           /* 12 */
    j       2f                  /* 13 */
1:  addi    a3, a3, 3           /* 12' */
    nop                         /* 13' */
2:  sraiw   a7, a0, 3           /* 14 */
    addi    t0, t0, -1          /* 15 */
    bnez    t0, loop            /* 16 */
    /* checksum: a0 ^ a1 ^ a3 ^ a7 */
    xor     a0, a0, a1
    xor     a0, a0, a3
    xor     a0, a0, a7
    li      t1, EXPECTED
    li      t0, 0x100000
    li      t2, 0x5555
    beq     a0, t1, 3f
    li      t2, (1 << 16) | 0x3333
3:  sw      t2, 0(t0)
park:
    wfi
    j       park
