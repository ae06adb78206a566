/* paging_sv39.S — Sv39 translation (privileged spec 4.3 "Sv32" for the algorithm, 4.4 "Sv39"):
 * 4 KiB pages, 2 MiB and 1 GiB superpages, high-half (negative) addresses; page faults with
 * mcause 12/13/15 and mtval = the virtual address for: invalid PTE, write without read (reserved
 * encoding), reserved PTE bits 63:54 set, a pointer PTE at the last level, misaligned superpages,
 * non-canonical addresses, stores to read-only pages, fetches from non-executable pages and loads
 * from execute-only pages; hardware A and D updates (the default here and in QEMU); SFENCE.VMA
 * after a PTE change (whole and per-address); satp ignores writes with an unsupported MODE;
 * a delegated page fault reaches S with scause/stval; a 32-bit instruction straddling two pages
 * runs when both are mapped and otherwise faults with mepc = its start and mtval = the second page.
 * S-mode code runs on an identity gigapage. */
#include "test_macros.h"
#include "paging.h"

#define RWX_AD  (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define RW_AD   (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define R_A     (PTE_V | PTE_R | PTE_A)
#define X_A     (PTE_V | PTE_X | PTE_A)

#define VA_4K    0x140000000
#define VA_WNR   0x140001000
#define VA_RSV   0x140002000
#define VA_NL    0x140003000
#define VA_NONE  0x140004000
#define VA_RO    0x140005000
#define VA_X     0x140006000
#define VA_AD    0x140007000
#define VA_XA    0x140008000
#define VA_SF    0x140009000
#define VA_CROSS  0x14000a000          /* xpage2, next page unmapped */
#define VA_CROSS2 0x14000c000          /* xpage2, next page = xpage3 */
#define VA_2M    0x140200000
#define VA_BAD2M 0x140400000
#define VA_1G    0x180000000
#define VA_BAD1G 0x1c0000000
#define VA_HIGH  0xffffffffc0000000       /* VPN[2] = 511: a canonical negative address */
#define VA_NONCANON 0x7fffffffc0000000    /* the same low 39 bits, bits 63:39 not a sign extension */
#define PA_2M    0x80400000               /* 2 MiB aligned, free RAM above the program */

