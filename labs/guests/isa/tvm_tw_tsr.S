/* tvm_tw_tsr.S — the virtualization-support bits of mstatus (privileged spec 3.1.6.5 "Virtualization
 * Support in mstatus Register"): with TVM = 1, S-mode access to satp and SFENCE.VMA are illegal;
 * with TW = 1, a WFI in S or U that does not complete (nothing pending) is illegal; with TSR = 1,
 * SRET in S is illegal. Each bit off allows the operation again, and none of them constrains
 * M-mode. */
#include "test_macros.h"

TEST_BEGIN
    /* ---- TVM ---- */
    li      t0, MSTATUS_TVM
    csrs    mstatus, t0
    EXPECT_TRAP_IN PRV_S, 1, CAUSE_ILLEGAL, csrr a0, satp
    EXPECT_TRAP_IN PRV_S, 2, CAUSE_ILLEGAL, csrw satp, zero
    EXPECT_TRAP_IN PRV_S, 3, CAUSE_ILLEGAL, sfence.vma
    EXPECT_TRAP_IN PRV_S, 4, CAUSE_ILLEGAL, sfence.vma a0, zero
    EXPECT_OK_IN   PRV_S, 5, csrr a0, sstatus       /* other S CSRs are unaffected */
    csrr    a0, satp                                 /* M-mode is unaffected */
    sfence.vma
    li      t0, MSTATUS_TVM
    csrc    mstatus, t0
    EXPECT_OK_IN   PRV_S, 6, csrr a0, satp
    EXPECT_OK_IN   PRV_S, 7, csrw satp, zero
    EXPECT_OK_IN   PRV_S, 8, sfence.vma
    EXPECT_TRAP_IN PRV_U, 9, CAUSE_ILLEGAL, sfence.vma   /* never legal in U */

    /* ---- TW: nothing pending or enabled, so a WFI could not complete ---- */
    csrw    mie, zero
    li      t0, MSTATUS_TW
    csrs    mstatus, t0
    EXPECT_TRAP_IN PRV_S, 10, CAUSE_ILLEGAL, wfi
    EXPECT_MTVAL_EITHER 10, 0, 0x10500073
    EXPECT_TRAP_IN PRV_U, 11, CAUSE_ILLEGAL, wfi
    li      t0, MSTATUS_TW
    csrc    mstatus, t0
    /* TW = 0: S-mode WFI completes once an interrupt is pending and enabled in sie, even with
       SIE = 0 (3.3.3): SSIP delegated and pending, SSIE set, SIE clear, so no trap is taken. */
    li      t0, MIP_SSIP
    csrw    mideleg, t0
    csrs    mie, t0
    csrs    mip, t0
    li      t0, MSTATUS_SIE
    csrc    mstatus, t0
    EXPECT_OK_IN   PRV_S, 12, wfi
    li      t0, MIP_SSIP
    csrc    mip, t0
    csrc    mie, t0
    csrw    mideleg, zero

    /* ---- TSR ---- */
    li      t0, MSTATUS_TSR
    csrs    mstatus, t0
    EXPECT_TRAP_IN PRV_S, 20, CAUSE_ILLEGAL, sret
    /* M-mode SRET is unaffected: to S, then back by ECALL */
    CHECK   21
    li      t0, MSTATUS_SPP
    csrs    mstatus, t0
    la      t0, 22f
    csrw    sepc, t0
    SET_RESUME 23f
    sret
    j       test_fail
22: ecall
23: EXPECT_MCAUSE 21, CAUSE_ECALL_S
    li      t0, MSTATUS_TSR
    csrc    mstatus, t0
    /* TSR = 0: SRET in S works (to S, at a label) */
    CHECK   24
    CLEAR_TRAPS
    GO_MODE PRV_S
    li      t0, MSTATUS_SPP
    csrs    sstatus, t0
    la      t0, 25f
    csrw    sepc, t0
    sret
    j       test_fail
25: M_RETURN
    EXPECT_MCAUSE 24, CAUSE_ECALL_S
    EXPECT_MCOUNT 25, 1

    /* all three together, each still trapping on its own instruction */
    li      t0, MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR
    csrs    mstatus, t0
    EXPECT_TRAP_IN PRV_S, 30, CAUSE_ILLEGAL, csrw satp, zero
    EXPECT_TRAP_IN PRV_S, 31, CAUSE_ILLEGAL, wfi
    EXPECT_TRAP_IN PRV_S, 32, CAUSE_ILLEGAL, sret
    EXPECT_OK_IN   PRV_S, 33, csrw sscratch, zero
    li      t0, MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR
    csrc    mstatus, t0
    la      t0, s_trap_area
    csrw    sscratch, t0
TEST_PASS
TEST_END
