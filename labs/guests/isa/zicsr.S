/* zicsr.S — the Zicsr extension (unprivileged spec, chapter "Zicsr, Control and Status Register
 * (CSR) Instructions") and the CSR access rules of the privileged spec (2.1 "CSR Address Mapping
 * Conventions", 3.1): all six forms return the old value and write/set/clear; immediates are
 * 5-bit zero-extended; CSRRS/CSRRC with rs1 = x0 and CSRRSI/CSRRCI with uimm = 0 do not write, so
 * they may read read-only CSRs, while any form that writes a read-only CSR (even with a zero
 * operand from a non-x0 register) is illegal; unimplemented CSRs and CSRs above the current
 * privilege are illegal; sstatus/sie are views of mstatus/mie; misa, mhartid, mstatus.UXL/SXL,
 * WARL fields (mepc[0], MPP), fcsr = frm:fflags. */
#include "test_macros.h"

TEST_BEGIN
    /* ---- the six forms, on sscratch (read/write, no side effects) ---- */
    li      a1, 0x123456789abcdef0
    csrw    sscratch, a1
    li      a2, 0xff
    csrrw   a0, sscratch, a2
    EXPECT  1, a0, 0x123456789abcdef0
    csrr    a0, sscratch
    EXPECT  2, a0, 0xff
    li      a2, 0xf00
    csrrs   a0, sscratch, a2
    EXPECT  3, a0, 0xff
    csrr    a0, sscratch
    EXPECT  4, a0, 0xfff
    li      a2, 0x0f0
    csrrc   a0, sscratch, a2
    EXPECT  5, a0, 0xfff
    csrr    a0, sscratch
    EXPECT  6, a0, 0xf0f
    csrrwi  a0, sscratch, 31                 /* zimm is zero-extended: 31, not -1 */
    EXPECT  7, a0, 0xf0f
    csrr    a0, sscratch
    EXPECT  8, a0, 31
    csrrci  a0, sscratch, 0x15
    EXPECT  9, a0, 31
    csrr    a0, sscratch
    EXPECT  10, a0, 0x0a
    csrrsi  a0, sscratch, 0x11
    EXPECT  11, a0, 0x0a
    csrr    a0, sscratch
    EXPECT  12, a0, 0x1b
    /* rd = x0 still writes; rs1 = x0 in CSRRS/CSRRC does not change anything */
    li      a2, -1
    csrrw   zero, sscratch, a2
    csrrs   a0, sscratch, zero
    EXPECT  13, a0, -1
    csrrc   a0, sscratch, zero
    EXPECT  14, a0, -1
    /* rd = rs1: the old value lands in rd, the write uses the register's previous value */
    li      a0, 5
    csrrw   a0, sscratch, a0
    EXPECT  15, a0, -1
    csrr    a0, sscratch
    EXPECT  16, a0, 5
    la      t0, s_trap_area                  /* restore the framework's sscratch */
    csrw    sscratch, t0

    /* ---- read-only CSRs: reads are legal, write attempts illegal (2.1) ---- */
    csrr    a0, mhartid
    EXPECT  20, a0, 0
    csrrs   a0, mhartid, zero
    EXPECT  21, a0, 0
    csrrsi  a0, mhartid, 0                   /* uimm = 0: no write */
    EXPECT  22, a0, 0
    csrrci  a0, mvendorid, 0
    CHECK   23
    csrr    a0, marchid
    csrr    a0, mimpid
    li      a1, 0
    EXPECT_TRAP 24, CAUSE_ILLEGAL, csrrw a0, mhartid, a1
    EXPECT_TRAP 25, CAUSE_ILLEGAL, csrrw zero, mhartid, zero
    EXPECT_TRAP 26, CAUSE_ILLEGAL, csrrwi a0, mvendorid, 0
    /* QEMU 7.2 deviation: it decides "writes" from the operand's value, not from rs1 != x0, so a
       CSRRS/CSRRC with a zero-valued non-x0 register does not trap on a read-only CSR. */
    SKIP_ON_QEMU72 .Lskip_zero_operand
    EXPECT_TRAP 27, CAUSE_ILLEGAL, csrrs a0, mhartid, a1      /* a1 = 0 but not x0: a write attempt */
    EXPECT_TRAP 28, CAUSE_ILLEGAL, csrrc a0, marchid, a1
.Lskip_zero_operand:
    EXPECT_TRAP 29, CAUSE_ILLEGAL, csrrsi a0, mimpid, 1
    EXPECT_TRAP 30, CAUSE_ILLEGAL, csrw cycle, a1             /* user counters are read-only */
    EXPECT_TRAP 31, CAUSE_ILLEGAL, csrw time, a1
    EXPECT_TRAP 32, CAUSE_ILLEGAL, csrrsi a0, instret, 1
    /* mtval holds 0 or the instruction's bits (3.1.16) */
    CHECK   33
    SET_RESUME 34f
33: csrrw   zero, mhartid, zero
    j       test_fail
    /* the instruction's bits, read as two halfwords: with compressed code around it, it may sit
       on a 2-byte boundary, and a misaligned load traps on some harts */
34: la      t2, 33b
    lhu     t0, 0(t2)
    lhu     t2, 2(t2)
    slli    t2, t2, 16
    or      t0, t0, t2
    TRAP_FIELD t1, TR_TVAL
    beqz    t1, 35f
    EXPECT_REG 33, t1, t0
