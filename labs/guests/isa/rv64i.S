/* rv64i.S — the RV64I base integer instruction set (unprivileged spec, chapters "RV32I Base Integer
 * Instruction Set" and "RV64I Base Integer Instruction Set"): register-register and immediate ALU
 * operations, the 32-bit "W" forms and their sign extension, shift-amount masking, LUI/AUIPC, every
 * conditional branch taken and not taken, JAL/JALR link values and JALR's cleared bit 0, every load
 * width with sign/zero extension, every store width, x0 as a sink, FENCE. */
#include "test_macros.h"

/* Branch `op` with a1 = a, a2 = b must be taken (check n). */
.macro BR_TAKEN n, op, a, b
    CHECK   \n
    li      a1, \a
    li      a2, \b
    \op     a1, a2, .Lt\@
    j       test_fail
.Lt\@:
.endm
/* Branch `op` with a1 = a, a2 = b must fall through (check n). */
.macro BR_NOT n, op, a, b
    CHECK   \n
    li      a1, \a
    li      a2, \b
    \op     a1, a2, .Lf\@
    j       .Lok\@
.Lf\@:
    j       test_fail
.Lok\@:
.endm

TEST_BEGIN
    /* ---- OP: register-register (2.4.2) ---- */
    TEST_RR 1,  add,  0x8000000000000000, 0x7fffffffffffffff, 1
    TEST_RR 2,  sub,  0xffffffffffffffff, 0, 1
    TEST_RR 3,  sll,  0x8000000000000000, 1, 63
    TEST_RR 4,  sll,  2, 1, 65                        /* only rs2[5:0] counts */
    TEST_RR 5,  slt,  1, -1, 1
    TEST_RR 6,  slt,  0, 1, -1
    TEST_RR 7,  sltu, 1, 1, -1
    TEST_RR 8,  sltu, 0, -1, 1
    TEST_RR 9,  xor,  0xf0f0f0f0f0f0f0f0, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0
    TEST_RR 10, srl,  1, 0x8000000000000000, 63
    TEST_RR 11, sra,  0xffffffffffffffff, 0x8000000000000000, 63
    TEST_RR 12, sra,  0xf800000000000000, 0x8000000000000000, 68
    TEST_RR 13, or,   0xfff0fff0fff0fff0, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0
    TEST_RR 14, and,  0x0f000f000f000f00, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0
    TEST_RR 15, srl,  0x0800000000000000, 0x8000000000000000, 68
    TEST_RR 16, slt,  0, 5, 5

    /* ---- OP-IMM (2.4.1): 12-bit sign-extended immediates ---- */
    TEST_RI 20, addi,  0x8000000000000000, 0x7fffffffffffffff, 1
    TEST_RI 21, addi,  0xfffffffffffff800, 0, -2048
    TEST_RI 22, slti,  1, -1, 0
    TEST_RI 23, slti,  0, 5, -2048
    TEST_RI 24, sltiu, 1, 1, -1                        /* imm sign-extends, then compares unsigned */
    TEST_RI 25, sltiu, 1, 0, 1
    TEST_RI 26, xori,  0x00ff00ff00ff00ff, 0xff00ff00ff00ff00, -1
    TEST_RI 27, ori,   0xfffffffffffff800, 0, -2048
    TEST_RI 28, andi,  0x7ff, -1, 0x7ff
    TEST_RI 29, slli,  0x8000000000000000, 1, 63
    TEST_RI 30, srli,  1, 0x8000000000000000, 63
    TEST_RI 31, srai,  0xffffffffffffffff, 0x8000000000000000, 63
    TEST_RI 32, srai,  0x0000000012345678, 0x1234567800000000, 32

    /* ---- OP-32 / OP-IMM-32 (4.2): 32-bit results, sign-extended ---- */
    TEST_RR 40, addw,  0xffffffff80000000, 0x7fffffff, 1
    TEST_RR 41, addw,  1, 0xffffffff00000001, 0      /* upper halves ignored */
    TEST_RR 42, subw,  0xffffffffffffffff, 0, 1
    TEST_RR 43, subw,  0x7fffffff, 0x80000000, 1
    TEST_RR 44, sllw,  0xffffffff80000000, 1, 31
    TEST_RR 45, sllw,  2, 1, 33                      /* only rs2[4:0] counts */
    TEST_RR 46, srlw,  1, 0xffffffff80000000, 31
    TEST_RR 47, srlw,  0xffffffff80000000, 0x80000000, 0
    TEST_RR 48, srlw,  0x40000000, 0xffffffff80000000, 1
    TEST_RR 49, sraw,  0xffffffffffffffff, 0x80000000, 31
    TEST_RR 50, sraw,  0xffffffffc0000000, 0x0000000180000000, 33
    TEST_RI 51, addiw, 0xffffffff80000000, 0x7fffffff, 1
    TEST_RI 52, addiw, 0xffffffffffffffff, 0x1ffffffff, 0   /* sext.w */
    TEST_RI 53, slliw, 0xffffffff80000000, 1, 31
    TEST_RI 54, srliw, 1, 0x80000000, 31
    TEST_RI 55, srliw, 0xffffffffffffffff, 0xffffffff, 0
    TEST_RI 56, sraiw, 0xffffffffffffffff, 0x80000000, 31
    TEST_RI 57, sraiw, 0x00000000007fffff, 0xf00000000fffffff, 5

    /* ---- LUI / AUIPC (2.4.1) ---- */
    lui     a0, 0x80000
    EXPECT  60, a0, 0xffffffff80000000
    lui     a0, 0x7ffff
    EXPECT  61, a0, 0x7ffff000
