/* counters.S — counters and timers (unprivileged spec, chapter "Zicntr"; privileged spec 3.1.11
 * "Hardware Performance Monitor", 3.1.12 "mcounteren", 4.1.5 "scounteren"): cycle, instret and time
 * are readable and advance (instret by at least the instructions retired between two reads); time
 * agrees with the CLINT's mtime; mcycle/minstret are writable from M-mode; mcounteren hides a
 * counter from S and U, scounteren hides it from U, each as an illegal-instruction exception. */
#include "test_macros.h"

TEST_BEGIN
    /* ---- readable and advancing in M-mode ---- */
    rdinstret a0
    nop
    nop
    nop
    nop
    nop
    nop
    nop
    nop
    rdinstret a1
    sub     a2, a1, a0
    CHECK   1
    li      t0, 9                       /* 8 nops + the second rdinstret, at least */
    bltu    a2, t0, test_fail
    rdcycle a0
    li      t0, 100
1:  addi    t0, t0, -1
    bnez    t0, 1b
    rdcycle a1
    CHECK   2
    bgeu    a0, a1, test_fail           /* cycle advanced over 200 instructions */
    /* time follows mtime (the CLINT's memory-mapped counter) */
    li      s0, CLINT_MTIME
    ld      a0, 0(s0)
    rdtime  a1
    ld      a2, 0(s0)
    CHECK   3
    bltu    a1, a0, test_fail
    bltu    a2, a1, test_fail
    /* mtime advances */
    CHECK   4
    li      t1, 1000000
2:  ld      a3, 0(s0)
    bne     a3, a0, 3f
    addi    t1, t1, -1
    bnez    t1, 2b
    j       test_fail
3:
    /* minstret and mcycle are writable (3.1.11) */
    li      t0, 0x100000000
    csrw    minstret, t0
    rdinstret a0
    sub     a0, a0, t0
    CHECK   5
    li      t1, 0x100000                /* it restarted from the written value (QEMU 7.2 counts */
    bgeu    a0, t1, test_fail           /* host ticks, not instructions, hence the wide bound) */
    csrr    a1, minstret
    CHECK   6
    bltu    a1, t0, test_fail
    li      t0, 0x200000000000
    csrw    mcycle, t0
    csrr    a0, mcycle
    CHECK   7
    bltu    a0, t0, test_fail
    sub     a0, a0, t0
    li      t1, 0x100000000
    bgeu    a0, t1, test_fail
    csrr    a0, cycle                   /* cycle is mcycle's user view */
    CHECK   8
    bltu    a0, t0, test_fail

    /* ---- mcounteren / scounteren (bits CY = 0, TM = 1, IR = 2) ---- */
    csrw    mcounteren, zero
    csrw    scounteren, zero
    EXPECT_TRAP_IN PRV_S, 10, CAUSE_ILLEGAL, rdcycle a0
    EXPECT_TRAP_IN PRV_S, 11, CAUSE_ILLEGAL, rdtime a0
    EXPECT_TRAP_IN PRV_S, 12, CAUSE_ILLEGAL, rdinstret a0
    EXPECT_TRAP_IN PRV_U, 13, CAUSE_ILLEGAL, rdcycle a0
    EXPECT_TRAP_IN PRV_U, 14, CAUSE_ILLEGAL, rdtime a0
    EXPECT_TRAP_IN PRV_U, 15, CAUSE_ILLEGAL, rdinstret a0
    li      t0, 7
    csrw    mcounteren, t0
    EXPECT_OK_IN PRV_S, 20, rdcycle a0
    EXPECT_OK_IN PRV_S, 21, rdtime a0
    EXPECT_OK_IN PRV_S, 22, rdinstret a0
    /* U still needs scounteren */
    EXPECT_TRAP_IN PRV_U, 23, CAUSE_ILLEGAL, rdcycle a0
    EXPECT_TRAP_IN PRV_U, 24, CAUSE_ILLEGAL, rdtime a0
    EXPECT_TRAP_IN PRV_U, 25, CAUSE_ILLEGAL, rdinstret a0
    li      t0, 7
    csrw    scounteren, t0
    EXPECT_OK_IN PRV_U, 26, rdcycle a0
    EXPECT_OK_IN PRV_U, 27, rdtime a0
    EXPECT_OK_IN PRV_U, 28, rdinstret a0
    /* one bit at a time: only TM granted by M; S grants all to U */
    li      t0, 2
    csrw    mcounteren, t0
    EXPECT_OK_IN PRV_S, 30, rdtime a0
    EXPECT_TRAP_IN PRV_S, 31, CAUSE_ILLEGAL, rdcycle a0
    EXPECT_OK_IN PRV_U, 32, rdtime a0
    EXPECT_TRAP_IN PRV_U, 33, CAUSE_ILLEGAL, rdinstret a0
    /* M-mode counters stay M-only whatever the enables */
    li      t0, 7
    csrw    mcounteren, t0
    EXPECT_TRAP_IN PRV_S, 34, CAUSE_ILLEGAL, csrr a0, mcycle
    EXPECT_TRAP_IN PRV_U, 35, CAUSE_ILLEGAL, csrr a0, minstret
    /* the counter value seen from U matches M's view of the same clock */
    CHECK   36
    li      s0, CLINT_MTIME
    ld      s1, 0(s0)
    GO_MODE PRV_U
    rdtime  s2
    M_RETURN
    ld      s3, 0(s0)
    bltu    s2, s1, test_fail
    bltu    s3, s2, test_fail
    /* the enables themselves are not accessible from U */
    EXPECT_TRAP_IN PRV_U, 37, CAUSE_ILLEGAL, csrr a0, scounteren
    EXPECT_TRAP_IN PRV_S, 38, CAUSE_ILLEGAL, csrr a0, mcounteren
TEST_PASS
TEST_END
