/* paging_asid.S — address-space identifiers (privileged spec 4.1.11 "satp", 4.2.1 "Supervisor
 * Memory-Management Fence Instruction"): two Sv39 address spaces map the same virtual page to
 * different physical pages; with distinct ASIDs, S-mode switches between them by writing satp alone
 * and must always see the current space's page (a TLB tagged by ASID, or one flushed on every
 * switch, both satisfy this). SFENCE.VMA x0, asid after changing a PTE of that ASID makes the
 * change visible. The ASID field's implemented width (ASIDLEN) is discovered by writing ones; with
 * fewer than 2 bits the spaces cannot be told apart, so every switch is followed by SFENCE.VMA as
 * the spec then requires. Code and data are reached through a global (G) identity gigapage. */
#include "test_macros.h"
#include "paging.h"

#define RWX_ADG (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_G)
#define RW_AD   (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define VA_X    0x140000000
#define SATP_ASID_SHIFT 44

TEST_BEGIN
    la      t0, page_a
    li      t1, 0xaaaa
    sd      t1, 0(t0)
    la      t0, page_b
    li      t1, 0xbbbb
    sd      t1, 0(t0)
    la      t0, page_c
    li      t1, 0xcccc
    sd      t1, 0(t0)

    PT_LEVELS 3                                      /* address space 1: pt_root */
    MAP_CONST 0x80000000, 0x80000000, 2, RWX_ADG
    MAP_LABEL VA_X, page_a, 0, RW_AD
    call    pt_new_root                              /* address space 2 */
    mv      s9, a0
    MAP_CONST 0x80000000, 0x80000000, 2, RWX_ADG
    MAP_LABEL VA_X, page_b, 0, RW_AD
    mv      s8, a0                                   /* &PTE(VA_X) in space 2 */

    /* ASIDLEN: write all ones to satp.ASID (with a valid Sv39 root) and read back */
    la      t0, pt_root
    srli    t0, t0, 12
    li      t1, SATP_MODE_SV39 | (0xffff << SATP_ASID_SHIFT)
    or      t0, t0, t1
    csrw    satp, t0
    csrr    t0, satp
    srli    s6, t0, SATP_ASID_SHIFT
    li      t1, 0xffff
    and     s6, s6, t1                               /* s6 = the implemented ASID bits */
    csrw    satp, zero
    sfence.vma
    /* the implemented bits are the low ones (4.1.11: ASIDLEN least-significant bits) */
    addi    t0, s6, 1
    and     t0, t0, s6
    EXPECT  1, t0, 0
    li      s7, 0                                    /* s7 = 1: fence after every switch */
    li      t0, 3
    bgeu    s6, t0, 1f
    li      s7, 1
1:  /* satp values: s1 = space 1 (ASID 1), s2 = space 2 (ASID 2), masked to ASIDLEN */
    li      t0, 1 << SATP_ASID_SHIFT
    li      t1, 2 << SATP_ASID_SHIFT
    beqz    s7, 2f
    li      t0, 0
    li      t1, 0
2:  la      s1, pt_root
    srli    s1, s1, 12
    or      s1, s1, t0
    li      t2, SATP_MODE_SV39
    or      s1, s1, t2
    srli    s2, s9, 12
    or      s2, s2, t1
    or      s2, s2, t2
    srli    s10, t1, SATP_ASID_SHIFT                 /* ASID of space 2 */
    csrw    satp, s1
    csrr    a0, satp
    EXPECT_REG 2, a0, s1                             /* the ASID reads back */

    /* ---- switching spaces by satp alone ---- */
    li      s0, VA_X
    CHECK   3
    CLEAR_TRAPS
    GO_MODE PRV_S
    csrw    satp, s1
    beqz    s7, 3f
    sfence.vma
3:  ld      a1, 0(s0)
    csrw    satp, s2
    beqz    s7, 4f
    sfence.vma
4:  ld      a2, 0(s0)
    csrw    satp, s1
    beqz    s7, 5f
    sfence.vma
5:  ld      a3, 0(s0)
    csrw    satp, s2
    beqz    s7, 6f
    sfence.vma
6:  ld      a4, 0(s0)
    M_RETURN
    EXPECT_MCOUNT 3, 1
    EXPECT  4, a1, 0xaaaa
    EXPECT  5, a2, 0xbbbb
    EXPECT  6, a3, 0xaaaa
    EXPECT  7, a4, 0xbbbb

    /* ---- SFENCE.VMA for one ASID after changing that space's PTE ---- */
    la      t0, page_c
    MAKE_PTE t0, t0, RW_AD
    sd      t0, 0(s8)
    CHECK   10
    GO_MODE PRV_S
    csrw    satp, s2
    sfence.vma zero, s10
    ld      a1, 0(s0)
    csrw    satp, s1
    beqz    s7, 7f
    sfence.vma
7:  ld      a2, 0(s0)
    M_RETURN
    EXPECT  10, a1, 0xcccc
    EXPECT  11, a2, 0xaaaa                           /* space 1 is unchanged */
    /* and for one address in one ASID */
    la      t0, page_a
    MAKE_PTE t0, t0, RW_AD
    sd      t0, 0(s8)                                /* space 2 now maps page_a too */
    CHECK   12
    GO_MODE PRV_S
    csrw    satp, s2
    sfence.vma s0, s10
    ld      a1, 0(s0)
    M_RETURN
    EXPECT  12, a1, 0xaaaa
    SATP_OFF
TEST_PASS
TEST_END
PAGING_LIB

    .data
    .balign 4096
page_a: .skip 4096
page_b: .skip 4096
page_c: .skip 4096
