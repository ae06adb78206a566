/* pmp.S — physical memory protection (privileged spec 3.7 "Physical Memory Protection"):
 * NA4, NAPOT and TOR regions granting or denying S/U loads, stores and fetches; the lowest-
 * numbered matching entry wins; M-mode ignores unlocked entries but is bound by locked ones
 * (and locked entries ignore writes); an S/U access that matches no entry fails when any entry is
 * implemented, while M-mode's succeeds. Access faults carry mtval = the address.
 *
 * Layout (region = 16 KiB of RAM, 4 KiB aligned; entries in pmpcfg0):
 *   0  NAPOT  region+0x1000 .. +0x2000   ---          (deny)
 *   1  OFF    pmpaddr1 = region+0x2000    (the TOR base for entry 2)
 *   2  TOR    region+0x2000 .. +0x3000   RW-
 *   3  NA4    region+0x0000 .. +0x0004   R--
 *   4  NAPOT  region+0x3000 .. +0x4000   R-- (locked at the end)
 *   5  NAPOT  all memory                 RWX          (the catch-all, lowest priority) */
#include "test_macros.h"

#define CFG(i, v) ((v) << (8 * (i)))

/* Check n: in mode, `insn` faults with cause and mtval = region + off. */
.macro PMP_FAULT mode, n, cause, off, insn:vararg
    EXPECT_TRAP_IN \mode, \n, \cause, \insn
    TRAP_FIELD t6, TR_TVAL
    la      tp, region + \off
    CHECK   \n
    beq     t6, tp, .Lok\@
    j       test_fail
.Lok\@:
.endm

TEST_BEGIN
    la      s0, region
    /* entry 0: NAPOT 4 KiB at region+0x1000: pmpaddr = base>>2 | (size/8 - 1) */
    li      t0, 0x1000
    add     t0, t0, s0
    srli    t0, t0, 2
    ori     t0, t0, (0x1000 / 8) - 1
    csrw    pmpaddr0, t0
    li      t0, 0x2000
    add     t0, t0, s0
    srli    t0, t0, 2
    csrw    pmpaddr1, t0
    li      t0, 0x3000
    add     t0, t0, s0
    srli    t0, t0, 2
    csrw    pmpaddr2, t0
    srli    t0, s0, 2
    csrw    pmpaddr3, t0
    li      t0, 0x3000
    add     t0, t0, s0
    srli    t0, t0, 2
    ori     t0, t0, (0x1000 / 8) - 1
    csrw    pmpaddr4, t0
    li      t0, -1
    csrw    pmpaddr5, t0
    li      t0, CFG(0, PMP_NAPOT) | CFG(1, PMP_OFF) | CFG(2, PMP_TOR | PMP_R | PMP_W) | CFG(3, PMP_NA4 | PMP_R) | CFG(4, PMP_NAPOT | PMP_R) | CFG(5, PMP_NAPOT | PMP_R | PMP_W | PMP_X)
    csrw    pmpcfg0, t0
    sfence.vma
    csrr    a0, pmpcfg0
    EXPECT  1, a0, CFG(0, PMP_NAPOT) | CFG(1, PMP_OFF) | CFG(2, PMP_TOR | PMP_R | PMP_W) | CFG(3, PMP_NA4 | PMP_R) | CFG(4, PMP_NAPOT | PMP_R) | CFG(5, PMP_NAPOT | PMP_R | PMP_W | PMP_X)

    /* ---- NA4, read-only ---- */
    EXPECT_OK_IN PRV_S, 2, lw a0, 0(s0)
    EXPECT  2, a0, 0x600d0001
    PMP_FAULT PRV_S, 3, CAUSE_STORE_ACCESS, 0, sw a0, 0(s0)
    PMP_FAULT PRV_U, 4, CAUSE_STORE_ACCESS, 2, sb a0, 2(s0)
    EXPECT_OK_IN PRV_S, 5, sw a0, 4(s0)                /* the next word is the catch-all's */
    /* ---- NAPOT deny, overriding the catch-all (priority) ---- */
    li      s1, 0x1000
    add     s1, s1, s0
    PMP_FAULT PRV_S, 10, CAUSE_LOAD_ACCESS, 0x1000, lw a0, 0(s1)
    li      s1, 0x1ff8
    add     s1, s1, s0
    PMP_FAULT PRV_U, 11, CAUSE_LOAD_ACCESS, 0x1ff8, ld a0, 0(s1)
    PMP_FAULT PRV_S, 12, CAUSE_STORE_ACCESS, 0x1ff8, sd a0, 0(s1)
    li      s1, 0x2000
    add     s1, s1, s0
    /* ---- TOR, RW ---- */
    EXPECT_OK_IN PRV_S, 14, ld a0, 0(s1)
    EXPECT  14, a0, 0x600d0002
    EXPECT_OK_IN PRV_U, 15, sd a0, 8(s1)
    CHECK   16                                          /* fetch: no X */
    SET_RESUME 17f
    GO_MODE PRV_S
    jalr    s1
    j       test_fail
