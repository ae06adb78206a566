/* test_macros.h — a small assembly framework for vmlab's ISA test programs (the .S files here).
 *
 * A program is
 *
 *     #include "test_macros.h"
 *     TEST_BEGIN
 *         ... checks ...
 *     TEST_PASS
 *     TEST_END
 *
 * It is entered in M-mode at 0x80000000 (QEMU virt, -bios none); harts other than 0 park in WFI.
 * It reports through the sifive test finisher at 0x100000: 0x5555 passes, (N << 16) | 0x3333 fails
 * with N = the number of the failing check (the value of gp when it failed), so a failure names the
 * check. QEMU exits with status N (mod 256), hence check numbers are kept within 1..255.
 *
 * Registers reserved by the framework: gp (x3) holds the number of the current check; tp (x4) and
 * t6 (x31) are scratch for the macros and the trap handlers. Everything else belongs to the test.
 *
 * Traps. An M-mode handler records mcause, mepc, mtval and mstatus (as seen on entry) in memory
 * (m_trap_area; read it with TRAP_FIELD or the EXPECT_M* macros), counts the trap, then:
 *   - if a resume address was set with SET_RESUME, it resumes there in M-mode, with MPRV cleared and
 *     MIE left clear (MPIE := 0, so a still-pending interrupt does not re-enter at once);
 *   - else if the trap is an ECALL from U or S and GO_MODE armed it, it resumes after the ECALL in
 *     M-mode (this is how M_RETURN leaves a lower privilege mode);
 *   - else the trap was unexpected: it prints the cause on the UART and fails with the current check.
 * An S-mode handler (stvec), used when traps are delegated, records scause, sepc, stval and sstatus
 * (s_trap_area; STRAP_FIELD, EXPECT_S*), then resumes at the address set by SET_SRESUME in S-mode if any, else executes
 * ECALL so that the M-mode handler takes over (resume or failure as above).
 */
#ifndef VMLAB_ISA_TEST_MACROS_H
#define VMLAB_ISA_TEST_MACROS_H

/* ---- platform (QEMU virt memory map) ---- */
#define SYSCON_BASE     0x100000
#define UART_BASE       0x10000000
#define CLINT_BASE      0x2000000
#define CLINT_MSIP      0x2000000       /* hart 0 */
#define CLINT_MTIMECMP  0x2004000       /* hart 0 */
#define CLINT_MTIME     0x200bff8
/* A physical address with nothing behind it, on QEMU virt (any RAM size up to 32 GiB) and vmlab. */
#define UNMAPPED_PA     0x1000000000

/* ---- privilege levels ---- */
#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

/* ---- mstatus / sstatus fields (privileged spec, 3.1.6) ---- */
#define MSTATUS_SIE    (1 << 1)
#define MSTATUS_MIE    (1 << 3)
#define MSTATUS_SPIE   (1 << 5)
#define MSTATUS_MPIE   (1 << 7)
#define MSTATUS_SPP    (1 << 8)
#define MSTATUS_MPP    (3 << 11)
#define MSTATUS_FS     (3 << 13)
#define MSTATUS_FS_INITIAL (1 << 13)
#define MSTATUS_FS_CLEAN   (2 << 13)
#define MSTATUS_FS_DIRTY   (3 << 13)
#define MSTATUS_MPRV   (1 << 17)
#define MSTATUS_SUM    (1 << 18)
#define MSTATUS_MXR    (1 << 19)
#define MSTATUS_TVM    (1 << 20)
#define MSTATUS_TW     (1 << 21)
#define MSTATUS_TSR    (1 << 22)
#define MSTATUS_SD     (1 << 63)

/* ---- exception causes (3.1.15, table "machine cause register values") ---- */
#define CAUSE_MISALIGNED_FETCH  0
#define CAUSE_FETCH_ACCESS      1
#define CAUSE_ILLEGAL           2
#define CAUSE_BREAKPOINT        3
#define CAUSE_MISALIGNED_LOAD   4
#define CAUSE_LOAD_ACCESS       5
#define CAUSE_MISALIGNED_STORE  6
#define CAUSE_STORE_ACCESS      7
#define CAUSE_ECALL_U           8
#define CAUSE_ECALL_S           9
#define CAUSE_ECALL_M           11
#define CAUSE_FETCH_PAGE_FAULT  12
#define CAUSE_LOAD_PAGE_FAULT   13
#define CAUSE_STORE_PAGE_FAULT  15
#define CAUSE_INTERRUPT         (1 << 63)
#define IRQ_S_SOFT   1
#define IRQ_M_SOFT   3
#define IRQ_S_TIMER  5
#define IRQ_M_TIMER  7
#define IRQ_S_EXT    9
#define IRQ_M_EXT    11
#define MIP_SSIP (1 << IRQ_S_SOFT)
#define MIP_MSIP (1 << IRQ_M_SOFT)
#define MIP_STIP (1 << IRQ_S_TIMER)
#define MIP_MTIP (1 << IRQ_M_TIMER)
#define MIP_SEIP (1 << IRQ_S_EXT)
#define MIP_MEIP (1 << IRQ_M_EXT)

