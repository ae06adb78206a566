/* paging.h — page-table building for the paging tests (privileged spec 4.3-4.5, Sv39/Sv48).
 *
 * PAGING_LIB (place it after TEST_END) emits:
 *   pt_reset              zero the table pool and start a new, empty root table (pt_root)
 *   pt_new_root           take a fresh root table from the pool and make it current (a0 := it):
 *                         later pt_map calls and SATP_ON use it (for several address spaces)
 *   pt_map                a0 = va, a1 = leaf PTE value, a2 = leaf level (0 = 4 KiB, 1 = 2 MiB,
 *                         2 = 1 GiB, 3 = 512 GiB); allocates intermediate tables from the pool,
 *                         writes the leaf and returns a0 = the leaf PTE's physical address.
 *                         Clobbers a3-a5, t0-t5.
 *   pt_levels (dword)     3 for Sv39, 4 for Sv48 — set it before mapping (PT_LEVELS).
 *   pt_root               the root table (4 KiB aligned), then a pool of PT_POOL_PAGES pages.
 * M-mode runs bare, so all of this uses physical addresses. */
#ifndef VMLAB_ISA_PAGING_H
#define VMLAB_ISA_PAGING_H

#define PT_POOL_PAGES 24

/* The PTE value for physical address pa (a register) with flags: reg := (pa >> 12) << 10 | flags */
.macro MAKE_PTE reg, pa, flags
    srli    \reg, \pa, 12
    slli    \reg, \reg, 10
    li      t6, \flags
    or      \reg, \reg, t6
.endm

/* Set the number of levels (3 = Sv39, 4 = Sv48) and clear the tables. */
.macro PT_LEVELS n
    la      t0, pt_levels
    li      t1, \n
    sd      t1, 0(t0)
    call    pt_reset
.endm

/* Map va (constant) -> pa (constant) at level with flags; a0 := the leaf PTE's address. */
.macro MAP_CONST va, pa, level, flags
    li      a0, \va
    li      a1, ((((\pa) >> 12) << 10) | (\flags))
    li      a2, \level
    call    pt_map
.endm
/* Map va (constant) -> the physical address of label sym, at level with flags. */
.macro MAP_LABEL va, sym, level, flags
    la      a1, \sym
    MAKE_PTE a1, a1, \flags
    li      a0, \va
    li      a2, \level
    call    pt_map
.endm

/* satp := mode | the current root's PPN (ASID 0), then SFENCE.VMA. */
.macro SATP_ON mode
    la      t0, pt_cur_root
    ld      t0, 0(t0)
    srli    t0, t0, 12
    li      t1, \mode
    or      t0, t0, t1
    csrw    satp, t0
    sfence.vma
.endm
.macro SATP_OFF
    csrw    satp, zero
    sfence.vma
.endm

.macro PAGING_LIB
    .text
pt_reset:
    la      t0, pt_root
    li      t1, (PT_POOL_PAGES + 1) * 4096
    add     t1, t1, t0
1:  sd      zero, 0(t0)
    addi    t0, t0, 8
    bltu    t0, t1, 1b
    la      t0, pt_next
    la      t1, pt_pool
    sd      t1, 0(t0)
    la      t0, pt_cur_root
    la      t1, pt_root
    sd      t1, 0(t0)
    ret

pt_new_root:
    la      t0, pt_next
    ld      a0, 0(t0)
    li      t1, 4096
    add     t1, t1, a0
    sd      t1, 0(t0)
    la      t0, pt_cur_root
    sd      a0, 0(t0)
    ret

pt_map:
    la      t0, pt_levels
    ld      t1, 0(t0)
    addi    t1, t1, -1                  /* t1 = current level, from the top */
    la      t2, pt_cur_root
    ld      t2, 0(t2)                   /* t2 = current table */
1:  li      t3, 9
    mul     t3, t3, t1
    addi    t3, t3, 12
    srl     t4, a0, t3
    andi    t4, t4, 511
    slli    t4, t4, 3
    add     t4, t4, t2                  /* t4 = &table[VPN[level]] */
    beq     t1, a2, 3f
    ld      t5, 0(t4)
    andi    a3, t5, PTE_V
    bnez    a3, 2f
    /* allocate the next-level table */
    la      a3, pt_next
    ld      a4, 0(a3)
    li      a5, 4096
    add     a5, a5, a4
    sd      a5, 0(a3)
    srli    t5, a4, 12
    slli    t5, t5, 10
    ori     t5, t5, PTE_V
    sd      t5, 0(t4)
2:  srli    t2, t5, 10
    slli    t2, t2, 12
    addi    t1, t1, -1
    j       1b
3:  sd      a1, 0(t4)
    mv      a0, t4
    ret

    .data
    .balign 8
pt_levels: .dword 3
pt_next:   .dword 0
pt_cur_root: .dword 0
    .balign 4096
pt_root:   .skip 4096
pt_pool:   .skip PT_POOL_PAGES * 4096
    .text
.endm

#endif