1:  auipc   a0, 0
    EXPECT_ADDR 62, a0, 1b
2:  auipc   a0, 0x80000                     /* pc + sign-extended 0x80000000 = pc - 2 GiB */
    la      a1, 2b
    li      a2, 0x80000000
    sub     a1, a1, a2
    EXPECT_REG 63, a0, a1
3:  auipc   a0, 1
    la      a1, 3b
    addi    a1, a1, 1024
    addi    a1, a1, 1024
    addi    a1, a1, 1024
    addi    a1, a1, 1024
    EXPECT_REG 64, a0, a1

    /* ---- conditional branches (2.5.2) ---- */
    BR_TAKEN 70, beq,  5, 5
    BR_NOT   71, beq,  5, 6
    BR_TAKEN 72, bne,  5, 6
    BR_NOT   73, bne,  5, 5
    BR_TAKEN 74, blt,  -1, 1
    BR_NOT   75, blt,  1, -1
    BR_NOT   76, blt,  3, 3
    BR_TAKEN 77, bge,  3, 3
    BR_TAKEN 78, bge,  1, -1
    BR_NOT   79, bge,  -1, 1
    BR_TAKEN 80, bltu, 1, -1
    BR_NOT   81, bltu, -1, 1
    BR_NOT   82, bltu, 7, 7
    BR_TAKEN 83, bgeu, -1, 1
    BR_TAKEN 84, bgeu, 7, 7
    BR_NOT   85, bgeu, 1, -1
    /* a backward branch: count down from 10 */
    CHECK   86
    li      a0, 10
    li      a1, 0
4:  addi    a1, a1, 1
    addi    a0, a0, -1
    bnez    a0, 4b
    EXPECT  86, a1, 10

    /* ---- JAL / JALR (2.5.1) ---- */
    CHECK   90
    jal     ra, 5f
6:  j       test_fail
5:  EXPECT_ADDR 90, ra, 6b
    CHECK   91
    la      a1, 7f
    jalr    a0, 0(a1)
8:  j       test_fail
7:  EXPECT_ADDR 91, a0, 8b
    CHECK   92
    la      a1, 9f
    addi    a1, a1, 1                     /* JALR clears bit 0 of the target */
    jalr    a0, 0(a1)
10: j       test_fail
9:  EXPECT_ADDR 92, a0, 10b
    CHECK   93
    la      a1, 11f
    addi    a1, a1, -12
    jalr    a0, 12(a1)                    /* target = rs1 + offset */
    j       test_fail
