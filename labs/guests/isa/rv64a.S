/* rv64a.S — the A extension (unprivileged spec, chapter "A Extension for Atomic Instructions"):
 * LR/SC success and failure (an SC without a valid reservation fails with a non-zero code and does
 * not write; every SC invalidates the reservation; an SC to an address outside the reserved set
 * fails), every AMO in .W and .D (rd gets the old value, .W sign-extends, the neighbouring word is
 * untouched), the aq/rl/aqrl forms, rd = x0, and misaligned LR/SC/AMO, which must trap: "an
 * address-misaligned exception or an access-fault exception" (LR: load causes 4/5; SC/AMO:
 * store/AMO causes 6/7), with mtval the address; AMO to unmapped memory is a store/AMO access fault. */
#include "test_macros.h"

/* Check n: amo `op` with memory = init and rs2 = src returns old (sign-extended for .w) and leaves
 * memory = new; s0 = the data word, s1 = 4 bytes after it (must stay 0x5a5a5a5a for .w). */
.macro AMO_W n, op, init, src, new
    la      s0, amo_data
    li      t0, \init
    sw      t0, 0(s0)
    li      t0, 0x5a5a5a5a
    sw      t0, 4(s0)
    li      a1, \src
    \op     a0, a1, (s0)
    EXPECT  \n, a0, (((\init) ^ 0x80000000) - 0x80000000) & 0xffffffffffffffff
    lwu     a2, 0(s0)
    EXPECT  \n, a2, (\new) & 0xffffffff
    lwu     a2, 4(s0)
    EXPECT  \n, a2, 0x5a5a5a5a
.endm
.macro AMO_D n, op, init, src, new
    la      s0, amo_data
    li      t0, \init
    sd      t0, 0(s0)
    li      a1, \src
    \op     a0, a1, (s0)
    EXPECT  \n, a0, \init
    ld      a2, 0(s0)
    EXPECT  \n, a2, \new
.endm

TEST_BEGIN
    /* ---- LR/SC (8.2 "Load-Reserved/Store-Conditional Instructions") ---- */
    la      s0, amo_data
    li      t0, 0xfffffffe80000001
    sd      t0, 0(s0)
    lr.w    a0, (s0)
    EXPECT  1, a0, 0xffffffff80000001          /* LR.W sign-extends */
    li      a2, 0x12345678
    sc.w    a1, a2, (s0)
    EXPECT  2, a1, 0                           /* success writes 0 */
    ld      a0, 0(s0)
    EXPECT  3, a0, 0xfffffffe12345678
    li      a2, 0x11111111
    sc.w    a1, a2, (s0)                       /* the reservation is gone: must fail */
    CHECK   4
    beqz    a1, test_fail
    ld      a0, 0(s0)
    EXPECT  5, a0, 0xfffffffe12345678          /* and must not write */

    lr.d    a0, (s0)
    EXPECT  6, a0, 0xfffffffe12345678
    li      a2, 0x0102030405060708
    sc.d    a1, a2, (s0)
    EXPECT  7, a1, 0
    ld      a0, 0(s0)
    EXPECT  8, a0, 0x0102030405060708
    sc.d    a1, zero, (s0)
    CHECK   9
    beqz    a1, test_fail
    ld      a0, 0(s0)
    EXPECT  10, a0, 0x0102030405060708

    /* SC to an address in another page than the reserved one fails (the reservation set may be
       larger than the word, 8.2; this assumes it is not larger than a 4 KiB page) */
    lr.d    a0, (s0)
    la      s1, far_data
    li      a2, 99
    sc.d    a1, a2, (s1)
    CHECK   11
    beqz    a1, test_fail
    ld      a0, 0(s1)
    EXPECT  12, a0, 0
    sc.d    a1, a2, (s0)                       /* that failed SC also ended the reservation */
    CHECK   13
    beqz    a1, test_fail

    /* aq/rl forms behave the same */
    lr.w.aq a0, (s0)
    sc.w.rl a1, zero, (s0)
    EXPECT  14, a1, 0
    lr.d.aqrl a0, (s0)
    li      a2, 77
    sc.d.aqrl a1, a2, (s0)
    EXPECT  15, a1, 0
    ld      a0, 0(s0)
    EXPECT  16, a0, 77

    /* a retry loop as software writes it: atomic increment */
    CHECK   17
    li      t0, 5
    sd      t0, 0(s0)