/* ---- page-table entries (4.3.1) ---- */
#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_U (1 << 4)
#define PTE_G (1 << 5)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define SATP_MODE_SV39 (8 << 60)
#define SATP_MODE_SV48 (9 << 60)

/* ---- PMP configuration bits (3.7.1) ---- */
#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_OFF   0x00
#define PMP_TOR   0x08
#define PMP_NA4   0x10
#define PMP_NAPOT 0x18
#define PMP_L 0x80

/* Offsets in the M-mode trap record (m_trap_area). */
#define TR_T0      0
#define TR_T1      8
#define TR_CAUSE   16
#define TR_EPC     24
#define TR_TVAL    32
#define TR_STATUS  40
#define TR_COUNT   48
#define TR_RESUME  56
#define TR_ECALLRET 64
#define TR_SIZE    80

/* ============================ program frame ============================ */

/* Entry: park other harts, install the trap handlers, open PMP entry 0 to all of memory for S/U
 * (with PMP implemented and no entry matching, S/U accesses fail: 3.7.1), enable the FPU (FS=Initial),
 * clear delegation and interrupt enables, and start with check number 0. */
.macro TEST_BEGIN
    .section .text.init, "ax"
    .globl _start
_start:
    csrr    t0, mhartid
    bnez    t0, park_hart
    la      t0, m_trap_handler
    csrw    mtvec, t0
    la      t0, m_trap_area
    csrw    mscratch, t0
    la      t0, s_trap_handler
    csrw    stvec, t0
    la      t0, s_trap_area
    csrw    sscratch, t0
    csrw    medeleg, zero
    csrw    mideleg, zero
    csrw    mie, zero
    csrw    satp, zero
    li      t0, -1
    csrw    pmpaddr0, t0
    li      t0, PMP_NAPOT | PMP_R | PMP_W | PMP_X
    csrw    pmpcfg0, t0
    li      t0, MSTATUS_FS
    csrc    mstatus, t0
    li      t0, MSTATUS_FS_INITIAL
    csrs    mstatus, t0
    csrw    fcsr, zero
    la      sp, __stack_top
    li      gp, 0
    j       test_body
park_hart:
    wfi
    j       park_hart
test_body:
.endm

.macro TEST_PASS
    j       test_pass
.endm

/* Handlers, pass/fail exits and the data they use; place after the last check. */
.macro TEST_END
    .text
    .balign 4
/* M-mode handler (see the header comment). */
m_trap_handler:
    csrrw   t6, mscratch, t6
    sd      t0, TR_T0(t6)
    sd      t1, TR_T1(t6)
    csrr    t0, mcause
    sd      t0, TR_CAUSE(t6)
    csrr    t0, mepc
    sd      t0, TR_EPC(t6)
    csrr    t0, mtval
    sd      t0, TR_TVAL(t6)
    csrr    t0, mstatus
    sd      t0, TR_STATUS(t6)
    ld      t0, TR_COUNT(t6)
    addi    t0, t0, 1
    sd      t0, TR_COUNT(t6)
    ld      t0, TR_RESUME(t6)
    bnez    t0, 1f
    /* no resume address: an armed ECALL from U or S returns to M after the ECALL */
    ld      t1, TR_ECALLRET(t6)
    beqz    t1, m_trap_unexpected
    ld      t1, TR_CAUSE(t6)
    addi    t1, t1, -CAUSE_ECALL_U
    srli    t1, t1, 1                /* 0 for causes 8 and 9 */
    bnez    t1, m_trap_unexpected
    csrr    t0, mepc
    addi    t0, t0, 4
1:  sd      zero, TR_RESUME(t6)
    sd      zero, TR_ECALLRET(t6)
    csrw    mepc, t0
    li      t0, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MPRV
    csrc    mstatus, t0
    li      t0, PRV_M << 11
    csrs    mstatus, t0
    ld      t0, TR_T0(t6)
    ld      t1, TR_T1(t6)
    csrrw   t6, mscratch, t6
    mret