11: CHECK   94
    la      a1, 12f
    jalr    a1, 0(a1)                     /* rd == rs1: the old value is the target */
13: j       test_fail
12: EXPECT_ADDR 94, a1, 13b
    CHECK   95
    jal     zero, 14f                     /* rd = x0: plain jump */
    j       test_fail
14: CHECK   96
    .option push
    .option norvc                         /* 4-byte jumps, so that -4 is the previous one */
    la      a1, 15f
    jalr    zero, -4(a1)                  /* lands on the `j 16f` just before 15 */
    j       test_fail
    j       16f
15: j       test_fail
16:
    .option pop

    /* ---- loads (2.6): sign and zero extension, little-endian ---- */
    la      s0, load_data
    lb      a0, 0(s0)
    EXPECT  100, a0, 0xffffffffffffffff
    lbu     a0, 0(s0)
    EXPECT  101, a0, 0xff
    lb      a0, 7(s0)
    EXPECT  102, a0, 0x11
    lh      a0, 0(s0)
    EXPECT  103, a0, 0xffffffffffffeeff
    lhu     a0, 0(s0)
    EXPECT  104, a0, 0xeeff
    lh      a0, 6(s0)
    EXPECT  105, a0, 0x1122
    lw      a0, 0(s0)
    EXPECT  106, a0, 0xffffffffccddeeff
    lwu     a0, 0(s0)
    EXPECT  107, a0, 0xccddeeff
    lw      a0, 4(s0)
    EXPECT  108, a0, 0x11223344
    ld      a0, 0(s0)
    EXPECT  109, a0, 0x11223344ccddeeff
    addi    s1, s0, 16
    ld      a0, -8(s1)                    /* negative offset */
    EXPECT  110, a0, 0x8000000000000001
    lbu     a0, -1(s1)
    EXPECT  111, a0, 0x80

    /* ---- stores (2.6) ---- */
    la      s0, store_data
    sd      zero, 0(s0)
    sd      zero, 8(s0)
    li      a0, 0x0123456789abcdef
    sb      a0, 0(s0)
    ld      a1, 0(s0)
    EXPECT  120, a1, 0xef
    sh      a0, 2(s0)
    ld      a1, 0(s0)
    EXPECT  121, a1, 0xcdef00ef
    sw      a0, 4(s0)
    ld      a1, 0(s0)
    EXPECT  122, a1, 0x89abcdefcdef00ef
    sd      a0, 8(s0)
    ld      a1, 8(s0)
    EXPECT  123, a1, 0x0123456789abcdef
    addi    s1, s0, 16
    sb      zero, -1(s1)
    ld      a1, 8(s0)
    EXPECT  124, a1, 0x0023456789abcdef
    lw      a1, 0(s0)                     /* the first word is unchanged by the later stores */
    EXPECT  125, a1, 0xffffffffcdef00ef

    /* ---- x0 (2.1): writes are discarded ---- */
    li      a0, 5
    addi    x0, a0, 1
    add     x0, a0, a0
    lui     x0, 0x12345
    lw      x0, 0(s0)
    mv      a1, x0
    EXPECT  130, a1, 0
    TEST_RR 131, add, 5, 5, 0                 /* reading x0 */
    CHECK   132
    add     a0, x0, x0
    EXPECT  132, a0, 0

    /* ---- FENCE (2.7): ordering only, no architectural result ---- */
    CHECK   140
    fence
    fence   rw, rw
    fence   iorw, iorw
    fence   r, w
    .word   0x8330000f                     /* FENCE.TSO */
    .word   0x0100000f                     /* PAUSE (Zihintpause): a FENCE hint, a no-op here */
    li      a0, 1
    EXPECT  140, a0, 1
TEST_PASS
TEST_END

    .data
    .balign 8
load_data:
    .dword 0x11223344ccddeeff
    .dword 0x8000000000000001
store_data:
    .dword 0, 0