1:  lr.d    a0, (s0)
    addi    a0, a0, 1
    sc.d    a1, a0, (s0)
    bnez    a1, 1b
    ld      a0, 0(s0)
    EXPECT  17, a0, 6

    /* ---- AMOs (8.4 "Atomic Memory Operations") ---- */
    AMO_W 20, amoswap.w, 0x80000000, 0x12345678, 0x12345678
    AMO_W 21, amoadd.w,  0x7fffffff, 1, 0x80000000
    AMO_W 22, amoxor.w,  0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0
    AMO_W 23, amoand.w,  0xff00ff00, 0x0ff00ff0, 0x0f000f00
    AMO_W 24, amoor.w,   0xff00ff00, 0x0ff00ff0, 0xfff0fff0
    AMO_W 25, amomin.w,  0x80000000, 1, 0x80000000          /* signed: -2^31 < 1 */
    AMO_W 26, amomin.w,  5, 0xfffffffffffffffe, 0xfffffffe
    AMO_W 27, amomax.w,  0x80000000, 1, 1
    AMO_W 28, amomax.w,  0xfffffffe, 0x7fffffff, 0x7fffffff
    AMO_W 29, amominu.w, 0x80000000, 1, 1
    AMO_W 30, amominu.w, 3, 0xffffffff, 3
    AMO_W 31, amomaxu.w, 0x80000000, 1, 0x80000000
    AMO_W 32, amomaxu.w, 3, 0x1fffffffe, 0xfffffffe          /* only rs2[31:0] counts */
    AMO_W 33, amomin.w,  7, 0x100000003, 3                   /* upper half ignored: 3 < 7 */
    AMO_D 40, amoswap.d, 0x8000000000000000, 0x123456789, 0x123456789
    AMO_D 41, amoadd.d,  0x7fffffffffffffff, 1, 0x8000000000000000
    AMO_D 42, amoxor.d,  0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xf0f0f0f0f0f0f0f0
    AMO_D 43, amoand.d,  0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0x0f000f000f000f00
    AMO_D 44, amoor.d,   0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xfff0fff0fff0fff0
    AMO_D 45, amomin.d,  0x8000000000000000, 1, 0x8000000000000000
    AMO_D 46, amomax.d,  0x8000000000000000, 1, 1
    AMO_D 47, amominu.d, 0x8000000000000000, 1, 1
    AMO_D 48, amomaxu.d, 0x8000000000000000, 1, 0x8000000000000000
    AMO_D 49, amomax.d,  -5, -3, -3
    AMO_D 50, amominu.d, -5, -3, -5
    /* ordering bits */
    AMO_W 55, amoadd.w.aq,   1, 2, 3
    AMO_W 56, amoadd.w.rl,   1, 2, 3
    AMO_W 57, amoswap.w.aqrl, 1, 2, 2
    AMO_D 58, amoor.d.aq,    1, 2, 3
    AMO_D 59, amomaxu.d.aqrl, 1, 2, 2
    /* rd = x0: memory still updated */
    CHECK   60
    la      s0, amo_data
    sd      zero, 0(s0)
    li      a1, 9
    amoadd.d zero, a1, (s0)
    ld      a0, 0(s0)
    EXPECT  60, a0, 9
    /* rd = rs2: the old value lands in rd after rs2 was used */
    li      a1, 4
    amoadd.d a1, a1, (s0)
    EXPECT  61, a1, 9
    ld      a0, 0(s0)
    EXPECT  62, a0, 13

    /* ---- misaligned LR/SC/AMO trap (8.2, 8.4) ---- */
    la      s0, amo_data
    addi    s1, s0, 2
    CHECK   70
    SET_RESUME 71f
70: lr.w    a0, (s1)
    j       test_fail
71: TRAP_FIELD t0, TR_CAUSE
    EXPECT_EITHER 70, t0, CAUSE_MISALIGNED_LOAD, CAUSE_LOAD_ACCESS
    EXPECT_MEPC 70, 70b
    EXPECT_MTVAL_ADDR 70, amo_data+2
    /* QEMU 7.2 deviation: an SC whose address does not match the reservation fails without any
       alignment check, so a misaligned SC.D returns 1 instead of trapping. */
    SKIP_ON_QEMU72 .Lafter_sc_misaligned
    addi    s1, s0, 4
    CHECK   72
    SET_RESUME 73f
72: sc.d    a0, a1, (s1)
    j       test_fail
73: TRAP_FIELD t0, TR_CAUSE
    EXPECT_EITHER 72, t0, CAUSE_MISALIGNED_STORE, CAUSE_STORE_ACCESS
    EXPECT_MEPC 72, 72b
    EXPECT_MTVAL_ADDR 72, amo_data+4
.Lafter_sc_misaligned:
    addi    s1, s0, 1
    CHECK   74
    SET_RESUME 75f
74: amoswap.w a0, a1, (s1)
    j       test_fail
75: SKIP_ON_QEMU72 .Lamo_cause_74     /* QEMU 7.2 deviation: reports a misaligned AMO as a load fault (4) */
    TRAP_FIELD t0, TR_CAUSE
    EXPECT_EITHER 74, t0, CAUSE_MISALIGNED_STORE, CAUSE_STORE_ACCESS
.Lamo_cause_74:
    EXPECT_MEPC 74, 74b
    EXPECT_MTVAL_ADDR 74, amo_data+1
    addi    s1, s0, 4
    CHECK   76
    SET_RESUME 77f
76: amoadd.d a0, a1, (s1)
    j       test_fail
77: SKIP_ON_QEMU72 .Lamo_cause_76     /* QEMU 7.2 deviation: reports a misaligned AMO as a load fault (4) */
    TRAP_FIELD t0, TR_CAUSE
    EXPECT_EITHER 76, t0, CAUSE_MISALIGNED_STORE, CAUSE_STORE_ACCESS
.Lamo_cause_76:
    EXPECT_MTVAL_ADDR 76, amo_data+4
    ld      a0, 0(s0)                      /* nothing was written */
    EXPECT  78, a0, 13

    /* ---- AMO and LR to unmapped memory: access faults ---- */
    li      s1, UNMAPPED_PA
    CHECK   80
    SET_RESUME 81f
80: amoadd.d a0, a1, (s1)
    j       test_fail
81: EXPECT_MEPC 80, 80b
    EXPECT_MTVAL 80, UNMAPPED_PA
    SKIP_ON_QEMU72 .Lamo_access_cause   /* QEMU 7.2 deviation: reports it as a load access fault (5) */
    EXPECT_MCAUSE 80, CAUSE_STORE_ACCESS
.Lamo_access_cause:
    EXPECT_TRAP_TVAL 81, CAUSE_LOAD_ACCESS, UNMAPPED_PA, lr.d a0, (s1)
TEST_PASS
TEST_END

    .data
    .balign 64
amo_data:
    .dword 0, 0
    .balign 4096
far_data:
    .dword 0
