/* delegation.S — exception delegation to S-mode (privileged spec 3.1.8 "medeleg/mideleg", 4.1.7
 * "stvec", 4.1.8-4.1.9 "scause/sepc/stval", 4.1.1 sstatus SPP/SPIE/SIE on trap entry): a delegated
 * exception from U or S enters the S-mode handler with scause/sepc/stval set and SPP = the previous
 * mode, SPIE = old SIE, SIE = 0, and never reaches M; undelegated causes still go to
 * M; an exception in M-mode is never delegated; a vectored stvec does not vector exceptions.
 * The framework's S handler records the trap, then ECALLs to M (cause 9), which resumes the test. */
#include "test_macros.h"

/* After a delegated trap that ended in the S handler's hand-over ECALL: check n. */
.macro DELEGATED n, scause, sepc_label
    EXPECT_MCAUSE \n, CAUSE_ECALL_S
    EXPECT_SCAUSE \n, \scause
    EXPECT_SEPC \n, \sepc_label
.endm

TEST_BEGIN
    li      t0, (1 << CAUSE_ILLEGAL) | (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_ECALL_U) | (1 << CAUSE_LOAD_ACCESS) | (1 << CAUSE_STORE_ACCESS)
    csrw    medeleg, t0
    csrr    a0, medeleg
    EXPECT  1, a0, (1 << CAUSE_ILLEGAL) | (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_ECALL_U) | (1 << CAUSE_LOAD_ACCESS) | (1 << CAUSE_STORE_ACCESS)

    /* ---- ECALL from U, delegated ---- */
    CLEAR_TRAPS
    CHECK   2
    SET_RESUME 3f
    GO_MODE PRV_U
2:  ecall
    j       test_fail
3:  DELEGATED 2, CAUSE_ECALL_U, 2b
    EXPECT_STVAL 4, 0
    EXPECT_SCOUNT 5, 1
    EXPECT_MCOUNT 6, 1                          /* M saw only the hand-over ECALL */
    STRAP_FIELD a0, TR_STATUS
    srli    a1, a0, 8
    andi    a1, a1, 1
    EXPECT  7, a1, 0                            /* SPP = U */

    /* ---- illegal instruction in S, delegated: SPP = S, SPIE = old SIE, SIE = 0 ---- */
    CLEAR_TRAPS
    li      t0, MSTATUS_SIE | MSTATUS_SPIE
    csrc    mstatus, t0
    li      t0, MSTATUS_SIE                     /* S runs with SIE = 1 (no S interrupt enabled in sie) */
    csrs    mstatus, t0
    CHECK   10
    SET_RESUME 11f
    GO_MODE PRV_S
10: .word   0                                   /* illegal */
    j       test_fail
11: DELEGATED 10, CAUSE_ILLEGAL, 10b
    STRAP_FIELD a0, TR_TVAL
    EXPECT  12, a0, 0                           /* (the bits are 0 as well) */
    STRAP_FIELD a0, TR_STATUS
    srli    a1, a0, 8
    andi    a1, a1, 1
    EXPECT  13, a1, 1                           /* SPP = S */
    andi    a1, a0, MSTATUS_SPIE | MSTATUS_SIE
    EXPECT  14, a1, MSTATUS_SPIE                /* SPIE = 1 (old SIE), SIE = 0 */
    li      t0, MSTATUS_SIE | MSTATUS_SPIE
    csrc    mstatus, t0

    /* ---- load access fault from U: stval = the address; resumed in S by the S handler ---- */
    CLEAR_TRAPS
    li      s0, UNMAPPED_PA
    CHECK   20
    SET_SRESUME 21f
    SET_RESUME 22f
    GO_MODE PRV_U
20: ld      a0, 8(s0)
    j       test_fail
21: csrr    s1, scause                          /* in S: the live CSRs */
    csrr    s2, stval
    ecall                                       /* to M */
22: EXPECT  20, s1, CAUSE_LOAD_ACCESS
    EXPECT  21, s2, UNMAPPED_PA + 8
    EXPECT_SEPC 22, 20b
    EXPECT_MCAUSE 23, CAUSE_ECALL_S
    EXPECT_SCOUNT 24, 1
    EXPECT_MCOUNT 25, 1                         /* only the hand-over ECALL reached M */

    /* ---- store access fault from S, delegated ---- */
    CLEAR_TRAPS
    CHECK   30
    SET_RESUME 31f
    GO_MODE PRV_S
30: sw      a0, 4(s0)
    j       test_fail
31: DELEGATED 30, CAUSE_STORE_ACCESS, 30b
    EXPECT_STVAL 32, UNMAPPED_PA + 4

    /* ---- breakpoint from U ---- */
    CLEAR_TRAPS
    CHECK   35
    SET_RESUME 36f
    GO_MODE PRV_U
35: ebreak
    j       test_fail
36: DELEGATED 35, CAUSE_BREAKPOINT, 35b

    /* ---- not delegated: ECALL from S goes to M ---- */
    CLEAR_TRAPS
    EXPECT_TRAP_IN PRV_S, 40, CAUSE_ECALL_S, ecall
    EXPECT_SCOUNT 41, 0
    /* an instruction access fault is not delegated either: from U it goes to M */
    li      s0, UNMAPPED_PA
    CLEAR_TRAPS
    CHECK   42
    SET_RESUME 43f
    GO_MODE PRV_U
    jr      s0
43: EXPECT_MCAUSE 42, CAUSE_FETCH_ACCESS
    EXPECT_SCOUNT 43, 0

    /* ---- M-mode exceptions are never delegated (3.1.8) ---- */
    li      t0, -1
    csrw    medeleg, t0                         /* whatever sticks */
    CLEAR_TRAPS
    EXPECT_TRAP 50, CAUSE_ILLEGAL, .word 0
    EXPECT_TRAP 51, CAUSE_BREAKPOINT, ebreak
    EXPECT_TRAP 52, CAUSE_ECALL_M, ecall
    EXPECT_SCOUNT 53, 0
    li      t0, (1 << CAUSE_ILLEGAL) | (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_ECALL_U) | (1 << CAUSE_LOAD_ACCESS) | (1 << CAUSE_STORE_ACCESS)
    csrw    medeleg, t0

    /* ---- a vectored stvec does not vector exceptions (4.1.2) ---- */
    la      t0, s_trap_handler
    ori     t0, t0, 1
    csrw    stvec, t0
    CLEAR_TRAPS
    CHECK   60
    SET_RESUME 61f
    GO_MODE PRV_U
60: ecall
    j       test_fail
61: DELEGATED 60, CAUSE_ECALL_U, 60b
    la      t0, s_trap_handler
    csrw    stvec, t0

    /* ---- trap from U into S while S had SIE = 1: SPIE records it ---- */
    li      t0, MSTATUS_SIE
    csrs    mstatus, t0
    CLEAR_TRAPS
    CHECK   70
    SET_RESUME 71f
    GO_MODE PRV_U
    ecall
71: STRAP_FIELD a0, TR_STATUS
    andi    a1, a0, MSTATUS_SPIE | MSTATUS_SIE
    EXPECT  70, a1, MSTATUS_SPIE
    li      t0, MSTATUS_SIE | MSTATUS_SPIE
    csrc    mstatus, t0
    csrw    medeleg, zero
TEST_PASS
TEST_END
