/* rvc.S — the C extension (unprivileged spec, chapter "C Extension for Compressed Instructions"):
 * every RV64C instruction is executed in its 16-bit form (the assembler's output length is checked
 * at build time) and compared with its 32-bit expansion (assembled with .option norvc) on the same
 * inputs, and with the value it must produce. Control transfers check their targets and link
 * values (pc + 2 for C.JALR); C.EBREAK traps with mepc at itself; the all-zero halfword and the
 * reserved encodings (C.ADDI4SPN with nzuimm = 0, C.LUI/C.ADDI16SP with nzimm = 0, C.JR with
 * rs1 = x0, C.LWSP/C.LDSP with rd = x0) are illegal instructions. */
#include "test_macros.h"

    .option norelax

/* Emit one instruction and check at build time that it is 16 bits long. (Not usable for C.J,
 * C.BEQZ, C.BNEZ, whose fragments the assembler may relax; their explicit c. mnemonics are
 * checked in the disassembly instead.) */
.macro C16 insn:vararg
.Lb\@:
    \insn
.Le\@:
    .if .Le\@ - .Lb\@ - 2
    .error "expected a 16-bit instruction"
    .endif
.endm
/* Emit one instruction in its 32-bit form. */
.macro X32 insn:vararg
    .option push
    .option norvc
.Lb\@:
    \insn
.Le\@:
    .if .Le\@ - .Lb\@ - 4
    .error "expected a 32-bit instruction"
    .endif
    .option pop
.endm

/* Check n: `cop a0, a1` (compressed) and `xop a0, a0, a1` (expanded) both give exp
 * from a0 = a, a1 = b. */
.macro C_RR n, cop, xop, exp, a, b
    li      a0, \a
    li      a1, \b
    C16     \cop a0, a1
    EXPECT  \n, a0, \exp
    li      a0, \a
    X32     \xop a0, a0, a1
    EXPECT  \n, a0, \exp
.endm
/* Check n: `cop a0, imm` and `xop a0, a0, imm` both give exp from a0 = a. */
.macro C_RI n, cop, xop, exp, a, imm
    li      a0, \a
    C16     \cop a0, \imm
    EXPECT  \n, a0, \exp
    li      a0, \a
    X32     \xop a0, a0, \imm
    EXPECT  \n, a0, \exp
.endm