TEST_BEGIN
    PT_LEVELS 3
    MAP_CONST 0x80000000, 0x80000000, 2, RWX_AD      /* identity: code, data, tables */
    MAP_LABEL VA_4K, page_a, 0, RW_AD
    MAP_LABEL VA_WNR, page_b, 0, PTE_V | PTE_W | PTE_A | PTE_D
    la      a1, page_b
    MAKE_PTE a1, a1, RW_AD
    li      t0, 1 << 54                              /* a reserved bit */
    or      a1, a1, t0
    li      a0, VA_RSV
    li      a2, 0
    call    pt_map
    MAP_LABEL VA_NL, page_b, 0, PTE_V                /* a pointer where a leaf must be */
    MAP_LABEL VA_RO, page_a, 0, R_A
    MAP_LABEL VA_X, xpage, 0, X_A
    MAP_LABEL VA_AD, page_c, 0, PTE_V | PTE_R | PTE_W
    mv      s10, a0                                  /* &PTE(VA_AD) */
    MAP_LABEL VA_XA, xpage, 0, PTE_V | PTE_X
    mv      s9, a0                                   /* &PTE(VA_XA) */
    MAP_LABEL VA_SF, page_a, 0, RW_AD
    mv      s8, a0                                   /* &PTE(VA_SF) */
    MAP_LABEL VA_CROSS, xpage2, 0, X_A
    MAP_LABEL VA_CROSS2, xpage2, 0, X_A
    MAP_LABEL VA_CROSS2 + 0x1000, xpage3, 0, X_A
    MAP_CONST VA_2M, PA_2M, 1, RW_AD
    MAP_CONST VA_BAD2M, PA_2M + 0x1000, 1, RW_AD     /* PPN[0] != 0: misaligned */
    MAP_CONST VA_1G, 0x80000000, 2, RW_AD
    MAP_CONST VA_BAD1G, 0x80200000, 2, RW_AD         /* PPN[1] != 0: misaligned */
    MAP_CONST VA_HIGH, 0x80000000, 2, RW_AD
    /* markers, written physically */
    la      t0, page_a
    li      t1, 0xaaaa0001
    sd      t1, 8(t0)
    la      t0, page_b
    li      t1, 0xbbbb0002
    sd      t1, 8(t0)
    li      t0, PA_2M + 0x1238
    li      t1, 0x22220003
    sd      t1, 0(t0)
    SATP_ON SATP_MODE_SV39

    /* ---- successful translations ---- */
    CHECK   1
    CLEAR_TRAPS
    GO_MODE PRV_S
    li      s0, VA_4K
    ld      s1, 8(s0)
    li      t0, 0x55
    sd      t0, 16(s0)
    li      s0, VA_2M + 0x1238
    ld      s2, 0(s0)
    li      s0, VA_1G
    la      t0, page_a                               /* identity address ... */
    li      t1, 0x80000000
    sub     t0, t0, t1
    add     s0, s0, t0                               /* ... as an offset in the 1 GiB page */
    ld      s3, 8(s0)
    li      s0, VA_HIGH
    add     s0, s0, t0
    ld      s4, 8(s0)
    li      s0, VA_X
    jalr    s0                                       /* execute from an X-only page */
    mv      s5, a0
    M_RETURN
    EXPECT_MCOUNT 1, 1
    EXPECT  2, s1, 0xaaaa0001                        /* 4 KiB */
    la      t0, page_a
    ld      t0, 16(t0)
    EXPECT  3, t0, 0x55
    EXPECT  4, s2, 0x22220003                        /* 2 MiB */
    EXPECT  5, s3, 0xaaaa0001                        /* 1 GiB */
    EXPECT  6, s4, 0xaaaa0001                        /* high half */
    EXPECT  7, s5, 77

    /* ---- page faults (mtval = the faulting virtual address) ---- */
    li      s0, VA_NONE
    EXPECT_TRAP_IN PRV_S, 10, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(s0)
    EXPECT_MTVAL 10, VA_NONE
    EXPECT_TRAP_IN PRV_S, 11, CAUSE_STORE_PAGE_FAULT, sw a0, 4(s0)
    EXPECT_MTVAL 11, VA_NONE + 4
    li      s0, VA_WNR
    EXPECT_TRAP_IN PRV_S, 12, CAUSE_LOAD_PAGE_FAULT, ld a0, 8(s0)
    EXPECT_MTVAL 12, VA_WNR + 8
    EXPECT_TRAP_IN PRV_S, 13, CAUSE_STORE_PAGE_FAULT, sd a0, 8(s0)
    li      s0, VA_NL
    EXPECT_TRAP_IN PRV_S, 15, CAUSE_LOAD_PAGE_FAULT, ld a0, 8(s0)
    li      s0, VA_RO
    EXPECT_OK_IN PRV_S, 16, ld a0, 8(s0)
    EXPECT_TRAP_IN PRV_S, 17, CAUSE_STORE_PAGE_FAULT, sd a0, 8(s0)
    EXPECT_MTVAL 17, VA_RO + 8
    EXPECT_TRAP_IN PRV_S, 18, CAUSE_STORE_PAGE_FAULT, amoadd.d a0, a0, (s0)   /* AMO = store */
    li      s0, VA_X
    EXPECT_TRAP_IN PRV_S, 19, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(s0)   /* X-only, MXR = 0 */
    li      s0, VA_BAD2M
    EXPECT_TRAP_IN PRV_S, 20, CAUSE_LOAD_PAGE_FAULT, ld a0, 0x238(s0)
    EXPECT_MTVAL 20, VA_BAD2M + 0x238
    li      s0, VA_BAD1G
    EXPECT_TRAP_IN PRV_S, 21, CAUSE_STORE_PAGE_FAULT, sd a0, 0(s0)
    li      s0, VA_NONCANON
    EXPECT_TRAP_IN PRV_S, 22, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(s0)
    EXPECT_MTVAL 22, VA_NONCANON
    li      s0, 0x0000008000000000                   /* bit 39 set, bit 38 clear */
    EXPECT_TRAP_IN PRV_S, 23, CAUSE_STORE_PAGE_FAULT, sd a0, 0(s0)
    /* instruction page faults: mepc = mtval = the target */
    CHECK   24
    SET_RESUME 25f
    GO_MODE PRV_S
    li      s0, VA_4K                                /* RW, not X */
    jalr    s0
    j       test_fail
25: EXPECT_MCAUSE 24, CAUSE_FETCH_PAGE_FAULT
    EXPECT_MTVAL 24, VA_4K
    TRAP_FIELD t0, TR_EPC
    EXPECT  24, t0, VA_4K
    CHECK   26
    SET_RESUME 27f
    GO_MODE PRV_S
    li      s0, VA_NONCANON
    jalr    s0
    j       test_fail
