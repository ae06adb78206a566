/* fp_misc.S — F/D non-arithmetic behaviour (unprivileged spec, F and D chapters): NaN boxing of
 * single values in 64-bit registers (transfers box and do not check; every other single-precision
 * operation treats an improperly boxed input as the canonical NaN), FMIN/FMAX with signed zeros and
 * NaNs (minimumNumber/maximumNumber: a NaN operand loses, two NaNs give the canonical NaN, a
 * signaling NaN raises NV), sign injection (no flags, NaN bits untouched), FCLASS for all ten
 * classes, FMV, comparisons (FEQ quiet, FLT/FLE signaling), loads/stores, and mstatus.FS: Off makes
 * every FP instruction and FP CSR access illegal (privileged 3.1.6.6); modifying FP state from
 * Initial or Clean sets Dirty and SD. */
#include "test_macros.h"

.macro OP2_D n, op, exp, flags, a, b
    FLI_D   ft0, \a
    FLI_D   ft1, \b
    csrw    fflags, zero
    \op     ft2, ft0, ft1
    EXPECT_FD \n, ft2, \exp
    EXPECT_FFLAGS \n, \flags
.endm
.macro OP2_S n, op, exp, flags, a, b
    FLI_S   ft0, \a
    FLI_S   ft1, \b
    csrw    fflags, zero
    \op     ft2, ft0, ft1
    EXPECT_FS \n, ft2, \exp
    EXPECT_FFLAGS \n, \flags
.endm
/* Check n: comparison `op a0, fa, fb` gives exp and flags. */
.macro CMP_D n, op, exp, flags, a, b
    FLI_D   ft0, \a
    FLI_D   ft1, \b
    csrw    fflags, zero
    \op     a0, ft0, ft1
    EXPECT  \n, a0, \exp
    EXPECT_FFLAGS \n, \flags
.endm
.macro CMP_S n, op, exp, flags, a, b
    FLI_S   ft0, \a
    FLI_S   ft1, \b
    csrw    fflags, zero
    \op     a0, ft0, ft1
    EXPECT  \n, a0, \exp
    EXPECT_FFLAGS \n, \flags
.endm
.macro CLASS_D n, exp, a
    FLI_D   ft0, \a
    fclass.d a0, ft0
    EXPECT  \n, a0, \exp
.endm
.macro CLASS_S n, exp, a
    FLI_S   ft0, \a
    fclass.s a0, ft0
    EXPECT  \n, a0, \exp
.endm

#define D_ONE   0x3ff0000000000000
#define D_MONE  0xbff0000000000000
#define D_TWO   0x4000000000000000
#define D_PZERO 0x0000000000000000
#define D_MZERO 0x8000000000000000
#define D_QNAN  0x7ff8000000000000
#define D_SNAN  0x7ff0000000000001
#define D_INF   0x7ff0000000000000
#define S_ONE   0x3f800000
#define S_MONE  0xbf800000
#define S_TWO   0x40000000
#define S_PZERO 0x00000000
#define S_MZERO 0x80000000
#define S_QNAN  0x7fc00000
#define S_SNAN  0x7f800001
#define NV      FFLAG_NV

