/* rv64m.S — the M extension (unprivileged spec, chapter "M Extension for Integer Multiplication and
 * Division"): MUL/MULH/MULHSU/MULHU/MULW, DIV/DIVU/REM/REMU and their W forms, including the defined
 * results for division by zero and signed overflow (table "Semantics for division by zero and
 * division overflow"): quotient all ones (−1) / 2^XLEN−1, remainder the dividend; overflow gives
 * quotient = dividend, remainder 0. W forms use only the low 32 bits and sign-extend the result. */
#include "test_macros.h"

TEST_BEGIN
    /* ---- multiplication ---- */
    TEST_RR 1,  mul,    0xffffffffffffffeb, 3, -7
    TEST_RR 2,  mul,    0xfffffffffffffffe, 0x7fffffffffffffff, 2
    TEST_RR 3,  mul,    0x8000000000000000, 0x8000000000000000, -1
    TEST_RR 4,  mul,    0x0000000000000000, 0x123456789, 0
    TEST_RR 5,  mulh,   0, -1, -1
    TEST_RR 6,  mulh,   0x4000000000000000, 0x8000000000000000, 0x8000000000000000
    TEST_RR 7,  mulh,   0xffffffffffffffff, -2, 3
    TEST_RR 8,  mulh,   0x3fffffffffffffff, 0x7fffffffffffffff, 0x7fffffffffffffff
    TEST_RR 9,  mulhu,  0xfffffffffffffffe, -1, -1
    TEST_RR 10, mulhu,  1, 0x8000000000000000, 2
    TEST_RR 11, mulhu,  0, 0x7fffffff, 0x7fffffff
    TEST_RR 12, mulhsu, 0xffffffffffffffff, -1, -1      /* -1 * (2^64-1) */
    TEST_RR 13, mulhsu, 1, 2, -1                        /* 2 * (2^64-1) */
    TEST_RR 14, mulhsu, 0xffffffffffffffff, -2, 1
    TEST_RR 15, mulhsu, 0xc000000000000000, 0x8000000000000000, 0x8000000000000000
    TEST_RR 16, mulw,   0xfffffffffffffffe, 0x7fffffff, 2
    TEST_RR 17, mulw,   15, 0x100000003, 0x100000005      /* upper halves ignored */
    TEST_RR 18, mulw,   0xffffffff80000000, 0x10000, 0x8000
    TEST_RR 19, mulw,   0x0000000000000000, 0x10000, 0x10000

    /* ---- division: rounds towards zero, remainder has the dividend's sign ---- */
    TEST_RR 30, div,    0xfffffffffffffffa, 20, -3
    TEST_RR 31, div,    0xfffffffffffffffa, -20, 3
    TEST_RR 32, div,    6, -20, -3
    TEST_RR 33, rem,    2, 20, -3
    TEST_RR 34, rem,    0xfffffffffffffffe, -20, 3
    TEST_RR 35, rem,    0xfffffffffffffffe, -20, -3
    TEST_RR 36, divu,   0x7fffffffffffffff, -1, 2
    TEST_RR 37, divu,   0, 3, -1
    TEST_RR 38, remu,   1, 7, 3
    TEST_RR 39, remu,   3, 3, -1
    /* division by zero */
    TEST_RR 40, div,    0xffffffffffffffff, 12345, 0
    TEST_RR 41, div,    0xffffffffffffffff, -12345, 0
    TEST_RR 42, divu,   0xffffffffffffffff, 12345, 0
    TEST_RR 43, rem,    12345, 12345, 0
    TEST_RR 44, rem,    0xffffffffffffcfc7, -12345, 0
    TEST_RR 45, remu,   0xfedcba9876543210, 0xfedcba9876543210, 0
    /* signed overflow */
    TEST_RR 46, div,    0x8000000000000000, 0x8000000000000000, -1
    TEST_RR 47, rem,    0, 0x8000000000000000, -1

    /* ---- W forms ---- */
    TEST_RR 50, divw,   0xfffffffffffffffa, 0xabcdef0000000014, 0x12345678fffffffd  /* 20 / -3 */
    TEST_RR 51, divw,   0xffffffff80000000, 0x80000000, -1                          /* overflow */
    TEST_RR 52, remw,   0, 0x80000000, -1
    TEST_RR 53, divw,   0xffffffffffffffff, 77, 0x100000000                         /* by zero */
    TEST_RR 54, remw,   0xffffffff87654321, 0x1287654321, 0                          /* = sext(rs1[31:0]) */
    TEST_RR 55, remw,   0xfffffffffffffffe, -20, 3
    TEST_RR 56, divuw,  0x7fffffff, 0xffffffff, 2
    TEST_RR 57, divuw,  0xffffffff80000000, 0x80000000, 1                         /* result sign-extends */
    TEST_RR 58, divuw,  0xffffffffffffffff, 5, 0
    TEST_RR 59, remuw,  1, 0x100000007, 3
    TEST_RR 60, remuw,  1, 0x80000001, 0x80000000
    TEST_RR 61, remuw,  0xffffffff80000005, 0x80000005, 0
    TEST_RR 62, remuw,  0x0000000012345678, 0xff12345678, 0xff00000000           /* divisor's low half is 0 */

    /* rd = rs1 = rs2 */
    CHECK   70
    li      a0, 9
    mul     a0, a0, a0
    EXPECT  70, a0, 81
    div     a0, a0, a0
    EXPECT  71, a0, 1
TEST_PASS
TEST_END