TEST_BEGIN
    /* ---- quadrant 1: integer register-immediate and register-register ---- */
    C16     c.nop
    C_RI    1,  c.addi,  addi,  0x8000000000000000, 0x7fffffffffffffff, 1
    C_RI    2,  c.addi,  addi,  0xffffffffffffffe0, 0, -32
    C_RI    3,  c.addiw, addiw, 0xffffffff80000000, 0x7fffffff, 1
    C_RI    4,  c.addiw, addiw, 0xffffffffffffffff, 0x1ffffffff, 0    /* sext.w */
    C_RI    5,  c.srli,  srli,  1, 0x8000000000000000, 63
    C_RI    6,  c.srai,  srai,  0xffffffffffffffff, 0x8000000000000000, 63
    C_RI    7,  c.srai,  srai,  0xc000000000000000, 0x8000000000000000, 1
    C_RI    8,  c.andi,  andi,  0xffffffffffffffe5, -1, -27
    C_RI    9,  c.andi,  andi,  0x1f, 0x12345fff, 31
    C_RI    10, c.slli,  slli,  0x8000000000000000, 1, 63
    C_RI    11, c.slli,  slli,  0x2468acf0, 0x12345678, 1
    C_RR    12, c.sub,   sub,   0xffffffffffffffff, 0, 1
    C_RR    13, c.xor,   xor,   0xf0f0f0f0f0f0f0f0, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0
    C_RR    14, c.or,    or,    0xfff0fff0fff0fff0, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0
    C_RR    15, c.and,   and,   0x0f000f000f000f00, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0
    C_RR    16, c.subw,  subw,  0x7fffffff, 0x80000000, 1
    C_RR    17, c.addw,  addw,  0xffffffff80000000, 0x7fffffff, 1
    C_RR    18, c.add,   add,   0x8000000000000000, 0x7fffffffffffffff, 1
    /* C.LI, C.LUI, C.MV */
    C16     c.li a0, -32
    EXPECT  20, a0, 0xffffffffffffffe0
    X32     addi a0, zero, -32
    EXPECT  20, a0, 0xffffffffffffffe0
    C16     c.li a0, 31
    EXPECT  21, a0, 31
    C16     c.lui a0, 0xfffe0                 /* nzimm[17] set: sign-extends */
    EXPECT  22, a0, 0xfffffffffffe0000
    X32     lui a0, 0xfffe0
    EXPECT  22, a0, 0xfffffffffffe0000
    C16     c.lui a0, 0x1f
    EXPECT  23, a0, 0x1f000
    li      a1, 0x123456789
    C16     c.mv a0, a1
    EXPECT  24, a0, 0x123456789
    /* C.ADDI16SP, C.ADDI4SPN */
    mv      s1, sp
    C16     c.addi16sp sp, -512
    sub     a0, s1, sp
    EXPECT  25, a0, 512
    C16     c.addi16sp sp, 496
    sub     a0, s1, sp
    EXPECT  26, a0, 16
    mv      sp, s1
    C16     c.addi4spn a0, sp, 1020
    sub     a0, a0, sp
    EXPECT  27, a0, 1020
    C16     c.addi4spn a5, sp, 4
    sub     a5, a5, sp
    EXPECT  28, a5, 4

    /* ---- loads and stores, register-based (quadrant 0) ---- */
    la      s0, c_data
    C16     c.lw a0, 4(s0)
    EXPECT  30, a0, 0xffffffff89abcdef       /* sign-extends */
    X32     lw a0, 4(s0)
    EXPECT  30, a0, 0xffffffff89abcdef
    C16     c.ld a0, 8(s0)
    EXPECT  31, a0, 0x0123456789abcdef
    C16     c.lw a0, 124(s0)                  /* the largest offset */
    EXPECT  32, a0, 0x7e7e7e7e
    C16     c.ld a0, 248(s0)
    EXPECT  33, a0, 0x5a5a5a5a5a5a5a5a
    li      a1, 0x1122334455667788
    C16     c.sw a1, 16(s0)
    C16     c.sd a1, 24(s0)
    ld      a0, 16(s0)
    EXPECT  34, a0, 0x0000000055667788
    ld      a0, 24(s0)
    EXPECT  35, a0, 0x1122334455667788
    C16     c.fld fa0, 8(s0)
    fmv.x.d a0, fa0
    EXPECT  36, a0, 0x0123456789abcdef
    C16     c.fsd fa0, 32(s0)
    ld      a0, 32(s0)
    EXPECT  37, a0, 0x0123456789abcdef

    /* ---- loads and stores, sp-based (quadrant 2) ---- */
    mv      s1, sp
    la      sp, c_data
    C16     c.lwsp a0, 4(sp)
    C16     c.ldsp a2, 8(sp)
    C16     c.lwsp a3, 252(sp)                /* the largest offset */
    C16     c.ldsp a4, 504(sp)
    C16     c.fldsp fa1, 8(sp)
    li      a1, 0x99aabbccddeeff00
    C16     c.swsp a1, 40(sp)
    C16     c.sdsp a1, 48(sp)
    C16     c.fsdsp fa1, 56(sp)
    mv      sp, s1
    EXPECT  40, a0, 0xffffffff89abcdef
    EXPECT  41, a2, 0x0123456789abcdef
    EXPECT  42, a3, 0x5a5a5a5a
    EXPECT  43, a4, 0xa5a5a5a5a5a5a5a5
    fmv.x.d a0, fa1
    EXPECT  44, a0, 0x0123456789abcdef
    la      s0, c_data
    ld      a0, 40(s0)
    EXPECT  45, a0, 0x00000000ddeeff00
    ld      a0, 48(s0)
    EXPECT  46, a0, 0x99aabbccddeeff00
    ld      a0, 56(s0)
    EXPECT  47, a0, 0x0123456789abcdef

    /* ---- control transfer ---- */
    CHECK   50
    c.j 1f
    j       test_fail