m_trap_unexpected:
    li      t0, MSTATUS_MPRV
    csrc    mstatus, t0
    la      a0, msg_trap
    call    test_puts
    ld      a0, TR_CAUSE(t6)
    call    test_puthex
    la      a0, msg_epc
    call    test_puts
    ld      a0, TR_EPC(t6)
    call    test_puthex
    la      a0, msg_tval
    call    test_puts
    ld      a0, TR_TVAL(t6)
    call    test_puthex
    j       test_fail

/* S-mode handler: record, then resume (SET_SRESUME) or hand over to M through ECALL. */
    .balign 4
s_trap_handler:
    csrrw   t6, sscratch, t6
    sd      t0, TR_T0(t6)
    csrr    t0, scause
    sd      t0, TR_CAUSE(t6)
    csrr    t0, sepc
    sd      t0, TR_EPC(t6)
    csrr    t0, stval
    sd      t0, TR_TVAL(t6)
    csrr    t0, sstatus
    sd      t0, TR_STATUS(t6)
    ld      t0, TR_COUNT(t6)
    addi    t0, t0, 1
    sd      t0, TR_COUNT(t6)
    ld      t0, TR_RESUME(t6)
    beqz    t0, 1f
    sd      zero, TR_RESUME(t6)
    csrw    sepc, t0
    li      t0, MSTATUS_SPP | MSTATUS_SPIE
    csrc    sstatus, t0
    li      t0, MSTATUS_SPP
    csrs    sstatus, t0
    ld      t0, TR_T0(t6)
    csrrw   t6, sscratch, t6
    sret
1:  ld      t0, TR_T0(t6)
    csrrw   t6, sscratch, t6
    ecall

test_pass:
    li      t0, SYSCON_BASE
    li      t1, 0x5555
    sw      t1, 0(t0)
1:  j       1b

test_fail:
    la      a0, msg_fail
    call    test_puts
    mv      a0, gp
    call    test_puthex
    li      a0, '\n'
    call    test_putc
    mv      t1, gp
    bnez    t1, 1f
    li      t1, 255
1:  slli    t1, t1, 16
    li      t0, 0x3333
    or      t1, t1, t0
    li      t0, SYSCON_BASE
    sw      t1, 0(t0)
2:  j       2b

/* UART output for failure messages. The 16550 is written without polling LSR so that a machine
 * without a UART model still reaches the finisher. Clobbers a0, t0, t1, t2. */
test_putc:
    li      t0, UART_BASE
    sb      a0, 0(t0)
    ret
test_puts:
    mv      t2, ra
    mv      t1, a0
1:  lbu     a0, 0(t1)
    beqz    a0, 2f
    li      t0, UART_BASE
    sb      a0, 0(t0)
    addi    t1, t1, 1
    j       1b
2:  mv      ra, t2
    ret
test_puthex:
    li      t2, 60
1:  srl     t1, a0, t2
    andi    t1, t1, 15
    addi    t1, t1, '0'
    li      t0, '9'
    ble     t1, t0, 2f
    addi    t1, t1, 'a' - '9' - 1
2:  li      t0, UART_BASE
    sb      t1, 0(t0)
    addi    t2, t2, -4
    bgez    t2, 1b
    ret

    .section .rodata
msg_fail:  .asciz "FAIL check 0x"
msg_trap:  .asciz "unexpected trap mcause=0x"
msg_epc:   .asciz " mepc=0x"
msg_tval:  .asciz " mtval=0x"

    .data
    .balign 16
m_trap_area:  .skip TR_SIZE
s_trap_area:  .skip TR_SIZE
    .text
.endm

/* ============================ checks ============================ */

/* Starts check n (1..255): a failure from here on reports n. */
.macro CHECK n
    .if (\n) < 1 || (\n) > 255
    .error "check numbers must be within 1..255 (QEMU exits with the code mod 256)"
    .endif
    li      gp, \n
.endm

/* Check n: register reg equals the constant val. */
.macro EXPECT n, reg, val
    CHECK   \n
    li      tp, \val
    beq     \reg, tp, .Lok\@
    j       test_fail
.Lok\@:
.endm

/* Check n: register reg equals the address of label sym. */
.macro EXPECT_ADDR n, reg, sym
    CHECK   \n
    la      tp, \sym
    beq     \reg, tp, .Lok\@
    j       test_fail
.Lok\@:
.endm

/* Check n: registers a and b are equal. */
.macro EXPECT_REG n, a, b
    CHECK   \n
    beq     \a, \b, .Lok\@
    j       test_fail
