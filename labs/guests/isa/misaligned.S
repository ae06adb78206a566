/* misaligned.S — misaligned ordinary loads and stores (unprivileged spec 2.6 "Load and Store
 * Instructions"; privileged spec 3.1.15): the execution environment may perform them (with the
 * correct little-endian result) or raise an exception — address-misaligned or access-fault (loads
 * 4/5, stores 6/7) with mtval = the address. Each check accepts either outcome, but a performed
 * access must produce exactly the right bytes, and a trapped one the right cause and address.
 * (Misaligned atomics must trap: rv64a.S.) */
#include "test_macros.h"

/* Check n: `insn dst, off(s0)` either loads exp into dst or traps as a misaligned/faulting load. */
.macro MIS_LOAD n, insn, dst, off, exp
    CHECK   \n
    SET_RESUME .Lt\@
    \insn   \dst, \off(s0)
    la      tp, m_trap_area
    sd      zero, TR_RESUME(tp)                /* it did not trap: disarm */
    .ifc \dst, fa0
    fmv.x.d a0, fa0
    .endif
    EXPECT  \n, a0, \exp
    j       .Ldone\@
.Lt\@:
    TRAP_FIELD t0, TR_CAUSE
    EXPECT_EITHER \n, t0, CAUSE_MISALIGNED_LOAD, CAUSE_LOAD_ACCESS
    TRAP_FIELD t0, TR_TVAL
    addi    t1, s0, \off
    EXPECT_REG \n, t0, t1
.Ldone\@:
.endm
/* Check n: `insn a1, off(s1)` on a zeroed 16-byte area either stores (then the two dwords are
 * lo, hi) or traps as a misaligned/faulting store. */
.macro MIS_STORE n, insn, src, off, lo, hi
    CHECK   \n
    sd      zero, 0(s1)
    sd      zero, 8(s1)
    SET_RESUME .Lt\@
    \insn   \src, \off(s1)
    la      tp, m_trap_area
    sd      zero, TR_RESUME(tp)
    ld      t0, 0(s1)
    EXPECT  \n, t0, \lo
    ld      t0, 8(s1)
    EXPECT  \n, t0, \hi
    j       .Ldone\@
.Lt\@:
    TRAP_FIELD t0, TR_CAUSE
    EXPECT_EITHER \n, t0, CAUSE_MISALIGNED_STORE, CAUSE_STORE_ACCESS
    TRAP_FIELD t0, TR_TVAL
    addi    t1, s1, \off
    EXPECT_REG \n, t0, t1
.Ldone\@:
.endm

TEST_BEGIN
    la      s0, bytes
    la      s1, store_area
    MIS_LOAD 1,  lh,  a0, 1, 0x1211
    MIS_LOAD 2,  lhu, a0, 0x21, 0xa2a1
    MIS_LOAD 3,  lh,  a0, 0x21, 0xffffffffffffa2a1
    MIS_LOAD 4,  lw,  a0, 2, 0x15141312
    MIS_LOAD 5,  lw,  a0, 0x23, 0xffffffffa6a5a4a3
    MIS_LOAD 6,  lwu, a0, 0x23, 0xa6a5a4a3
    MIS_LOAD 7,  lw,  a0, 7, 0x1a191817            /* crosses an 8-byte boundary */
    MIS_LOAD 8,  ld,  a0, 3, 0x1a19181716151413
    MIS_LOAD 9,  ld,  a0, 1, 0x1817161514131211
    MIS_LOAD 10, ld,  a0, 0x27, 0xaeadacabaaa9a8a7
    MIS_LOAD 11, ld,  a0, 6, 0x1d1c1b1a19181716
    MIS_LOAD 12, fld, fa0, 5, 0x1c1b1a1918171615
    li      a1, 0x0123456789abcdef
    MIS_STORE 20, sh, a1, 1, 0x0000000000cdef00, 0
    MIS_STORE 21, sh, a1, 7, 0xef00000000000000, 0xcd
    MIS_STORE 22, sw, a1, 3, 0x89abcdef000000, 0
    MIS_STORE 23, sw, a1, 6, 0xcdef000000000000, 0x89ab
    MIS_STORE 24, sd, a1, 1, 0x23456789abcdef00, 0x01
    MIS_STORE 25, sd, a1, 5, 0xabcdef0000000000, 0x0123456789
    fmv.d.x fa1, a1
    MIS_STORE 26, fsd, fa1, 4, 0x89abcdef00000000, 0x01234567
TEST_PASS
TEST_END

    .data
    .balign 16
bytes:                          /* offset i holds 0x10 + i for i < 0x20, then 0xa0 + (i - 0x20) */
    .byte 0x10,0x11,0x12,0x13,0x14,0x15,0x16,0x17,0x18,0x19,0x1a,0x1b,0x1c,0x1d,0x1e,0x1f
    .byte 0x20,0x21,0x22,0x23,0x24,0x25,0x26,0x27,0x28,0x29,0x2a,0x2b,0x2c,0x2d,0x2e,0x2f
    .byte 0xa0,0xa1,0xa2,0xa3,0xa4,0xa5,0xa6,0xa7,0xa8,0xa9,0xaa,0xab,0xac,0xad,0xae,0xaf
    .balign 16
store_area:
    .dword 0, 0
