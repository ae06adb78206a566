/* paging_sv48.S — Sv48 translation (privileged spec 4.5 "Sv48"): four-level walks for 4 KiB pages
 * and 2 MiB, 1 GiB and 512 GiB superpages; a misaligned 512 GiB superpage faults; canonical form
 * is now bits 63:48 = bit 47 (an address valid under Sv48 is non-canonical under Sv39, checked by
 * switching satp.MODE); high-half mappings; A updates and a pointer PTE at the last level. */
#include "test_macros.h"
#include "paging.h"

#define RWX_AD  (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define RW_AD   (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)

#define VA_4K       0x0000400000000000     /* VPN[3] = 128: beyond Sv39's reach */
#define VA_AD       0x0000400000001000
#define VA_NL       0x0000400000002000
#define VA_NONE     0x0000400000003000
#define VA_2M       0x0000400000200000
#define VA_1G       0x0000400040000000
#define VA_512G     0x0000008000000000     /* VPN[3] = 1, maps physical 0.. */
#define VA_BAD512G  0x0000010000000000     /* VPN[3] = 2, maps a PA that is not 512 GiB aligned */
#define VA_HIGH     0xffff800000000000     /* VPN[3] = 256 */
#define VA_NONCANON 0x7fff800000000000     /* the same low 48 bits, not sign-extended */
#define PA_2M       0x80400000

TEST_BEGIN
    PT_LEVELS 4
    MAP_CONST 0x80000000, 0x80000000, 2, RWX_AD
    MAP_LABEL VA_4K, page_a, 0, RW_AD
    MAP_LABEL VA_AD, page_b, 0, PTE_V | PTE_R | PTE_W
    mv      s10, a0
    MAP_LABEL VA_NL, page_b, 0, PTE_V
    MAP_CONST VA_2M, PA_2M, 1, RW_AD
    MAP_CONST VA_1G, 0x80000000, 2, RW_AD
    MAP_CONST VA_512G, 0, 3, RW_AD
    /* root[2]: under Sv48 a 512 GiB leaf for VA_BAD512G whose PA (0x8000_0000) is not 512 GiB
       aligned; the same entry read as Sv39's root[2] is the identity gigapage for 0x8000_0000,
       which keeps the code reachable when the test switches to Sv39 with this root. */
    MAP_CONST VA_BAD512G, 0x80000000, 3, RWX_AD
    MAP_CONST VA_HIGH, 0x80000000, 2, RW_AD
    la      t0, page_a
    li      t1, 0xaaaa0001
    sd      t1, 8(t0)
    li      t0, PA_2M + 0x1238
    li      t1, 0x22220003
    sd      t1, 0(t0)
    SATP_ON SATP_MODE_SV48
    csrr    a0, satp
    srli    a0, a0, 60
    EXPECT  1, a0, 9                                 /* Sv48 is supported */

    /* ---- successful translations at every level ---- */
    CHECK   2
    CLEAR_TRAPS
    GO_MODE PRV_S
    li      s0, VA_4K
    ld      s1, 8(s0)
    li      s0, VA_2M + 0x1238
    ld      s2, 0(s0)
    la      t0, page_a
    li      t1, 0x80000000
    sub     t2, t0, t1                               /* page_a's offset in RAM's first GiB */
    li      s0, VA_1G
    add     s0, s0, t2
    ld      s3, 8(s0)
    li      s0, VA_512G
    add     s0, s0, t0                               /* physical address as an offset */
    ld      s4, 8(s0)
    li      t1, 0x5a5a
    sd      t1, 16(s0)                               /* store through the 512 GiB page */
    li      s0, VA_HIGH
    add     s0, s0, t2
    ld      s5, 8(s0)
    M_RETURN
    EXPECT_MCOUNT 2, 1
    EXPECT  3, s1, 0xaaaa0001
    EXPECT  4, s2, 0x22220003
    EXPECT  5, s3, 0xaaaa0001
    EXPECT  6, s4, 0xaaaa0001
    EXPECT  7, s5, 0xaaaa0001
    la      t0, page_a
    ld      t0, 16(t0)
    EXPECT  8, t0, 0x5a5a

    /* ---- faults ---- */
    li      s0, VA_NONE
    EXPECT_TRAP_IN PRV_S, 10, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(s0)
    EXPECT_MTVAL 10, VA_NONE
    li      s0, VA_BAD512G
    EXPECT_TRAP_IN PRV_S, 11, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(s0)
    EXPECT_MTVAL 11, VA_BAD512G
    li      s0, VA_NONCANON
    EXPECT_TRAP_IN PRV_S, 12, CAUSE_STORE_PAGE_FAULT, sd a0, 0(s0)
    EXPECT_MTVAL 12, VA_NONCANON
    li      s0, 0x0000800000000000                   /* bit 47 set, bits 63:48 clear */
    EXPECT_TRAP_IN PRV_S, 13, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(s0)
    li      s0, VA_NL
    EXPECT_TRAP_IN PRV_S, 14, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(s0)
    CHECK   15
    SET_RESUME 16f
    GO_MODE PRV_S
    li      s0, VA_4K                                /* not executable */
    jalr    s0
    j       test_fail
16: EXPECT_MCAUSE 15, CAUSE_FETCH_PAGE_FAULT
    EXPECT_MTVAL 15, VA_4K

    /* ---- A/D through four levels ---- */
    li      s0, VA_AD
    EXPECT_OK_IN PRV_S, 20, sd zero, 0(s0)
    ld      t0, 0(s10)
    andi    t0, t0, PTE_A | PTE_D
    EXPECT  21, t0, PTE_A | PTE_D

    /* ---- the same VA under Sv39 is non-canonical ---- */
    la      t0, pt_root
    srli    t0, t0, 12
    li      t1, SATP_MODE_SV39
    or      t0, t0, t1
    csrw    satp, t0
    sfence.vma
    li      s0, VA_4K
    EXPECT_TRAP_IN PRV_S, 30, CAUSE_LOAD_PAGE_FAULT, ld a0, 8(s0)
    EXPECT_MTVAL 30, VA_4K + 8
    SATP_ON SATP_MODE_SV48
    EXPECT_OK_IN PRV_S, 31, ld a0, 8(s0)
    EXPECT  32, a0, 0xaaaa0001
    SATP_OFF
TEST_PASS
TEST_END
PAGING_LIB

    .data
    .balign 4096
page_a: .skip 4096
page_b: .skip 4096