TEST_BEGIN
    /* ---- NaN boxing (F chapter, "NaN Boxing of Narrower Values") ---- */
    li      t0, 0x3f800000
    fmv.w.x ft0, t0
    fmv.x.d a0, ft0
    EXPECT  1, a0, 0xffffffff3f800000          /* FMV.W.X boxes */
    la      s0, fp_data
    flw     ft0, 0(s0)                          /* 1.5f */
    fmv.x.d a0, ft0
    EXPECT  2, a0, 0xffffffff3fc00000          /* FLW boxes */
    li      t0, 0x000000003f800000              /* 1.0f, not boxed */
    fmv.d.x ft0, t0
    FLI_S   ft1, S_ONE
    csrw    fflags, zero
    fadd.s  ft2, ft0, ft1
    EXPECT_FS 3, ft2, S_QNAN                    /* unboxed input = canonical NaN (quiet: no NV) */
    EXPECT_FFLAGS 4, 0
    fsgnj.s ft2, ft0, ft1
    EXPECT_FS 5, ft2, S_QNAN
    fmv.x.w a0, ft0
    EXPECT  6, a0, 0x3f800000                   /* transfers do not check the boxing */
    fsw     ft0, 8(s0)
    lwu     a0, 8(s0)
    EXPECT  7, a0, 0x3f800000
    fclass.s a0, ft0
    EXPECT  8, a0, 1 << 9                       /* classified as a quiet NaN */
    li      t0, 0xfffffffe3f800000              /* almost boxed: still not */
    fmv.d.x ft0, t0
    fmv.s   ft2, ft0                            /* fsgnj.s */
    EXPECT_FS 9, ft2, S_QNAN
    /* a single result written to an FP register is boxed */
    FLI_D   ft2, D_ONE
    FLI_S   ft0, S_ONE
    fadd.s  ft2, ft0, ft0
    EXPECT_FS 10, ft2, S_TWO
    /* D operations see the whole register: a boxed single is a NaN to them */
    fadd.d  ft3, ft2, ft2
    EXPECT_FD 11, ft3, D_QNAN

    /* ---- FMIN / FMAX ---- */
    OP2_D 20, fmin.d, D_MZERO, 0, D_PZERO, D_MZERO
    OP2_D 21, fmin.d, D_MZERO, 0, D_MZERO, D_PZERO
    OP2_D 22, fmax.d, D_PZERO, 0, D_MZERO, D_PZERO
    OP2_D 23, fmax.d, D_PZERO, 0, D_PZERO, D_MZERO
    OP2_D 24, fmin.d, D_ONE, 0, D_QNAN, D_ONE
    OP2_D 25, fmax.d, D_MONE, 0, D_MONE, D_QNAN
    OP2_D 26, fmin.d, D_ONE, NV, D_SNAN, D_ONE
    OP2_D 27, fmax.d, D_QNAN, 0, D_QNAN, 0x7ff8000000000abc      /* two NaNs: canonical */
    OP2_D 28, fmin.d, D_QNAN, NV, D_SNAN, D_QNAN
    OP2_D 29, fmin.d, D_MONE, 0, D_ONE, D_MONE
    OP2_D 30, fmax.d, D_ONE, 0, D_ONE, D_MONE
    OP2_D 31, fmax.d, D_INF, 0, D_INF, D_ONE
    OP2_S 32, fmin.s, S_MZERO, 0, S_PZERO, S_MZERO
    OP2_S 33, fmax.s, S_PZERO, 0, S_MZERO, S_PZERO
    OP2_S 34, fmin.s, S_ONE, 0, S_QNAN, S_ONE
    OP2_S 35, fmax.s, S_ONE, NV, S_ONE, S_SNAN
    OP2_S 36, fmax.s, S_QNAN, 0, S_QNAN, S_QNAN
    OP2_S 37, fmin.s, S_MONE, 0, S_ONE, S_MONE

    /* ---- sign injection: bits copied, no flags even for signaling NaNs ---- */
    OP2_D 40, fsgnj.d,  D_MONE, 0, D_ONE, D_MZERO
    OP2_D 41, fsgnjn.d, D_MONE, 0, D_ONE, D_PZERO
    OP2_D 42, fsgnjx.d, D_ONE, 0, D_MONE, D_MONE
    OP2_D 43, fsgnjx.d, D_MONE, 0, D_MONE, D_ONE
    OP2_D 44, fsgnj.d,  0xfff0000000000001, 0, D_SNAN, D_MONE    /* sNaN payload kept, no NV */
    OP2_S 45, fsgnj.s,  S_MONE, 0, S_ONE, S_MZERO
    OP2_S 46, fsgnjn.s, S_ONE, 0, S_ONE, S_MONE
    OP2_S 47, fsgnjx.s, S_ONE, 0, S_MONE, S_MONE
    OP2_S 48, fsgnjn.s, 0x7f800001, 0, S_SNAN, S_MZERO

    /* ---- FCLASS: one bit per class ---- */
    CLASS_D 50, 1 << 0, 0xfff0000000000000      /* -inf */
    CLASS_D 51, 1 << 1, D_MONE                  /* -normal */
    CLASS_D 52, 1 << 2, 0x800fffffffffffff      /* -subnormal */
    CLASS_D 53, 1 << 3, D_MZERO
    CLASS_D 54, 1 << 4, D_PZERO
    CLASS_D 55, 1 << 5, 0x0000000000000001      /* +subnormal */
    CLASS_D 56, 1 << 6, D_ONE
    CLASS_D 57, 1 << 7, D_INF
    CLASS_D 58, 1 << 8, D_SNAN
    CLASS_D 59, 1 << 9, D_QNAN
    CLASS_D 60, 1 << 9, 0xfff8000000000001      /* negative quiet NaN */
    CLASS_S 61, 1 << 0, 0xff800000
    CLASS_S 62, 1 << 1, S_MONE
    CLASS_S 63, 1 << 2, 0x807fffff
    CLASS_S 64, 1 << 3, S_MZERO
    CLASS_S 65, 1 << 4, S_PZERO
    CLASS_S 66, 1 << 5, 0x00000001
    CLASS_S 67, 1 << 6, S_ONE
    CLASS_S 68, 1 << 7, 0x7f800000
    CLASS_S 69, 1 << 8, S_SNAN
    CLASS_S 70, 1 << 9, S_QNAN

    /* ---- FMV ---- */
    li      t0, 0x7ff0000000000001              /* a signaling NaN passes untouched */
    fmv.d.x ft0, t0
    fmv.x.d a0, ft0
    EXPECT  75, a0, 0x7ff0000000000001
    li      t0, 0x80000000
    fmv.w.x ft0, t0
    fmv.x.w a0, ft0
    EXPECT  76, a0, 0xffffffff80000000          /* FMV.X.W sign-extends */
    li      t0, 0x12345678fedcba98
    fmv.w.x ft0, t0                             /* only the low 32 bits move */
    fmv.x.d a0, ft0
    EXPECT  77, a0, 0xfffffffffedcba98

    /* ---- comparisons ---- */
    CMP_D 80, feq.d, 1, 0, D_MZERO, D_PZERO
    CMP_D 81, flt.d, 0, 0, D_MZERO, D_PZERO
    CMP_D 82, fle.d, 1, 0, D_MZERO, D_PZERO
    CMP_D 83, feq.d, 0, 0, D_QNAN, D_QNAN       /* quiet compare: no NV for quiet NaNs */
    CMP_D 84, feq.d, 0, NV, D_SNAN, D_ONE
    CMP_D 85, flt.d, 0, NV, D_QNAN, D_ONE       /* signaling compares: NV for any NaN */
    CMP_D 86, fle.d, 0, NV, D_ONE, D_QNAN
    CMP_D 87, flt.d, 1, 0, D_MONE, D_ONE
    CMP_D 88, fle.d, 0, 0, D_TWO, D_ONE
    CMP_S 89, feq.s, 1, 0, S_ONE, S_ONE
    CMP_S 90, flt.s, 0, NV, S_QNAN, S_ONE
    CMP_S 91, feq.s, 0, 0, S_QNAN, S_ONE
    CMP_S 92, fle.s, 1, 0, S_MONE, S_ONE
    CMP_S 93, feq.s, 0, NV, S_ONE, S_SNAN

    /* ---- loads and stores ---- */
    la      s0, fp_data
    fld     fa0, 16(s0)
    fsd     fa0, 24(s0)
    ld      a0, 24(s0)
    EXPECT  100, a0, 0x7ff0000000000001         /* a signaling NaN survives FLD/FSD */
    flw     fa1, 4(s0)
    fsw     fa1, 32(s0)
    lwu     a0, 32(s0)
    EXPECT  101, a0, 0x7f800001
    fmv.x.d a0, fa1
    EXPECT  102, a0, 0xffffffff7f800001

    /* ---- mstatus.FS (privileged 3.1.6.6) ---- */
    li      t0, MSTATUS_FS
    csrc    mstatus, t0                         /* Off */
    EXPECT_TRAP 110, CAUSE_ILLEGAL, fadd.d ft0, ft0, ft0
    EXPECT_TRAP 111, CAUSE_ILLEGAL, fmv.x.d a0, ft0
    EXPECT_TRAP 112, CAUSE_ILLEGAL, fmv.d.x ft0, a0
    EXPECT_TRAP 113, CAUSE_ILLEGAL, fld ft0, 0(s0)
    EXPECT_TRAP 114, CAUSE_ILLEGAL, fsw ft0, 0(s0)
    EXPECT_TRAP 115, CAUSE_ILLEGAL, csrr a0, fcsr
    EXPECT_TRAP 116, CAUSE_ILLEGAL, frflags a0
    EXPECT_TRAP 117, CAUSE_ILLEGAL, fsrm a0
    EXPECT_TRAP 118, CAUSE_ILLEGAL, fcvt.d.l ft0, a0
    EXPECT_TRAP 119, CAUSE_ILLEGAL, fclass.s a0, ft0
    EXPECT_TRAP 120, CAUSE_ILLEGAL, c.fld fa0, 0(s0)
    EXPECT_TRAP_IN PRV_U, 121, CAUSE_ILLEGAL, fmadd.s ft0, ft1, ft2, ft3
    csrr    a0, mstatus
    srli    a1, a0, 13
    andi    a1, a1, 3
    EXPECT  122, a1, 0                          /* the traps did not turn FS on */
    /* Clean + a write to an FP register -> Dirty, and SD reads 1 */
    li      t0, MSTATUS_FS_CLEAN
    csrs    mstatus, t0
    csrr    a0, mstatus
    srli    a1, a0, 63
    EXPECT  124, a1, 0                          /* SD = 0 while Clean */
    fmv.d.x ft0, zero
    csrr    a0, mstatus
    srli    a1, a0, 13
    andi    a1, a1, 3
    EXPECT  125, a1, 3
    srli    a1, a0, 63
    EXPECT  126, a1, 1
    /* Initial + a write to fcsr -> Dirty */
    li      t0, MSTATUS_FS
    csrc    mstatus, t0
    li      t0, MSTATUS_FS_INITIAL
    csrs    mstatus, t0
    fsrmi   0
    csrr    a0, mstatus
    srli    a1, a0, 13
    andi    a1, a1, 3
    EXPECT  127, a1, 3
    /* Clean + an FP load -> Dirty */
    li      t0, MSTATUS_FS
    csrc    mstatus, t0
    li      t0, MSTATUS_FS_CLEAN
    csrs    mstatus, t0
    fld     ft0, 0(s0)
    csrr    a0, mstatus
    srli    a1, a0, 13
    andi    a1, a1, 3
    EXPECT  128, a1, 3
    /* sstatus shows FS and SD too */
    csrr    a0, sstatus
    srli    a1, a0, 13
    andi    a1, a1, 3
    EXPECT  129, a1, 3
    srli    a1, a0, 63
    EXPECT  130, a1, 1
TEST_PASS
TEST_END

    .data
    .balign 8
fp_data:
    .word   0x3fc00000, 0x7f800001              /* 1.5f, a single sNaN */
    .dword  0
    .dword  0x7ff0000000000001                  /* a double sNaN */
    .dword  0, 0