35:

    /* ---- unimplemented CSRs ---- */
    EXPECT_TRAP 40, CAUSE_ILLEGAL, csrr a0, 0x0ff   /* unallocated user standard CSR */
    EXPECT_TRAP 41, CAUSE_ILLEGAL, csrr a0, 0x7c0   /* custom machine CSR: not in this hart */
    EXPECT_TRAP 42, CAUSE_ILLEGAL, csrw 0x5c0, a1   /* custom supervisor CSR */

    /* ---- privilege: the CSR address's bits [9:8] give the lowest privilege (2.1) ---- */
    EXPECT_TRAP_IN PRV_S, 50, CAUSE_ILLEGAL, csrr a0, mstatus
    EXPECT_TRAP_IN PRV_S, 51, CAUSE_ILLEGAL, csrr a0, mscratch
    EXPECT_TRAP_IN PRV_S, 52, CAUSE_ILLEGAL, csrw mtvec, zero
    EXPECT_TRAP_IN PRV_S, 53, CAUSE_ILLEGAL, csrr a0, mhartid
    EXPECT_TRAP_IN PRV_U, 54, CAUSE_ILLEGAL, csrr a0, sstatus
    EXPECT_TRAP_IN PRV_U, 55, CAUSE_ILLEGAL, csrr a0, sscratch
    EXPECT_TRAP_IN PRV_U, 56, CAUSE_ILLEGAL, csrr a0, mstatus
    EXPECT_OK_IN   PRV_S, 57, csrr a0, sscratch
    EXPECT_OK_IN   PRV_S, 58, csrr a0, sstatus
    EXPECT_OK_IN   PRV_U, 59, csrr a0, fcsr       /* FS is on: user FP CSRs are accessible */

    /* ---- sstatus is a restricted view of mstatus (4.1.1) ---- */
    li      t0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SUM
    csrc    mstatus, t0
    li      t0, MSTATUS_SUM | MSTATUS_SPIE
    csrs    sstatus, t0
    csrr    a0, mstatus
    and     a0, a0, t0
    EXPECT  60, a0, MSTATUS_SUM | MSTATUS_SPIE
    li      t0, MSTATUS_MIE | MSTATUS_MPIE
    csrs    mstatus, t0
    csrr    a0, sstatus
    and     a0, a0, t0
    EXPECT  61, a0, 0                          /* M-only fields are invisible in sstatus */
    li      t0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_SUM | MSTATUS_SPIE
    csrc    mstatus, t0
    csrr    a0, mstatus
    srli    a0, a0, 32
    andi    a0, a0, 0xf
    EXPECT  62, a0, 0xa                        /* UXL = SXL = 2 (64-bit) */
    csrr    a0, sstatus
    srli    a0, a0, 32
    andi    a0, a0, 0xf
    EXPECT  65, a0, 0x2                        /* sstatus shows UXL, but not SXL (4.1.1) */

    /* ---- sie is mie restricted to delegated interrupts (3.1.9, 4.1.3) ---- */
    csrw    mie, zero
    li      t0, MIP_SSIP
    csrw    mideleg, t0
    csrs    sie, t0
    csrr    a0, mie
    EXPECT  63, a0, MIP_SSIP
    li      t0, MIP_MSIP
    csrs    mie, t0
    csrr    a0, sie
    EXPECT  64, a0, MIP_SSIP                   /* MSIE is not visible in sie */
    csrw    mie, zero
    csrw    mideleg, zero

    /* ---- misa (3.1.1) ---- */
    csrr    a0, misa
    srli    a1, a0, 62
    EXPECT  70, a1, 2                          /* MXL = 64 */
    li      t0, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20)
    and     a1, a0, t0
    EXPECT  71, a1, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20)  /* A C D F I M S U */

    /* ---- WARL fields ---- */
    /* QEMU 7.2 deviation: mepc keeps a written bit 0 (it only masks it on MRET). */
    SKIP_ON_QEMU72 .Lskip_mepc0
    li      t0, 0x80001235
    csrw    mepc, t0
    csrr    a0, mepc
    EXPECT  72, a0, 0x80001234                 /* mepc[0] is always 0 (3.1.14) */
.Lskip_mepc0:
    /* QEMU 7.2 deviation: MPP accepts the unsupported value 2 and reads it back. */
    SKIP_ON_QEMU72 .Lskip_mpp2
    li      t0, MSTATUS_MPP
    csrc    mstatus, t0
    li      t0, 2 << 11
    csrs    mstatus, t0                        /* MPP = 2 is not a supported mode */
    csrr    a0, mstatus
    srli    a0, a0, 11
    andi    a0, a0, 3
    li      a1, 2
    EXPECT_NE 73, a0, a1
.Lskip_mpp2:
    li      t0, MSTATUS_MPP
    csrs    mstatus, t0

    /* ---- fcsr = frm (7:5) : fflags (4:0) (unprivileged "Floating-Point Control and Status") ---- */
    li      t0, 0xff
    csrw    fcsr, t0
    frrm    a0
    EXPECT  80, a0, 7
    frflags a0
    EXPECT  81, a0, 0x1f
    fsrmi   a0, 2                              /* old frm returned */
    EXPECT  82, a0, 7
    csrr    a0, fcsr
    EXPECT  83, a0, 0x5f
    fsflagsi a0, 0x01
    EXPECT  84, a0, 0x1f
    csrr    a0, fcsr
    EXPECT  85, a0, 0x41
    li      t0, -1
    csrw    fcsr, t0                           /* bits above 7 are reserved, read as 0 */
    csrr    a0, fcsr
    EXPECT  86, a0, 0xff
    csrw    fcsr, zero
TEST_PASS
TEST_END