.Lok\@:
.endm

/* Check n: registers a and b differ. */
.macro EXPECT_NE n, a, b
    CHECK   \n
    bne     \a, \b, .Lok\@
    j       test_fail
.Lok\@:
.endm

/* Check n: register reg equals one of two constants (where the spec leaves a choice). */
.macro EXPECT_EITHER n, reg, a, b
    CHECK   \n
    li      tp, \a
    beq     \reg, tp, .Lok\@
    li      tp, \b
    beq     \reg, tp, .Lok\@
    j       test_fail
.Lok\@:
.endm

/* Fail check n unconditionally (code that must not be reached). */
.macro FAIL n
    CHECK   \n
    j       test_fail
.endm

/* Check n: `op a0, a1, a2` with a1 = a, a2 = b gives exp. */
.macro TEST_RR n, op, exp, a, b
    li      a1, \a
    li      a2, \b
    \op     a0, a1, a2
    EXPECT  \n, a0, \exp
.endm
/* Check n: `op a0, a1, imm` with a1 = a gives exp. */
.macro TEST_RI n, op, exp, a, imm
    li      a1, \a
    \op     a0, a1, \imm
    EXPECT  \n, a0, \exp
.endm

/* ---- traps ---- */

/* The next M-mode trap resumes at label in M-mode. Must run where m_trap_area is writable
 * (M-mode, or S/U with bare translation). */
.macro SET_RESUME label
    la      t6, \label
    la      tp, m_trap_area
    sd      t6, TR_RESUME(tp)
.endm

/* The next S-mode trap resumes at label in S-mode. */
.macro SET_SRESUME label
    la      t6, \label
    la      tp, s_trap_area
    sd      t6, TR_RESUME(tp)
.endm

/* Clear both trap records' counters and resume addresses. */
.macro CLEAR_TRAPS
    la      tp, m_trap_area
    sd      zero, TR_COUNT(tp)
    sd      zero, TR_CAUSE(tp)
    sd      zero, TR_EPC(tp)
    sd      zero, TR_TVAL(tp)
    sd      zero, TR_RESUME(tp)
    la      tp, s_trap_area
    sd      zero, TR_COUNT(tp)
    sd      zero, TR_CAUSE(tp)
    sd      zero, TR_EPC(tp)
    sd      zero, TR_TVAL(tp)
    sd      zero, TR_RESUME(tp)
.endm

/* Load a field of the M (or S) trap record into reg. */
.macro TRAP_FIELD reg, off
    la      \reg, m_trap_area
    ld      \reg, \off(\reg)
.endm
.macro STRAP_FIELD reg, off
    la      \reg, s_trap_area
    ld      \reg, \off(\reg)
.endm

/* Check n: the last M-mode trap had this mcause / mepc (a label) / mtval (a constant or a label). */
.macro EXPECT_MCAUSE n, cause
    TRAP_FIELD t6, TR_CAUSE
    EXPECT  \n, t6, \cause
.endm
.macro EXPECT_MEPC n, sym
    TRAP_FIELD t6, TR_EPC
    EXPECT_ADDR \n, t6, \sym
.endm
.macro EXPECT_MTVAL n, val
    TRAP_FIELD t6, TR_TVAL
    EXPECT  \n, t6, \val
.endm
.macro EXPECT_MTVAL_EITHER n, a, b
    TRAP_FIELD t6, TR_TVAL
    EXPECT_EITHER \n, t6, \a, \b
.endm
.macro EXPECT_MTVAL_ADDR n, sym
    TRAP_FIELD t6, TR_TVAL
    EXPECT_ADDR \n, t6, \sym
.endm
/* Check n: the number of M-mode traps since CLEAR_TRAPS. */
.macro EXPECT_MCOUNT n, count
    TRAP_FIELD t6, TR_COUNT
    EXPECT  \n, t6, \count
.endm
.macro EXPECT_SCAUSE n, cause
    STRAP_FIELD t6, TR_CAUSE
    EXPECT  \n, t6, \cause
.endm
.macro EXPECT_SEPC n, sym
    STRAP_FIELD t6, TR_EPC
    EXPECT_ADDR \n, t6, \sym
.endm
.macro EXPECT_STVAL n, val
    STRAP_FIELD t6, TR_TVAL
    EXPECT  \n, t6, \val
.endm
.macro EXPECT_STVAL_ADDR n, sym
    STRAP_FIELD t6, TR_TVAL
    EXPECT_ADDR \n, t6, \sym
