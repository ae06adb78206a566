/* paging_perm.S — access permissions under Sv39 (privileged spec 4.3.1-4.3.2, 3.1.6.3 "Memory
 * Privilege in mstatus Register"): U-mode may only touch U pages; S-mode may read/write U pages
 * only with SUM = 1 and never execute them; MXR makes execute-only pages readable (for S and U
 * loads); MPRV = 1 makes M-mode loads and stores translate and check as the mode in MPP (with SUM
 * and MXR applying), while instruction fetch stays untranslated. */
#include "test_macros.h"
#include "paging.h"

#define RWX_AD  (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define RW_AD   (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)

#define U_ALIAS_OFFSET 0x40000000        /* VA 0x4000_0000 (U, RWX) aliases RAM at 0x8000_0000 */
#define VA_UPAGE   0x140000000
#define VA_SPAGE   0x140001000
#define VA_XONLY   0x140002000
#define VA_UXONLY  0x140003000
#define VA_UX      0x140004000

/* mret to U-mode at label's U alias. */
.macro ENTER_U_ALIAS label
    li      t6, MSTATUS_MPP
    csrc    mstatus, t6
    la      t6, \label
    li      tp, U_ALIAS_OFFSET
    sub     t6, t6, tp
    csrw    mepc, t6
    mret
.endm

/* Check n: in U-mode (alias), `insn` raises cause at it; mtval = tval. */
.macro U_FAULT n, cause, tval, insn:vararg
    CHECK   \n
    SET_RESUME .Lres\@
    ENTER_U_ALIAS .Lu\@
.Lu\@:
    \insn
    j       test_fail
.Lres\@:
    EXPECT_MCAUSE \n, \cause
    EXPECT_MTVAL \n, \tval
.endm
/* Check n: in U-mode (alias), `insn` completes; back in M through ECALL. */
.macro U_OK n, insn:vararg
    CHECK   \n
    SET_RESUME .Lres\@
    ENTER_U_ALIAS .Lu\@
.Lu\@:
    \insn
    ecall
.Lres\@:
    EXPECT_MCAUSE \n, CAUSE_ECALL_U
.endm
/* Check n: in M-mode with MPRV = 1 and MPP = mode, `insn` (a load or store) faults with cause. */
.macro MPRV_FAULT n, mode, cause, tval, insn:vararg
    CHECK   \n
    SET_RESUME .Lres\@                   /* before MPRV: the trap record is not a U page */
    li      t6, MSTATUS_MPP
    csrc    mstatus, t6
    li      t6, ((\mode) << 11) | MSTATUS_MPRV
    csrs    mstatus, t6
    \insn
    j       test_fail
.Lres\@:
    EXPECT_MCAUSE \n, \cause
    EXPECT_MTVAL \n, \tval
.endm
/* Check n: the same access completes; MPRV is cleared right after it. */
.macro MPRV_OK n, mode, insn:vararg
    CHECK   \n
    CLEAR_TRAPS
    li      t6, MSTATUS_MPP
    csrc    mstatus, t6
    li      t6, ((\mode) << 11) | MSTATUS_MPRV
    csrs    mstatus, t6
    \insn
    li      t6, MSTATUS_MPRV
    csrc    mstatus, t6
    EXPECT_MCOUNT \n, 0
.endm

TEST_BEGIN
    PT_LEVELS 3
    MAP_CONST 0x80000000, 0x80000000, 2, RWX_AD
    MAP_CONST U_ALIAS_OFFSET, 0x80000000, 2, RWX_AD | PTE_U
    MAP_LABEL VA_UPAGE, page_u, 0, RW_AD | PTE_U
    MAP_LABEL VA_SPAGE, page_s, 0, RW_AD
    MAP_LABEL VA_XONLY, page_x, 0, PTE_V | PTE_X | PTE_A
    MAP_LABEL VA_UXONLY, page_x, 0, PTE_V | PTE_X | PTE_A | PTE_U
    MAP_LABEL VA_UX, xpage, 0, PTE_V | PTE_X | PTE_A | PTE_U
    la      t0, page_u
    li      t1, 0x11110001
    sd      t1, 0(t0)
    la      t0, page_s
    li      t1, 0x55550002
    sd      t1, 0(t0)
    la      t0, page_x
    li      t1, 0x77770003
    sd      t1, 0(t0)
    SATP_ON SATP_MODE_SV39
    li      t0, MSTATUS_SUM | MSTATUS_MXR
    csrc    mstatus, t0

    /* ---- S-mode and U pages: SUM ---- */
    li      s0, VA_UPAGE
    EXPECT_TRAP_IN PRV_S, 1, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(s0)
    EXPECT_MTVAL 1, VA_UPAGE
    EXPECT_TRAP_IN PRV_S, 2, CAUSE_STORE_PAGE_FAULT, sd a0, 8(s0)
    EXPECT_MTVAL 2, VA_UPAGE + 8
    li      t0, MSTATUS_SUM
    csrs    mstatus, t0
    EXPECT_OK_IN PRV_S, 3, ld a0, 0(s0)
    EXPECT  3, a0, 0x11110001
    EXPECT_OK_IN PRV_S, 4, sd a0, 8(s0)
    /* SUM never allows S to execute from a U page */
    CHECK   5
    SET_RESUME 6f
    GO_MODE PRV_S
    li      s1, VA_UX
    jalr    s1
    j       test_fail
