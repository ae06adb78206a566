/* privilege.S — privilege transitions through MRET and SRET (privileged spec 3.1.6.1 "Privilege
 * and Global Interrupt-Enable Stack in mstatus", 3.3.2 "Trap-Return Instructions"):
 *   MRET: privilege := MPP, MIE := MPIE, MPIE := 1, MPP := U (the least-privileged mode), and
 *         MPRV := 0 if the new privilege is not M;
 *   SRET: privilege := SPP, SIE := SPIE, SPIE := 1, SPP := U, MPRV := 0 (new privilege < M);
 * MRET/SRET to S and U checked by the ECALL cause they produce there; SRET is legal in M-mode. */
#include "test_macros.h"

/* reg := (mstatus >> shift) & mask */
.macro FIELD reg, src, shift, mask
    srli    \reg, \src, \shift
    andi    \reg, \reg, \mask
.endm

TEST_BEGIN
    /* ---- MRET to M: the stack pops ---- */
    li      t0, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
    csrc    mstatus, t0
    li      t0, MSTATUS_MPP                      /* MPP = M, MPIE = 0 */
    csrs    mstatus, t0
    la      t0, 1f
    csrw    mepc, t0
    mret
    j       test_fail
1:  csrr    a0, mstatus
    FIELD   a1, a0, 11, 3
    EXPECT  1, a1, PRV_U                         /* MPP := U */
    FIELD   a1, a0, 7, 1
    EXPECT  2, a1, 1                             /* MPIE := 1 */
    FIELD   a1, a0, 3, 1
    EXPECT  3, a1, 0                             /* MIE := old MPIE = 0 */
    li      t0, MSTATUS_MPP
    csrs    mstatus, t0                          /* MPP = M again, MPIE = 1 now */
    la      t0, 2f
    csrw    mepc, t0
    mret
    j       test_fail
2:  csrr    a0, mstatus
    FIELD   a1, a0, 3, 1
    EXPECT  4, a1, 1                             /* MIE := MPIE = 1 */
    li      t0, MSTATUS_MIE
    csrc    mstatus, t0
    /* MRET to M keeps MPRV */
    li      t0, MSTATUS_MPP | MSTATUS_MPRV
    csrs    mstatus, t0
    la      t0, 3f
    csrw    mepc, t0
    mret
    j       test_fail
3:  csrr    a0, mstatus
    li      t0, MSTATUS_MPRV
    csrc    mstatus, t0                          /* (MPP is now U: undo MPRV before any load) */
    FIELD   a1, a0, 17, 1
    EXPECT  5, a1, 1

    /* ---- MRET to S and U: ECALL reports the mode; MPRV is cleared ---- */
    li      t0, MSTATUS_MPRV
    csrs    mstatus, t0
    EXPECT_TRAP_IN PRV_S, 10, CAUSE_ECALL_S, ecall
    /* QEMU 7.2 deviation: MRET/SRET to a mode below M leave MPRV set (priv 1.12 clears it). */
    SKIP_ON_QEMU72 .Lskip_mprv_mret
    TRAP_FIELD a0, TR_STATUS
    FIELD   a1, a0, 17, 1
    EXPECT  11, a1, 0                            /* MRET to S cleared MPRV */
.Lskip_mprv_mret:
    li      t0, MSTATUS_MPRV
    csrc    mstatus, t0
    EXPECT_TRAP_IN PRV_U, 12, CAUSE_ECALL_U, ecall
    /* MPIE -> MIE on the way down: the trap from S records MPIE = the MIE that MRET set */
    li      t0, MSTATUS_MPIE
    csrs    mstatus, t0
    EXPECT_TRAP_IN PRV_S, 13, CAUSE_ECALL_S, ecall    /* (GO_MODE keeps MPIE as set) */
    TRAP_FIELD a0, TR_STATUS
    FIELD   a1, a0, 7, 1
    EXPECT  13, a1, 1
    li      t0, MSTATUS_MPIE
    csrc    mstatus, t0
    EXPECT_TRAP_IN PRV_S, 14, CAUSE_ECALL_S, ecall
    TRAP_FIELD a0, TR_STATUS
    FIELD   a1, a0, 7, 1
    EXPECT  14, a1, 0

    /* ---- SRET executed in S: the S stack pops ---- */
    CHECK   20
    CLEAR_TRAPS
    GO_MODE PRV_S
    li      t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
    csrc    sstatus, t0
    li      t0, MSTATUS_SPP | MSTATUS_SPIE       /* SPP = S, SPIE = 1, SIE = 0 */
    csrs    sstatus, t0
    la      t0, 21f
    csrw    sepc, t0
    sret
    j       test_fail
21: csrr    s2, sstatus                          /* still S-mode: sstatus is readable */
    M_RETURN
    EXPECT_MCAUSE 20, CAUSE_ECALL_S
    FIELD   a1, s2, 8, 1
    EXPECT  21, a1, 0                            /* SPP := U */
    FIELD   a1, s2, 5, 1
    EXPECT  22, a1, 1                            /* SPIE := 1 */
    FIELD   a1, s2, 1, 1
    EXPECT  23, a1, 1                            /* SIE := old SPIE */
    li      t0, MSTATUS_SIE
    csrc    mstatus, t0
    /* SRET from S to U */
    CHECK   24
    GO_MODE PRV_S
    li      t0, MSTATUS_SPP
    csrc    sstatus, t0
    la      t0, 25f
    csrw    sepc, t0
    sret
    j       test_fail
25: SET_RESUME 26f                               /* bare U-mode may write the trap record */
    ecall
    j       test_fail
26: EXPECT_MCAUSE 24, CAUSE_ECALL_U

    /* ---- SRET executed in M-mode (legal): to S or U per SPP ---- */
    CHECK   30
    li      t0, MSTATUS_SPP
    csrs    mstatus, t0
    la      t0, 31f
    csrw    sepc, t0
    SET_RESUME 32f
    sret
    j       test_fail
31: ecall
    j       test_fail
32: EXPECT_MCAUSE 30, CAUSE_ECALL_S
    CHECK   33
    li      t0, MSTATUS_SPP
    csrc    mstatus, t0
    la      t0, 34f
    csrw    sepc, t0
    SET_RESUME 35f
    sret
    j       test_fail
34: ecall
    j       test_fail
35: EXPECT_MCAUSE 33, CAUSE_ECALL_U
    /* SRET from M to S clears MPRV too */
    CHECK   36
    li      t0, MSTATUS_SPP | MSTATUS_MPRV
    csrs    mstatus, t0
    li      t0, MSTATUS_MPP                      /* MPRV with MPP = M: M-mode accesses stay M */
    csrs    mstatus, t0
    la      t0, 37f
    csrw    sepc, t0
    SET_RESUME 38f
    sret
    j       test_fail
37: ecall
    j       test_fail
38: EXPECT_MCAUSE 36, CAUSE_ECALL_S
    SKIP_ON_QEMU72 .Lskip_mprv_sret              /* the same QEMU 7.2 deviation as check 11 */
    TRAP_FIELD a0, TR_STATUS
    FIELD   a1, a0, 17, 1
    EXPECT  37, a1, 0
.Lskip_mprv_sret:
    li      t0, MSTATUS_MPRV
    csrc    mstatus, t0

    /* ---- xRET targets: mepc/sepc are used as the new pc ---- */
    CHECK   40
    la      t0, 41f
    csrw    mepc, t0
    li      t0, MSTATUS_MPP
    csrs    mstatus, t0
    mret
    FAIL    40
41: CHECK   42
TEST_PASS
TEST_END
