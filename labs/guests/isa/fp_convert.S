/* fp_convert.S — F/D conversions (unprivileged spec, "Floating-Point Conversion and Move
 * Instructions" and its table of conversion results for invalid inputs): float → integer in each
 * rounding mode, with NX for inexact results and saturation plus NV for out-of-range, NaN and
 * infinite inputs (NaN and +∞ give the largest value, −∞ the smallest; 32-bit results are
 * sign-extended, including FCVT.WU); integer → float rounding; FCVT.S.D / FCVT.D.S rounding,
 * overflow and NaN handling (signaling → NV; the result is the canonical NaN). */
#include "test_macros.h"

/* Check n: `op a0, ft0, rm` on the FP bit pattern a (double or single) gives exp and flags. */
.macro F2I_D n, op, rm, exp, flags, a
    FLI_D   ft0, \a
    csrw    fflags, zero
    \op     a0, ft0, \rm
    EXPECT  \n, a0, \exp
    EXPECT_FFLAGS \n, \flags
.endm
.macro F2I_S n, op, rm, exp, flags, a
    FLI_S   ft0, \a
    csrw    fflags, zero
    \op     a0, ft0, \rm
    EXPECT  \n, a0, \exp
    EXPECT_FFLAGS \n, \flags
.endm
/* Check n: `op ft2, a0, rm` on the integer a gives the FP bit pattern exp and flags. */
.macro I2F_D n, op, rm, exp, flags, a
    li      a0, \a
    csrw    fflags, zero
    \op     ft2, a0, \rm
    EXPECT_FD \n, ft2, \exp
    EXPECT_FFLAGS \n, \flags
.endm
.macro I2F_S n, op, rm, exp, flags, a
    li      a0, \a
    csrw    fflags, zero
    \op     ft2, a0, \rm
    EXPECT_FS \n, ft2, \exp
    EXPECT_FFLAGS \n, \flags
.endm

#define NX FFLAG_NX
#define OF FFLAG_OF
#define NV FFLAG_NV
#define D_1_5     0x3ff8000000000000
#define D_2_5     0x4004000000000000
#define D_M1_5    0xbff8000000000000
#define D_M0_5    0xbfe0000000000000
#define D_MONE    0xbff0000000000000
#define D_1E10    0x4202a05f20000000
#define D_M1E10   0xc202a05f20000000
#define D_3E9     0x41e65a0bc0000000
#define D_2P63    0x43e0000000000000
#define D_M2P63   0xc3e0000000000000
#define D_2P64    0x43f0000000000000
#define D_QNAN    0x7ff8000000000000
#define D_SNAN    0x7ff0000000000001
#define D_INF     0x7ff0000000000000
#define D_MINF    0xfff0000000000000
#define S_QNAN    0x7fc00000
#define S_INF     0x7f800000