6:  EXPECT_MCAUSE 5, CAUSE_FETCH_PAGE_FAULT
    EXPECT_MTVAL 5, VA_UX
    li      t0, MSTATUS_SUM
    csrc    mstatus, t0
    li      s0, VA_SPAGE
    EXPECT_OK_IN PRV_S, 7, ld a0, 0(s0)
    EXPECT  7, a0, 0x55550002

    /* ---- MXR for S ---- */
    li      s0, VA_XONLY
    EXPECT_TRAP_IN PRV_S, 10, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(s0)
    li      t0, MSTATUS_MXR
    csrs    mstatus, t0
    EXPECT_OK_IN PRV_S, 11, ld a0, 0(s0)
    EXPECT  11, a0, 0x77770003
    EXPECT_TRAP_IN PRV_S, 12, CAUSE_STORE_PAGE_FAULT, sd a0, 0(s0)  /* MXR does not grant writes */
    li      t0, MSTATUS_MXR
    csrc    mstatus, t0

    /* ---- U-mode ---- */
    li      s0, VA_SPAGE
    U_FAULT 20, CAUSE_LOAD_PAGE_FAULT, VA_SPAGE, ld a0, 0(s0)
    li      t0, MSTATUS_SUM                          /* SUM does not matter to U */
    csrs    mstatus, t0
    U_FAULT 21, CAUSE_STORE_PAGE_FAULT, VA_SPAGE + 16, sd a0, 16(s0)
    li      t0, MSTATUS_SUM
    csrc    mstatus, t0
    li      s0, VA_UPAGE
    U_OK    22, ld s1, 0(s0)
    EXPECT  22, s1, 0x11110001
    li      s1, 0x1234
    U_OK    23, sd s1, 24(s0)
    la      t0, page_u
    ld      t0, 24(t0)
    EXPECT  23, t0, 0x1234
    la      s0, xpage                                /* identity address: an S page */
    CHECK   24
    SET_RESUME 24f
    ENTER_U_ALIAS 25f
25: jalr    s0
    j       test_fail
24: EXPECT_MCAUSE 24, CAUSE_FETCH_PAGE_FAULT
    EXPECT_MTVAL_ADDR 24, xpage
    li      s0, VA_UX                                /* a U execute-only page */
    U_OK    25, jalr s0
    EXPECT  25, a0, 77
    li      s0, VA_UXONLY
    U_FAULT 26, CAUSE_LOAD_PAGE_FAULT, VA_UXONLY, ld a0, 0(s0)
    li      t0, MSTATUS_MXR
    csrs    mstatus, t0
    U_OK    27, ld s1, 0(s0)                         /* MXR applies to U loads too */
    EXPECT  27, s1, 0x77770003
    li      t0, MSTATUS_MXR
    csrc    mstatus, t0

    /* ---- MPRV: M-mode loads and stores as MPP ---- */
    li      s0, VA_SPAGE
    MPRV_OK 30, PRV_S, ld s1, 0(s0)
    EXPECT  30, s1, 0x55550002
    li      s0, VA_UPAGE
    MPRV_FAULT 31, PRV_S, CAUSE_LOAD_PAGE_FAULT, VA_UPAGE, ld s1, 0(s0)
    li      t0, MSTATUS_SUM
    csrs    mstatus, t0
    MPRV_OK 32, PRV_S, ld s1, 0(s0)
    EXPECT  32, s1, 0x11110001
    li      t0, MSTATUS_SUM
    csrc    mstatus, t0
    MPRV_OK 33, PRV_U, ld s1, 0(s0)
    EXPECT  33, s1, 0x11110001
    li      s0, VA_SPAGE
    MPRV_FAULT 34, PRV_U, CAUSE_STORE_PAGE_FAULT, VA_SPAGE + 8, sd s1, 8(s0)
    li      s0, VA_XONLY
    MPRV_FAULT 35, PRV_S, CAUSE_LOAD_PAGE_FAULT, VA_XONLY, ld s1, 0(s0)
    li      t0, MSTATUS_MXR
    csrs    mstatus, t0
    MPRV_OK 36, PRV_S, ld s1, 0(s0)
    EXPECT  36, s1, 0x77770003
    li      t0, MSTATUS_MXR
    csrc    mstatus, t0
    /* MPRV with MPP = M: no translation (the identity address works, and so would any PA) */
    la      s0, page_s
    MPRV_OK 37, PRV_M, ld s1, 0(s0)
    EXPECT  37, s1, 0x55550002

    SATP_OFF
TEST_PASS

    .balign 4096
xpage:
    li      a0, 77
    ret
    .balign 4096
TEST_END
PAGING_LIB

    .data
    .balign 4096
page_u: .skip 4096
page_s: .skip 4096
page_x: .skip 4096
