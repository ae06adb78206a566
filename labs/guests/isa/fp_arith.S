/* fp_arith.S — F and D arithmetic (unprivileged spec, chapters "F Standard Extension" and
 * "D Standard Extension"): FADD/FSUB/FMUL/FDIV/FSQRT and the four fused multiply-adds, in every
 * rounding mode — static RNE, RTZ, RDN, RUP, RMM and dynamic (DYN, from frm) — with results chosen
 * to fall between two representable values (including exact ties), and the accrued exception
 * flags after each operation class: NX (inexact), UF (tiny and inexact), OF, DZ, NV (invalid,
 * including signaling-NaN inputs and ∞×0 in FMA even with a quiet-NaN addend). Invalid results
 * are the canonical NaN. Reserved rounding modes (static 5/6, or DYN with frm ≥ 5) are illegal. */
#include "test_macros.h"

/* Check n: `op fd, fa, fb, rm` on double bit patterns a, b gives exp and exactly the flags. */
.macro OP2_D n, op, rm, exp, flags, a, b
    FLI_D   ft0, \a
    FLI_D   ft1, \b
    csrw    fflags, zero
    \op     ft2, ft0, ft1, \rm
    EXPECT_FD \n, ft2, \exp
    EXPECT_FFLAGS \n, \flags
.endm
.macro OP2_S n, op, rm, exp, flags, a, b
    FLI_S   ft0, \a
    FLI_S   ft1, \b
    csrw    fflags, zero
    \op     ft2, ft0, ft1, \rm
    EXPECT_FS \n, ft2, \exp
    EXPECT_FFLAGS \n, \flags
.endm
.macro OP1_D n, op, rm, exp, flags, a
    FLI_D   ft0, \a
    csrw    fflags, zero
    \op     ft2, ft0, \rm
    EXPECT_FD \n, ft2, \exp
    EXPECT_FFLAGS \n, \flags
.endm
.macro OP1_S n, op, rm, exp, flags, a
    FLI_S   ft0, \a
    csrw    fflags, zero
    \op     ft2, ft0, \rm
    EXPECT_FS \n, ft2, \exp
    EXPECT_FFLAGS \n, \flags
.endm
.macro OP3_D n, op, rm, exp, flags, a, b, c
    FLI_D   ft0, \a
    FLI_D   ft1, \b
    FLI_D   ft3, \c
    csrw    fflags, zero
    \op     ft2, ft0, ft1, ft3, \rm
    EXPECT_FD \n, ft2, \exp
    EXPECT_FFLAGS \n, \flags
.endm
.macro OP3_S n, op, rm, exp, flags, a, b, c
    FLI_S   ft0, \a
    FLI_S   ft1, \b
    FLI_S   ft3, \c
    csrw    fflags, zero
    \op     ft2, ft0, ft1, ft3, \rm
    EXPECT_FS \n, ft2, \exp
    EXPECT_FFLAGS \n, \flags
.endm

/* double constants */
#define D_ONE      0x3ff0000000000000
#define D_ONE_P1   0x3ff0000000000001      /* 1 + ulp */
#define D_ONE_P2   0x3ff0000000000002
#define D_ONE_P3   0x3ff0000000000003
#define D_HALFULP  0x3ca0000000000000      /* 2^-53 = ulp(1)/2 */
#define D_TQULP    0x3ca8000000000000      /* 1.5 * 2^-53 = 3/4 ulp(1) */
#define D_MONE     0xbff0000000000000
#define D_MONE_P1  0xbff0000000000001
#define D_MTQULP   0xbca8000000000000
#define D_TWO      0x4000000000000000
#define D_THREE    0x4008000000000000
#define D_FOUR     0x4010000000000000
#define D_HALF     0x3fe0000000000000
#define D_MAX      0x7fefffffffffffff
#define D_MINNORM  0x0010000000000000
#define D_MINSUB   0x0000000000000001
#define D_INF      0x7ff0000000000000
#define D_MINF     0xfff0000000000000
#define D_QNAN     0x7ff8000000000000      /* also the canonical NaN */
#define D_SNAN     0x7ff0000000000001
#define D_PZERO    0x0000000000000000
#define D_MZERO    0x8000000000000000
/* single constants */
#define S_ONE      0x3f800000
#define S_ONE_P1   0x3f800001
#define S_ONE_P2   0x3f800002
#define S_HALFULP  0x33800000              /* 2^-24 */
#define S_TQULP    0x33c00000              /* 1.5 * 2^-24 */
#define S_MONE     0xbf800000
#define S_MONE_P1  0xbf800001
#define S_MTQULP   0xb3c00000
#define S_TWO      0x40000000
#define S_THREE    0x40400000
#define S_MAX      0x7f7fffff
#define S_MINSUB   0x00000001
#define S_HALF     0x3f000000
#define S_INF      0x7f800000
#define S_MINF     0xff800000
#define S_QNAN     0x7fc00000
#define S_SNAN     0x7f800001
#define S_PZERO    0x00000000