TEST_BEGIN
    /* ---- double -> 32-bit signed ---- */
    F2I_D 1,  fcvt.w.d, rne, 2, NX, D_1_5
    F2I_D 2,  fcvt.w.d, rne, 2, NX, D_2_5                  /* tie to even */
    F2I_D 3,  fcvt.w.d, rmm, 3, NX, D_2_5                  /* tie away */
    F2I_D 4,  fcvt.w.d, rtz, 0xffffffffffffffff, NX, D_M1_5
    F2I_D 5,  fcvt.w.d, rdn, 0xfffffffffffffffe, NX, D_M1_5
    F2I_D 6,  fcvt.w.d, rup, 0xffffffffffffffff, NX, D_M1_5
    F2I_D 7,  fcvt.w.d, rne, 0x7fffffff, NV, D_1E10         /* saturate */
    F2I_D 8,  fcvt.w.d, rne, 0xffffffff80000000, NV, D_M1E10
    F2I_D 9,  fcvt.w.d, rne, 0x7fffffff, NV, D_QNAN
    F2I_D 10, fcvt.w.d, rne, 0x7fffffff, NV, D_INF
    F2I_D 11, fcvt.w.d, rne, 0xffffffff80000000, NV, D_MINF
    F2I_D 12, fcvt.w.d, rtz, 0xffffffff80000000, NX, 0xc1e0000000100000  /* -2^31 - 0.5 rounds into range */
    F2I_D 13, fcvt.w.d, rtz, 0xffffffff80000000, NV, 0xc1e0000000200000  /* -2^31 - 1 does not */
    F2I_D 14, fcvt.w.d, rne, 0, 0, 0x8000000000000000       /* -0 -> 0, exact */
    fsrmi   2
    F2I_D 15, fcvt.w.d, dyn, 0xfffffffffffffffe, NX, D_M1_5
    fsrmi   0
    /* ---- double -> 32-bit unsigned (result sign-extended) ---- */
    F2I_D 20, fcvt.wu.d, rne, 0xffffffffb2d05e00, 0, D_3E9
    F2I_D 21, fcvt.wu.d, rne, 0, NV, D_MONE
    F2I_D 22, fcvt.wu.d, rtz, 0, NX, D_M0_5                 /* rounds to 0: representable */
    F2I_D 23, fcvt.wu.d, rne, 0xffffffffffffffff, NV, D_1E10
    F2I_D 24, fcvt.wu.d, rne, 0xffffffffffffffff, NV, D_QNAN
    F2I_D 25, fcvt.wu.d, rne, 0, NV, D_MINF
    /* ---- double -> 64-bit ---- */
    F2I_D 30, fcvt.l.d, rne, 10000000000, 0, D_1E10
    F2I_D 31, fcvt.l.d, rne, 0x7fffffffffffffff, NV, D_2P63
    F2I_D 32, fcvt.l.d, rne, 0x8000000000000000, 0, D_M2P63
    F2I_D 33, fcvt.l.d, rne, 0x7fffffffffffffff, NV, D_SNAN
    F2I_D 34, fcvt.l.d, rne, 0x8000000000000000, NV, D_MINF
    F2I_D 35, fcvt.l.d, rdn, 0xfffffffffffffffe, NX, D_M1_5
    F2I_D 36, fcvt.lu.d, rne, 0x8000000000000000, 0, D_2P63
    F2I_D 37, fcvt.lu.d, rne, 0xffffffffffffffff, NV, D_2P64
    F2I_D 38, fcvt.lu.d, rne, 0, NV, D_MONE
    F2I_D 39, fcvt.lu.d, rne, 0xffffffffffffffff, NV, D_QNAN
    F2I_D 40, fcvt.lu.d, rup, 2, NX, D_1_5
    F2I_D 41, fcvt.lu.d, rtz, 0, NX, D_M0_5
    /* ---- single -> integer ---- */
    F2I_S 45, fcvt.w.s, rne, 2, NX, 0x40200000              /* 2.5f */
    F2I_S 46, fcvt.w.s, rmm, 3, NX, 0x40200000
    F2I_S 47, fcvt.w.s, rne, 0x7fffffff, NV, 0x501502f9     /* 1e10f */
    F2I_S 48, fcvt.w.s, rne, 0x7fffffff, NV, S_QNAN
    F2I_S 49, fcvt.wu.s, rne, 0xffffffffb2d05e00, 0, 0x4f32d05e  /* 3e9f */
    F2I_S 50, fcvt.wu.s, rne, 0, NV, 0xbfc00000             /* -1.5f */
    F2I_S 51, fcvt.l.s, rne, 0x7fffffffffffffff, NV, 0x5f000000   /* 2^63 */
    F2I_S 52, fcvt.l.s, rdn, 0xfffffffffffffffe, NX, 0xbfc00000
    F2I_S 53, fcvt.lu.s, rne, 0xffffffffffffffff, NV, 0x5f800000  /* 2^64 */
    F2I_S 54, fcvt.lu.s, rne, 0xffffffffffffffff, NV, S_INF
    /* an improperly boxed single is the canonical NaN: converts like a NaN */
    li      t0, 0x3f800000
    fmv.d.x ft0, t0
    csrw    fflags, zero
    fcvt.w.s a0, ft0, rne
    EXPECT  55, a0, 0x7fffffff
    EXPECT_FFLAGS 55, NV

    /* ---- integer -> double ---- */
    I2F_D 60, fcvt.d.w,  rne, 0xbff0000000000000, 0, -1
    I2F_D 61, fcvt.d.w,  rne, 0xc1e0000000000000, 0, 0x1234567880000000   /* only the low word counts */
    I2F_D 62, fcvt.d.wu, rne, 0x41efffffffe00000, 0, 0xffffffffffffffff   /* 4294967295 */
    I2F_D 63, fcvt.d.l,  rne, 0x4340000000000000, NX, 0x20000000000001    /* 2^53 + 1: tie to even */
    I2F_D 64, fcvt.d.l,  rup, 0x4340000000000001, NX, 0x20000000000001
    I2F_D 65, fcvt.d.l,  rne, 0xc3e0000000000000, 0, 0x8000000000000000
    I2F_D 66, fcvt.d.lu, rne, 0x43f0000000000000, NX, 0xffffffffffffffff  /* rounds to 2^64 */
    I2F_D 67, fcvt.d.lu, rtz, 0x43efffffffffffff, NX, 0xffffffffffffffff
    I2F_D 68, fcvt.d.l,  rne, 0x0000000000000000, 0, 0                    /* +0 */
    /* ---- integer -> single ---- */
    I2F_S 70, fcvt.s.w,  rne, 0x4b800000, NX, 16777217                    /* 2^24 + 1 */
    I2F_S 71, fcvt.s.w,  rup, 0x4b800001, NX, 16777217
    I2F_S 72, fcvt.s.w,  rne, 0xcf000000, 0, 0x80000000                   /* -2^31 */
    I2F_S 73, fcvt.s.wu, rne, 0x4f800000, NX, 0xffffffff                  /* rounds to 2^32 */
    I2F_S 74, fcvt.s.l,  rne, 0xdf000000, 0, 0x8000000000000000
    I2F_S 75, fcvt.s.lu, rtz, 0x5f7fffff, NX, 0xffffffffffffffff
    I2F_S 76, fcvt.s.lu, rne, 0x5f800000, NX, 0xffffffffffffffff

    /* ---- double <-> single ---- */
    FLI_D   ft0, 0x3fd5555555555555                 /* 1/3 */
    csrw    fflags, zero
    fcvt.s.d ft2, ft0, rne
    EXPECT_FS 80, ft2, 0x3eaaaaab
    EXPECT_FFLAGS 80, NX
    fcvt.s.d ft2, ft0, rtz
    EXPECT_FS 81, ft2, 0x3eaaaaaa
    FLI_D   ft0, 0x7e37e43c8800759c                 /* 1e300 */
    csrw    fflags, zero
    fcvt.s.d ft2, ft0, rne
    EXPECT_FS 82, ft2, S_INF
    EXPECT_FFLAGS 82, OF | NX
    fcvt.s.d ft2, ft0, rtz
    EXPECT_FS 83, ft2, 0x7f7fffff
    FLI_D   ft0, D_SNAN
    csrw    fflags, zero
    fcvt.s.d ft2, ft0
    EXPECT_FS 84, ft2, S_QNAN
    EXPECT_FFLAGS 84, NV
    FLI_D   ft0, 0xfff8000000000123                 /* a quiet NaN with a payload */
    fcvt.s.d ft2, ft0
    EXPECT_FS 85, ft2, S_QNAN                       /* canonical: payload and sign dropped */
    EXPECT_FFLAGS 85, 0
    FLI_S   ft0, 0x3fc00000                         /* 1.5f */
    fcvt.d.s ft2, ft0
    EXPECT_FD 86, ft2, D_1_5
    EXPECT_FFLAGS 86, 0
    FLI_S   ft0, 0x00000001                         /* smallest single subnormal: exact in double */
    fcvt.d.s ft2, ft0
    EXPECT_FD 87, ft2, 0x36a0000000000000
    EXPECT_FFLAGS 87, 0
    FLI_S   ft0, 0x7f800001                         /* single sNaN */
    fcvt.d.s ft2, ft0
    EXPECT_FD 88, ft2, D_QNAN
    EXPECT_FFLAGS 88, NV
    li      t0, 0x40490fdb                          /* unboxed: the canonical NaN, quietly */
    fmv.d.x ft0, t0
    fcvt.d.s ft2, ft0
    EXPECT_FD 89, ft2, D_QNAN
    EXPECT_FFLAGS 89, 0
    FLI_D   ft0, 0x8000000000000000                 /* -0 stays -0 */
    fcvt.s.d ft2, ft0
    EXPECT_FS 90, ft2, 0x80000000
TEST_PASS
TEST_END