.endm
.macro EXPECT_SCOUNT n, count
    STRAP_FIELD t6, TR_COUNT
    EXPECT  \n, t6, \count
.endm

/* Check n: executing the instruction(s) `insn` (one statement) traps with cause, mepc at the
 * instruction, and execution resumes after it in M-mode. mtval is not checked here. */
.macro EXPECT_TRAP n, cause, insn:vararg
    CHECK   \n
    SET_RESUME .Lres\@
.Lat\@:
    \insn
    j       test_fail             /* did not trap */
.Lres\@:
    EXPECT_MCAUSE \n, \cause
    EXPECT_MEPC \n, .Lat\@
.endm

/* Same, also checking mtval == val. */
.macro EXPECT_TRAP_TVAL n, cause, val, insn:vararg
    EXPECT_TRAP \n, \cause, \insn
    EXPECT_MTVAL \n, \val
.endm

/* ---- known QEMU 7.2 deviations ----
 * A check that QEMU 7.2 gets wrong (against the spec) is skipped under it and only there:
 * SKIP_ON_QEMU72 label jumps to label when the hart identifies as QEMU 7.2.x (mvendorid = 0 and
 * marchid = mimpid = 0x0702xx, QEMU's version number). Every use names the deviation. */
.macro SKIP_ON_QEMU72 label
    csrr    t6, mvendorid
    bnez    t6, .Lnot\@
    csrr    t6, marchid
    csrr    tp, mimpid
    bne     t6, tp, .Lnot\@
    srli    t6, t6, 8
    li      tp, 0x0702
    beq     t6, tp, \label
.Lnot\@:
.endm

/* ---- privilege changes ---- */

/* Continue at label in privilege mode `mode` (through MRET from M-mode). */
.macro ENTER_MODE mode, label
    li      t6, MSTATUS_MPP
    csrc    mstatus, t6
    li      t6, (\mode) << 11
    csrs    mstatus, t6
    la      t6, \label
    csrw    mepc, t6
    mret
.endm

/* Run the code that follows in `mode` (U or S) until M_RETURN, which comes back to M-mode after it.
 * A trap in between that is not expected fails the current check. */
.macro GO_MODE mode
    la      tp, m_trap_area
    li      t6, 1
    sd      t6, TR_ECALLRET(tp)
    ENTER_MODE \mode, .Lgo\@
.Lgo\@:
.endm
.macro M_RETURN
    ecall
.endm

/* Check n: in privilege mode `mode`, `insn` traps (to M) with cause; back in M-mode after it. */
.macro EXPECT_TRAP_IN mode, n, cause, insn:vararg
    CHECK   \n
    GO_MODE \mode
    EXPECT_TRAP \n, \cause, \insn
.endm
/* Check n: in privilege mode `mode`, `insn` executes without trapping; back in M-mode after it
 * (the only trap seen is the ECALL of M_RETURN, from that mode). */
.macro EXPECT_OK_IN mode, n, insn:vararg
    CHECK   \n
    CLEAR_TRAPS
    GO_MODE \mode
    \insn
    M_RETURN
    EXPECT_MCOUNT \n, 1
    .if (\mode) == PRV_U
    EXPECT_MCAUSE \n, CAUSE_ECALL_U
    .else
    EXPECT_MCAUSE \n, CAUSE_ECALL_S
    .endif
.endm

/* ---- floating point ---- */

/* Load a bit pattern into an FP register: 64-bit (D) or 32-bit NaN-boxed (S). */
.macro FLI_D freg, bits
    li      t6, \bits
    fmv.d.x \freg, t6
.endm
.macro FLI_S freg, bits
    li      t6, \bits
    fmv.w.x \freg, t6
.endm

/* Check n: fflags equals flags; clears fflags. */
.macro EXPECT_FFLAGS n, flags
    csrrw   t6, fflags, zero
    EXPECT  \n, t6, \flags
.endm

/* Check n: FP register holds the 64-bit pattern bits. */
.macro EXPECT_FD n, freg, bits
    fmv.x.d t6, \freg
    EXPECT  \n, t6, \bits
.endm
/* Check n: FP register holds the single-precision pattern bits, properly NaN-boxed. */
.macro EXPECT_FS n, freg, bits
    fmv.x.d t6, \freg
    EXPECT  \n, t6, (0xffffffff00000000 | (\bits))
.endm

#define FFLAG_NX 0x01
#define FFLAG_UF 0x02
#define FFLAG_OF 0x04
#define FFLAG_DZ 0x08
#define FFLAG_NV 0x10

#endif