#define NX FFLAG_NX
#define UF FFLAG_UF
#define OF FFLAG_OF
#define DZ FFLAG_DZ
#define NV FFLAG_NV

TEST_BEGIN
    /* ---- double: 1 + 3/4 ulp in every static mode ---- */
    OP2_D 1,  fadd.d, rne, D_ONE_P1, NX, D_ONE, D_TQULP
    OP2_D 2,  fadd.d, rtz, D_ONE,    NX, D_ONE, D_TQULP
    OP2_D 3,  fadd.d, rdn, D_ONE,    NX, D_ONE, D_TQULP
    OP2_D 4,  fadd.d, rup, D_ONE_P1, NX, D_ONE, D_TQULP
    OP2_D 5,  fadd.d, rmm, D_ONE_P1, NX, D_ONE, D_TQULP
    /* negative: -(1 + 3/4 ulp) */
    OP2_D 6,  fadd.d, rne, D_MONE_P1, NX, D_MONE, D_MTQULP
    OP2_D 7,  fadd.d, rtz, D_MONE,    NX, D_MONE, D_MTQULP
    OP2_D 8,  fadd.d, rdn, D_MONE_P1, NX, D_MONE, D_MTQULP
    OP2_D 9,  fadd.d, rup, D_MONE,    NX, D_MONE, D_MTQULP
    OP2_D 10, fadd.d, rmm, D_MONE_P1, NX, D_MONE, D_MTQULP
    /* ties: 1 + 1/2 ulp (to even: down) and (1 + ulp) + 1/2 ulp (to even: up) */
    OP2_D 11, fadd.d, rne, D_ONE,    NX, D_ONE, D_HALFULP
    OP2_D 12, fadd.d, rmm, D_ONE_P1, NX, D_ONE, D_HALFULP
    OP2_D 13, fadd.d, rtz, D_ONE,    NX, D_ONE, D_HALFULP
    OP2_D 14, fadd.d, rne, D_ONE_P2, NX, D_ONE_P1, D_HALFULP
    OP2_D 15, fadd.d, rmm, D_ONE_P2, NX, D_ONE_P1, D_HALFULP
    OP2_D 16, fadd.d, rdn, D_ONE_P1, NX, D_ONE_P1, D_HALFULP
    /* exact: no flags */
    OP2_D 17, fadd.d, rne, D_THREE, 0, D_ONE, D_TWO
    /* x + (-x) = +0, except -0 in RDN (IEEE 754 6.3) */
    OP2_D 18, fadd.d, rne, D_PZERO, 0, D_ONE, D_MONE
    OP2_D 19, fadd.d, rdn, D_MZERO, 0, D_ONE, D_MONE
    OP2_D 20, fsub.d, rup, D_PZERO, 0, D_THREE, D_THREE
    /* fsub: 1 - 3/4 ulp(1), a tie below 1 (where the ulp halves) */
    OP2_D 21, fsub.d, rne, 0x3feffffffffffffe, NX, D_ONE, D_TQULP
    OP2_D 22, fsub.d, rtz, 0x3feffffffffffffe, NX, D_ONE, D_TQULP
    OP2_D 23, fsub.d, rup, 0x3fefffffffffffff, NX, D_ONE, D_TQULP
    OP2_D 24, fsub.d, rmm, 0x3fefffffffffffff, NX, D_ONE, D_TQULP
    /* fmul: (1 + ulp)^2 = 1 + 2 ulp + ulp^2 */
    OP2_D 25, fmul.d, rne, D_ONE_P2, NX, D_ONE_P1, D_ONE_P1
    OP2_D 26, fmul.d, rup, D_ONE_P3, NX, D_ONE_P1, D_ONE_P1
    OP2_D 27, fmul.d, rtz, D_ONE_P2, NX, D_ONE_P1, D_ONE_P1
    /* fdiv: 1/3 and -1/3 */
    OP2_D 28, fdiv.d, rne, 0x3fd5555555555555, NX, D_ONE, D_THREE
    OP2_D 29, fdiv.d, rup, 0x3fd5555555555556, NX, D_ONE, D_THREE
    OP2_D 30, fdiv.d, rdn, 0xbfd5555555555556, NX, D_MONE, D_THREE
    OP2_D 31, fdiv.d, rtz, 0xbfd5555555555555, NX, D_MONE, D_THREE
    OP2_D 32, fdiv.d, rne, D_TWO, 0, D_FOUR, D_TWO
    /* fsqrt */
    OP1_D 33, fsqrt.d, rne, 0x3ff6a09e667f3bcd, NX, D_TWO
    OP1_D 34, fsqrt.d, rtz, 0x3ff6a09e667f3bcc, NX, D_TWO
    OP1_D 35, fsqrt.d, rup, 0x3ff6a09e667f3bcd, NX, D_TWO
    OP1_D 36, fsqrt.d, rne, D_TWO, 0, D_FOUR
    OP1_D 37, fsqrt.d, rne, D_MZERO, 0, D_MZERO
    OP1_D 38, fsqrt.d, rne, D_QNAN, NV, D_MONE
    OP1_D 39, fsqrt.d, rne, D_INF, 0, D_INF

    /* ---- dynamic rounding: frm selects ---- */
    fsrmi   1                                   /* RTZ */
    OP2_D 40, fadd.d, dyn, D_ONE, NX, D_ONE, D_TQULP
    fsrmi   3                                   /* RUP */
    OP2_D 41, fadd.d, dyn, D_ONE_P1, NX, D_ONE, D_TQULP
    OP2_D 42, fadd.d, rdn, D_ONE, NX, D_ONE, D_TQULP    /* a static mode overrides frm */
    fsrmi   2                                   /* RDN */
    OP2_D 43, fdiv.d, dyn, 0xbfd5555555555556, NX, D_MONE, D_THREE
    fsrmi   4                                   /* RMM */
    OP2_D 44, fadd.d, dyn, D_ONE_P1, NX, D_ONE, D_HALFULP
    fsrmi   0                                   /* RNE */
    OP2_D 45, fadd.d, dyn, D_ONE, NX, D_ONE, D_HALFULP
    /* reserved modes: DYN with frm = 5, 6, 7 and static 5, 6 are illegal instructions */
    fsrmi   5
    EXPECT_TRAP 46, CAUSE_ILLEGAL, fadd.d ft2, ft0, ft1, dyn
    fsrmi   7
    EXPECT_TRAP 47, CAUSE_ILLEGAL, fmul.s ft2, ft0, ft1, dyn
    fsrmi   6
    EXPECT_TRAP 48, CAUSE_ILLEGAL, fsqrt.d ft2, ft0, dyn
    fsrmi   0
    EXPECT_TRAP 49, CAUSE_ILLEGAL, .word 0x02100053 | (5 << 12)   /* fadd.d ft0, ft0, ft1 with rm = 5 */
    EXPECT_TRAP 50, CAUSE_ILLEGAL, .word 0x02100053 | (6 << 12)

    /* ---- flags by class ---- */
    OP2_D 60, fmul.d, rne, D_INF, OF | NX, D_MAX, D_TWO              /* overflow */
    OP2_D 61, fmul.d, rtz, D_MAX, OF | NX, D_MAX, D_TWO              /* to the largest finite */
    OP2_D 62, fmul.d, rdn, D_MINF, OF | NX, D_MAX, 0xc000000000000000 /* -max * 2 towards -inf */
    OP2_D 63, fmul.d, rup, 0xffefffffffffffff, OF | NX, D_MAX, 0xc000000000000000
    OP2_D 64, fmul.d, rne, D_PZERO, UF | NX, D_MINSUB, D_HALF        /* 2^-1075: tie to 0 */
    OP2_D 65, fmul.d, rup, D_MINSUB, UF | NX, D_MINSUB, D_HALF
    OP2_D 66, fmul.d, rne, 0x0008000000000000, 0, D_MINNORM, D_HALF /* subnormal but exact: no UF */
    OP2_D 67, fdiv.d, rne, D_INF, DZ, D_ONE, D_PZERO
    OP2_D 68, fdiv.d, rne, D_MINF, DZ, D_MONE, D_PZERO
    OP2_D 69, fdiv.d, rne, D_QNAN, NV, D_PZERO, D_PZERO              /* 0/0 */
    OP2_D 70, fsub.d, rne, D_QNAN, NV, D_INF, D_INF                  /* inf - inf */
    OP2_D 71, fmul.d, rne, D_QNAN, NV, D_INF, D_PZERO                /* inf * 0 */
    OP2_D 72, fadd.d, rne, D_QNAN, NV, D_SNAN, D_ONE                 /* signaling input */
    OP2_D 73, fadd.d, rne, D_QNAN, 0, 0x7ff8000000000123, D_ONE      /* quiet input: no flag, canonical result */
    OP2_D 74, fdiv.d, rne, D_PZERO, 0, D_ONE, D_INF
    OP2_D 75, fdiv.d, rne, D_INF, 0, D_INF, D_ONE                    /* exact infinity: no OF */
    /* flags accrue until cleared */
    csrw    fflags, zero
    FLI_D   ft0, D_ONE
    FLI_D   ft1, D_THREE
    fdiv.d  ft2, ft0, ft1
    FLI_D   ft1, D_PZERO
    fdiv.d  ft2, ft0, ft1
    EXPECT_FFLAGS 76, NX | DZ

    /* ---- fused multiply-add: one rounding ---- */
    OP3_D 80, fmadd.d,  rne, 0x401c000000000000, 0, D_TWO, D_THREE, D_ONE    /*  2*3+1 = 7  */
    OP3_D 81, fmsub.d,  rne, 0x4014000000000000, 0, D_TWO, D_THREE, D_ONE    /*  2*3-1 = 5  */
    OP3_D 82, fnmsub.d, rne, 0xc014000000000000, 0, D_TWO, D_THREE, D_ONE    /* -2*3+1 = -5 */
    OP3_D 83, fnmadd.d, rne, 0xc01c000000000000, 0, D_TWO, D_THREE, D_ONE    /* -2*3-1 = -7 */
    /* (1+2^-52)(1-2^-53) - 1 = 2^-53 - 2^-105 exactly; a separate multiply would round to 0 */
    OP3_D 84, fmadd.d,  rne, 0x3c9ffffffffffffe, 0, D_ONE_P1, 0x3fefffffffffffff, D_MONE
    OP3_D 85, fmadd.d,  rne, D_QNAN, NV, D_INF, D_PZERO, D_QNAN               /* inf*0 + qNaN: NV */
    OP3_D 86, fmadd.d,  rne, D_QNAN, NV, D_INF, D_ONE, D_MINF                 /* inf - inf */
    OP3_D 87, fmadd.d,  rtz, D_ONE, NX, D_ONE, D_ONE, D_TQULP                  /* rounding mode applies */
    OP3_D 88, fmadd.d,  rup, D_ONE_P1, NX, D_ONE, D_ONE, D_TQULP
    fsrmi   2
    OP3_D 89, fnmadd.d, dyn, D_MONE_P1, NX, D_ONE, D_ONE, D_TQULP              /* -(1+3/4ulp) RDN */
    fsrmi   0

    /* ---- single precision ---- */
    OP2_S 100, fadd.s, rne, S_ONE_P1, NX, S_ONE, S_TQULP
    OP2_S 101, fadd.s, rtz, S_ONE,    NX, S_ONE, S_TQULP
    OP2_S 102, fadd.s, rdn, S_ONE,    NX, S_ONE, S_TQULP
    OP2_S 103, fadd.s, rup, S_ONE_P1, NX, S_ONE, S_TQULP
    OP2_S 104, fadd.s, rmm, S_ONE_P1, NX, S_ONE, S_TQULP
    OP2_S 105, fadd.s, rne, S_MONE_P1, NX, S_MONE, S_MTQULP
    OP2_S 106, fadd.s, rup, S_MONE,    NX, S_MONE, S_MTQULP
    OP2_S 107, fadd.s, rne, S_ONE,    NX, S_ONE, S_HALFULP
    OP2_S 108, fadd.s, rmm, S_ONE_P1, NX, S_ONE, S_HALFULP
    OP2_S 109, fadd.s, rne, S_ONE_P2, NX, S_ONE_P1, S_HALFULP
    OP2_S 110, fsub.s, rne, 0x3f7ffffe, NX, S_ONE, S_TQULP
    OP2_S 111, fsub.s, rup, 0x3f7fffff, NX, S_ONE, S_TQULP
    OP2_S 112, fmul.s, rne, S_ONE_P2, NX, S_ONE_P1, S_ONE_P1
    OP2_S 113, fmul.s, rup, 0x3f800003, NX, S_ONE_P1, S_ONE_P1
    OP2_S 114, fdiv.s, rne, 0x3eaaaaab, NX, S_ONE, S_THREE
    OP2_S 115, fdiv.s, rtz, 0x3eaaaaaa, NX, S_ONE, S_THREE
    OP2_S 116, fdiv.s, rdn, 0xbeaaaaab, NX, S_MONE, S_THREE
    OP2_S 117, fdiv.s, rup, 0xbeaaaaaa, NX, S_MONE, S_THREE
    OP1_S 118, fsqrt.s, rne, 0x3fb504f3, NX, S_TWO
    OP1_S 119, fsqrt.s, rup, 0x3fb504f4, NX, S_TWO
    OP1_S 120, fsqrt.s, rne, S_QNAN, NV, S_MONE
    OP2_S 121, fmul.s, rne, S_INF, OF | NX, S_MAX, S_TWO
    OP2_S 122, fmul.s, rtz, S_MAX, OF | NX, S_MAX, S_TWO
    OP2_S 123, fmul.s, rne, S_PZERO, UF | NX, S_MINSUB, S_HALF
    OP2_S 124, fmul.s, rup, S_MINSUB, UF | NX, S_MINSUB, S_HALF
    OP2_S 125, fdiv.s, rne, S_INF, DZ, S_ONE, S_PZERO
    OP2_S 126, fdiv.s, rne, S_QNAN, NV, S_PZERO, S_PZERO
    OP2_S 127, fadd.s, rne, S_QNAN, NV, S_SNAN, S_ONE
    OP2_S 128, fadd.s, rne, S_QNAN, 0, 0x7fc12345, S_ONE
    OP2_S 129, fsub.s, rne, S_QNAN, NV, S_INF, S_INF
    fsrmi   1
    OP2_S 130, fadd.s, dyn, S_ONE, NX, S_ONE, S_TQULP
    fsrmi   0
    OP3_S 131, fmadd.s,  rne, 0x40e00000, 0, S_TWO, S_THREE, S_ONE
    OP3_S 132, fmsub.s,  rne, 0x40a00000, 0, S_TWO, S_THREE, S_ONE
    OP3_S 133, fnmsub.s, rne, 0xc0a00000, 0, S_TWO, S_THREE, S_ONE
    OP3_S 134, fnmadd.s, rne, 0xc0e00000, 0, S_TWO, S_THREE, S_ONE
    OP3_S 135, fmadd.s,  rne, 0x337ffffe, 0, S_ONE_P1, 0x3f7fffff, S_MONE    /* single rounding */
    OP3_S 136, fmadd.s,  rne, S_QNAN, NV, S_INF, S_PZERO, S_QNAN
TEST_PASS
TEST_END