1:  CHECK   51
    li      a0, 0
    c.beqz a0, 2f
    j       test_fail
2:  li      a0, 1
    c.beqz a0, 3f
    j       4f
3:  FAIL    52
4:  CHECK   53
    li      a0, -1
    c.bnez a0, 5f
    j       test_fail
5:  li      a0, 0
    c.bnez a0, 6f
    j       7f
6:  FAIL    54
7:  CHECK   55
    la      a1, 8f
    C16     c.jr a1
    j       test_fail
8:  CHECK   56
    la      a1, 9f
    li      ra, 0
    C16     c.jalr a1
10: j       test_fail
9:  EXPECT_ADDR 56, ra, 10b                   /* link = address of C.JALR + 2 */
    /* backward c.bnez loop */
    li      a0, 5
    li      a1, 0
11: addi    a1, a1, 1
    addi    a0, a0, -1
    c.bnez a0, 11b
    EXPECT  57, a1, 5

    /* ---- C.EBREAK, the illegal halfword, reserved encodings ---- */
    CHECK   60
    SET_RESUME 61f
60: C16     c.ebreak
    j       test_fail
61: EXPECT_MCAUSE 60, CAUSE_BREAKPOINT
    EXPECT_MEPC 60, 60b
    EXPECT_TRAP 62, CAUSE_ILLEGAL, .2byte 0x0000     /* defined illegal (all zeros) */
    EXPECT_MTVAL 62, 0
    EXPECT_TRAP 63, CAUSE_ILLEGAL, .2byte 0x0008     /* C.ADDI4SPN a0, sp, 0: reserved */
    EXPECT_MTVAL_EITHER 63, 0, 0x0008
    EXPECT_TRAP 64, CAUSE_ILLEGAL, .2byte 0x6501     /* C.LUI a0, 0: reserved */
    EXPECT_TRAP 65, CAUSE_ILLEGAL, .2byte 0x6101     /* C.ADDI16SP 0: reserved */
    EXPECT_TRAP 66, CAUSE_ILLEGAL, .2byte 0x8002     /* C.JR x0: reserved */
    EXPECT_TRAP 67, CAUSE_ILLEGAL, .2byte 0x6002     /* C.LDSP x0: reserved */
    EXPECT_TRAP 68, CAUSE_ILLEGAL, .2byte 0x4002     /* C.LWSP x0: reserved */
    EXPECT_TRAP 69, CAUSE_ILLEGAL, .2byte 0x2001     /* C.ADDIW x0: reserved */

    /* ---- mixing: a 32-bit instruction at a 2-byte aligned address ---- */
    CHECK   70
    .balign 4
    C16     c.nop
    X32     addi a0, zero, 70                 /* at 4n + 2 */
    EXPECT  70, a0, 70
TEST_PASS
TEST_END

    .data
    .balign 8
c_data:
    .dword 0x89abcdef00000000          /* 0 */
    .dword 0x0123456789abcdef          /* 8 */
    .dword 0, 0, 0, 0, 0, 0            /* 16..63 */
    .fill  (120 - 64) / 8, 8, 0        /* 64..119 */
    .dword 0x7e7e7e7e00000000          /* 120: word at 124 */
    .fill  (248 - 128) / 8, 8, 0
    .dword 0x5a5a5a5a5a5a5a5a          /* 248: word at 252 = 0x5a5a5a5a */
    .fill  (504 - 256) / 8, 8, 0
    .dword 0xa5a5a5a5a5a5a5a5          /* 504 */