17: EXPECT_MCAUSE 16, CAUSE_FETCH_ACCESS
    TRAP_FIELD t0, TR_EPC
    EXPECT_REG 16, t0, s1                               /* mepc = mtval = the target */
    TRAP_FIELD t0, TR_TVAL
    EXPECT_REG 16, t0, s1
    /* ---- M-mode ignores unlocked entries ---- */
    CHECK   17
    li      s1, 0x1000
    add     s1, s1, s0
    lw      a0, 0(s1)
    sw      a0, 0(s0)
    li      s1, 0x2000
    add     s1, s1, s0
    ld      a0, 0(s1)

    /* ---- no match: entry 5 off. S/U fail (even the fetch of their first instruction), M works ---- */
    li      t0, 0xff << 40
    csrc    pmpcfg0, t0
    sfence.vma
    CHECK   20
    SET_RESUME 21f
    li      t0, MSTATUS_MPP
    csrc    mstatus, t0
    li      t0, PRV_S << 11
    csrs    mstatus, t0
    la      t0, 22f
    csrw    mepc, t0
    mret
22: j       test_fail                                   /* must not be fetched */
21: EXPECT_MCAUSE 20, CAUSE_FETCH_ACCESS
    EXPECT_MTVAL_ADDR 20, 22b
    EXPECT_MEPC 20, 22b
    li      t0, 0x3800
    add     t0, t0, s0
    ld      a0, 0(t0)                                   /* M, no match: allowed */
    sd      a0, 8(t0)
    li      t0, CFG(5, PMP_NAPOT | PMP_R | PMP_W | PMP_X)
    csrs    pmpcfg0, t0
    sfence.vma

    /* ---- locked entries bind M-mode ---- */
    li      t0, CFG(4, PMP_L)
    csrs    pmpcfg0, t0                                 /* entry 4: R, locked */
    sfence.vma
    li      s1, 0x3000
    add     s1, s1, s0
    ld      a0, 0(s1)                                   /* M read: granted */
    EXPECT  30, a0, 0x600d0003
    EXPECT_TRAP 31, CAUSE_STORE_ACCESS, sd a0, 0(s1)
    CHECK   31
    TRAP_FIELD t6, TR_TVAL
    bne     t6, s1, test_fail
    CHECK   32
    SET_RESUME 33f
    jalr    s1                                          /* M fetch: no X */
    j       test_fail
33: EXPECT_MCAUSE 32, CAUSE_FETCH_ACCESS
    /* a locked entry ignores writes to its configuration and address */
    li      t0, CFG(4, PMP_W | PMP_X)
    csrs    pmpcfg0, t0
    csrr    a0, pmpcfg0
    srli    a0, a0, 32
    andi    a0, a0, 0xff
    EXPECT  34, a0, PMP_L | PMP_NAPOT | PMP_R
    csrr    a1, pmpaddr4
    csrw    pmpaddr4, zero
    csrr    a0, pmpaddr4
    EXPECT_REG 35, a0, a1
    EXPECT_TRAP 36, CAUSE_STORE_ACCESS, sd a0, 0(s1)
    /* S and U are bound the same way */
    PMP_FAULT PRV_S, 37, CAUSE_STORE_ACCESS, 0x3000, sw a0, 0(s1)
    EXPECT_OK_IN PRV_U, 38, lw a0, 0(s1)
TEST_PASS
TEST_END

    .data
    .balign 4096
region:
    .word   0x600d0001
    .skip   0x2000 - 4
    .dword  0x600d0002
    .skip   0x1000 - 8
    .dword  0x600d0003
    .skip   0x1000 - 8
