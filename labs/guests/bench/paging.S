/* paging.S — Sv39 paging benchmark for scripts/bench: an S-mode loop touching a 16 MiB working set
 * through 4 KiB pages (4096 pages: more than any TLB the simulators keep), so that most accesses
 * miss the TLB and walk the page table.
 *
 * Set-up (M-mode): a three-level Sv39 table maps VA 0x4000_0000..0x40ff_ffff with 4 KiB pages onto
 * physical RAM at 0x8080_0000 (A and D preset, so no A/D updates are measured), plus two identity
 * gigapages (VA 0 for the test finisher, VA 0x8000_0000 for code and tables). Then S-mode runs
 *
 *     loop: ld; add; sd; add; and; or; addi; bnez      (INSNS_PER_ITER = 8)
 *
 * stepping 4 KiB + 64 bytes each time, i.e. to the next page, wrapping in the 16 MiB window.
 * Total ≈ ITERATIONS * 8 + about 25,000 for set-up (the page-table fill loop: 4096 × 6):
 * 12.5 M iterations = 100 M instructions. MIPS = (ITERATIONS * 8) / seconds / 1e6.
 * Exit: S-mode writes 0x5555 to the finisher. */
    .equ ITERATIONS, 12500000
    .equ INSNS_PER_ITER, 8
    .equ WINDOW_VA, 0x40000000
    .equ WINDOW_PA, 0x80800000
    .equ WINDOW_SIZE, 0x1000000           /* 16 MiB */
    .equ TABLES_PA, 0x80400000            /* root, L1, then 8 L0 tables */
    .equ STRIDE, 4096 + 64

    .equ PTE_V, 1
    .equ PTE_R, 2
    .equ PTE_W, 4
    .equ PTE_X, 8
    .equ PTE_A, 0x40
    .equ PTE_D, 0x80

    .section .text.init, "ax"
    .globl _start
_start:
    csrr    t0, mhartid
    bnez    t0, park
    /* PMP: all of memory for S-mode (NAPOT, RWX) */
    li      t0, -1
    csrw    pmpaddr0, t0
    li      t0, 0x1f
    csrw    pmpcfg0, t0
    la      t0, m_trap
    csrw    mtvec, t0

    li      s0, TABLES_PA                 /* root */
    li      s1, TABLES_PA + 0x1000        /* L1 for VA 0x4000_0000 */
    li      s2, TABLES_PA + 0x2000        /* 8 L0 tables */
    /* root[0] and root[2]: identity gigapages; root[1] -> L1 */
    li      t0, (0 >> 2) | PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    sd      t0, 0(s0)
    li      t0, (0x80000000 >> 2) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    sd      t0, 16(s0)
    srli    t0, s1, 2
    ori     t0, t0, PTE_V
    sd      t0, 8(s0)
    /* L1[0..7] -> the L0 tables */
    li      t1, 0
1:  slli    t2, t1, 12
    add     t2, t2, s2
    srli    t2, t2, 2
    ori     t2, t2, PTE_V
    slli    t3, t1, 3
    add     t3, t3, s1
    sd      t2, 0(t3)
    addi    t1, t1, 1
    li      t4, 8
    bltu    t1, t4, 1b
    /* the 4096 leaf PTEs, contiguous across the 8 L0 tables */
    li      t1, WINDOW_PA >> 2
    ori     t1, t1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    li      t2, 4096
    mv      t3, s2
    li      t4, 0x1000 >> 2
2:  sd      t1, 0(t3)
    add     t1, t1, t4
    addi    t3, t3, 8
    addi    t2, t2, -1
    bnez    t2, 2b
    /* satp = Sv39 | root PPN; enter S-mode at s_main */
    srli    t0, s0, 12
    li      t1, 8 << 60
    or      t0, t0, t1
    csrw    satp, t0
    sfence.vma
    li      t0, 3 << 11
    csrc    mstatus, t0
    li      t0, 1 << 11
    csrs    mstatus, t0
    la      t0, s_main
    csrw    mepc, t0
    mret

s_main:
    li      t0, ITERATIONS
    li      a1, WINDOW_VA
    li      s2, STRIDE
    li      s3, WINDOW_SIZE - 1
    li      s4, WINDOW_VA
    li      a2, 0
    .balign 4
loop:
    ld      t1, 0(a1)
    add     a2, a2, t1
    sd      a2, 8(a1)
    add     a1, a1, s2
    and     a1, a1, s3
    or      a1, a1, s4
    addi    t0, t0, -1
    bnez    t0, loop
    li      t0, 0x100000
    li      t1, 0x5555
    sw      t1, 0(t0)
park:
    wfi
    j       park

/* Any trap is a failure: report (2 << 16) | 0x3333 (M-mode, bare addresses). */
    .balign 4
m_trap:
    li      t0, 0x100000
    li      t1, (2 << 16) | 0x3333
    sw      t1, 0(t0)
    j       park
