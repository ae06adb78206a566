/* zifencei.S — instruction-fetch fence (unprivileged spec, chapter "Zifencei"): after a store to
 * instruction memory and FENCE.I, the hart fetches the new instruction — for code already executed
 * (so any decoded or translated copy must be dropped), for the instruction right after the
 * FENCE.I in the same straight-line block, for a 16-bit instruction, for code written into a data
 * buffer, and from U-mode. (Without FENCE.I the result is unspecified, so that is not tested.) */
#include "test_macros.h"

#define ADDI_A0(imm)  ((((imm) & 0xfff) << 20) | (10 << 7) | 0x13)   /* addi a0, zero, imm */
#define CLI_A0(imm)   (0x4001 | (10 << 7) | (((imm) & 0x1f) << 2) | ((((imm) >> 5) & 1) << 12))  /* c.li a0, imm */
#define RET_INSN      0x00008067                                      /* jalr zero, 0(ra) */

TEST_BEGIN
    /* ---- a routine executed, patched, executed again ---- */
    call    patch_me
    EXPECT  1, a0, 1
    call    patch_me                       /* twice: now it is surely cached/translated */
    EXPECT  2, a0, 1
    la      s0, patch_me
    li      t0, ADDI_A0(2)
    sw      t0, 0(s0)
    fence.i
    call    patch_me
    EXPECT  3, a0, 2
    li      t0, ADDI_A0(-7)
    sw      t0, 0(s0)
    fence.i
    call    patch_me
    EXPECT  4, a0, -7

    /* ---- the patched instruction follows the FENCE.I directly, in a loop ---- */
    CHECK   5
    la      s0, 1f
    li      s1, 0                          /* iteration */
    .option push
    .option norvc
2:  addi    t0, s1, 100
    slli    t0, t0, 20
    li      t1, (10 << 7) | 0x13
    or      t0, t0, t1                     /* addi a0, zero, 100 + iteration */
    sw      t0, 0(s0)
    fence.i
1:  addi    a0, zero, 0                    /* rewritten before each execution */
    addi    t0, s1, 100
    CHECK   5
    bne     a0, t0, test_fail
    addi    s1, s1, 1
    li      t0, 3
    bltu    s1, t0, 2b
    .option pop
    EXPECT  6, a0, 102

    /* ---- a 16-bit instruction ---- */
    call    patch_me_c
    EXPECT  10, a0, 3
    la      s0, patch_me_c
    li      t0, CLI_A0(-5)
    sh      t0, 0(s0)
    fence.i
    call    patch_me_c
    EXPECT  11, a0, -5

    /* ---- code written into a data buffer ---- */
    la      s0, code_buf
    li      t0, ADDI_A0(42)
    sw      t0, 0(s0)
    li      t0, RET_INSN
    sw      t0, 4(s0)
    fence.i
    jalr    ra, 0(s0)
    EXPECT  20, a0, 42
    li      t0, ADDI_A0(43)
    sw      t0, 0(s0)
    fence.i
    jalr    ra, 0(s0)
    EXPECT  21, a0, 43

    /* ---- from U-mode (FENCE.I is unprivileged) ---- */
    CHECK   30
    CLEAR_TRAPS
    GO_MODE PRV_U
    li      t0, ADDI_A0(44)
    sw      t0, 0(s0)
    fence.i
    jalr    ra, 0(s0)
    M_RETURN
    EXPECT_MCAUSE 30, CAUSE_ECALL_U
    EXPECT_MCOUNT 31, 1
    EXPECT  32, a0, 44
TEST_PASS

    .option push
    .option norvc
    .balign 4
patch_me:
    addi    a0, zero, 1
    ret
    .option pop
    .balign 4
patch_me_c:
    c.li    a0, 3
    ret
TEST_END

    .data
    .balign 64
code_buf:
    .word   0, 0, 0, 0