27: EXPECT_MCAUSE 26, CAUSE_FETCH_PAGE_FAULT
    EXPECT_MTVAL 26, VA_NONCANON
    /* reserved PTE bits (4.4.1: bits 63:54 must be zero, else a page fault; without Svpbmt and
       Svnapot that covers all ten bits) */
    li      s0, VA_RSV
    EXPECT_TRAP_IN PRV_S, 28, CAUSE_LOAD_PAGE_FAULT, ld a0, 8(s0)

    /* ---- A and D set by hardware ---- */
    ld      t0, 0(s10)
    andi    t0, t0, PTE_A | PTE_D
    EXPECT  30, t0, 0
    li      s0, VA_AD
    EXPECT_OK_IN PRV_S, 31, ld a0, 0(s0)
    ld      t0, 0(s10)
    andi    t0, t0, PTE_A | PTE_D
    EXPECT  32, t0, PTE_A                            /* a load sets A only */
    EXPECT_OK_IN PRV_S, 33, sd a0, 0(s0)
    ld      t0, 0(s10)
    andi    t0, t0, PTE_A | PTE_D
    EXPECT  34, t0, PTE_A | PTE_D                    /* a store sets D */
    li      s0, VA_XA
    EXPECT_OK_IN PRV_S, 35, jalr s0
    ld      t0, 0(s9)
    andi    t0, t0, PTE_A | PTE_D
    EXPECT  36, t0, PTE_A                            /* a fetch sets A */
    EXPECT  37, a0, 77

    /* ---- SFENCE.VMA after changing a PTE ---- */
    li      s0, VA_SF
    CHECK   40
    CLEAR_TRAPS
    GO_MODE PRV_S
    ld      s1, 8(s0)                                /* page_a, now in the TLB */
    M_RETURN
    EXPECT  40, s1, 0xaaaa0001
    la      t0, page_b
    MAKE_PTE t0, t0, RW_AD
    sd      t0, 0(s8)                                /* remap VA_SF -> page_b */
    CHECK   41
    GO_MODE PRV_S
    sfence.vma s0, zero                              /* this address only */
    ld      s1, 8(s0)
    M_RETURN
    EXPECT  41, s1, 0xbbbb0002
    sd      zero, 0(s8)                              /* unmap */
    CHECK   42
    GO_MODE PRV_S
    sfence.vma                                       /* everything */
    SET_RESUME 43f
42: ld      s1, 8(s0)
    j       test_fail
43: EXPECT_MCAUSE 42, CAUSE_LOAD_PAGE_FAULT
    EXPECT_MEPC 42, 42b

    /* ---- satp: an unsupported MODE makes the whole write void (4.1.11) ---- */
    csrr    s0, satp
    li      t0, (5 << 60) | 0x12345
    csrw    satp, t0
    csrr    a0, satp
    EXPECT_REG 50, a0, s0
    csrr    a0, satp
    srli    a0, a0, 60
    EXPECT  51, a0, 8

    /* ---- a delegated load page fault ---- */
    li      t0, 1 << CAUSE_LOAD_PAGE_FAULT
    csrw    medeleg, t0
    CLEAR_TRAPS
    li      s0, VA_NONE
    CHECK   60
    SET_RESUME 61f
    GO_MODE PRV_S
60: lw      a0, 12(s0)
    j       test_fail
61: EXPECT_MCAUSE 60, CAUSE_ECALL_S                  /* the S handler's hand-over */
    EXPECT_SCAUSE 61, CAUSE_LOAD_PAGE_FAULT
    EXPECT_STVAL 62, VA_NONE + 12
    EXPECT_SEPC 63, 60b
    csrw    medeleg, zero

    /* ---- a 32-bit instruction straddling two pages (4.3.2; 3.1.16: mtval = the address of the
       portion that faulted, mepc = the start of the instruction) ---- */
    CHECK   70
    CLEAR_TRAPS
    GO_MODE PRV_S
    li      s0, VA_CROSS2 + 0xffe
    jalr    s0                                       /* both pages mapped: it executes */
    M_RETURN
    EXPECT_MCOUNT 70, 1
    EXPECT  71, a0, 55
    CHECK   72
    SET_RESUME 73f
    GO_MODE PRV_S
    li      s0, VA_CROSS + 0xffe
    jalr    s0                                       /* the second half is unmapped */
    j       test_fail
73: EXPECT_MCAUSE 72, CAUSE_FETCH_PAGE_FAULT
    TRAP_FIELD t0, TR_EPC
    EXPECT  73, t0, VA_CROSS + 0xffe
    EXPECT_MTVAL 74, VA_CROSS + 0x1000

    SATP_OFF
TEST_PASS

    .balign 4096
xpage:                                               /* an executable page */
    li      a0, 77
    ret
    .balign 4096
xpage2:                                              /* ends with the first half of addi a0, zero, 55 */
    .skip   0xffe
    .hword  0x0513
xpage3:                                              /* starts with its second half */
    .hword  0x0370
    .option push
    .option norvc
    ret
    .option pop
    .balign 4096
TEST_END
PAGING_LIB

    .data
    .balign 4096
page_a: .skip 4096
page_b: .skip 4096
page_c: .skip 4096
