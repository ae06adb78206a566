/* exceptions.S — synchronous exceptions taken in M-mode (privileged spec 3.1.15 "mcause", 3.1.16
 * "mtval", 3.3.1 "Environment Call and Breakpoint", 3.1.6.1 trap entry): for each cause that can be
 * produced without paging, mcause, mepc (the faulting instruction) and mtval (the faulting address
 * for access faults; 0 or the instruction bits for illegal instructions; 0 or the pc for EBREAK;
 * 0 for ECALL), and the mstatus trap-entry rules (MPP = previous privilege, MPIE = old MIE, MIE = 0).
 *
 * Not testable here: instruction-address-misaligned. With C, IALIGN = 16: JALR clears bit 0 and
 * branch/jump offsets are even, so no control transfer can reach a misaligned pc (rv64i.S checks the
 * cleared bit; rvc.S runs a 32-bit instruction at 4n+2). Ordinary misaligned loads/stores may be
 * done in hardware, so only AMO/LR/SC misalignment is required to trap (rv64a.S). Page faults are in
 * paging_*.S, privileged-instruction and CSR cases in zicsr.S, privilege.S and tvm_tw_tsr.S. */
#include "test_macros.h"

/* Check n: the 32-bit word `bits` is an illegal instruction; mtval is 0 or the bits. */
.macro ILLEGAL n, bits
    CHECK   \n
    SET_RESUME .Lr\@
.Lat\@:
    .word   \bits
    j       test_fail
.Lr\@:
    EXPECT_MCAUSE \n, CAUSE_ILLEGAL
    EXPECT_MEPC \n, .Lat\@
    EXPECT_MTVAL_EITHER \n, 0, \bits
.endm

TEST_BEGIN
    /* ---- instruction access fault: fetch from a hole in the physical map ---- */
    CHECK   1
    SET_RESUME 1f
    li      a1, UNMAPPED_PA
    li      ra, 0
2:  jalr    ra, 0(a1)
8:  j       test_fail
1:  EXPECT_MCAUSE 1, CAUSE_FETCH_ACCESS
    EXPECT  2, t6, CAUSE_FETCH_ACCESS
    TRAP_FIELD t0, TR_EPC
    EXPECT  3, t0, UNMAPPED_PA                 /* mepc = the target that could not be fetched */
    EXPECT_MTVAL 4, UNMAPPED_PA
    EXPECT_ADDR 5, ra, 8b                      /* the JALR itself completed */

    /* ---- illegal instructions (several kinds) ---- */
    ILLEGAL 10, 0x00000000                     /* all zeros: defined illegal */
    ILLEGAL 11, 0x00007003                     /* LOAD with funct3 = 7: reserved */
    ILLEGAL 12, 0xfe000033                     /* OP with funct7 = 0x7f: reserved */
    ILLEGAL 13, 0x0000000b                     /* custom-0 opcode: no custom extension */
    ILLEGAL 14, 0x00200073                     /* SYSTEM uret: the N extension does not exist */
    ILLEGAL 15, 0x00001067                     /* JALR with funct3 = 1: reserved */
    ILLEGAL 16, 0x0000401b                     /* OP-IMM-32 funct3 = 4: reserved */
    ILLEGAL 17, 0x4000101b                     /* SLLIW with imm[11:5] = 0x20: reserved */
    ILLEGAL 18, 0x02005033 | (0x7f << 25)      /* M-extension space with funct7 = 0x7f */
    ILLEGAL 19, 0x0000302f | (0x1f << 27)      /* AMO with funct5 = 0x1f: reserved */
    ILLEGAL 20, 0x00002063                     /* BRANCH funct3 = 2: reserved */
    ILLEGAL 21, 0x00007023                     /* STORE funct3 = 7: reserved */
    /* a halfword whose low bits say "48-bit or longer": no such instructions here */
    CHECK   22
    SET_RESUME 3f
4:  .word   0xffffffff
    j       test_fail
3:  EXPECT_MCAUSE 22, CAUSE_ILLEGAL
    EXPECT_MEPC 22, 4b
    /* MRET / SRET below their privilege */
    EXPECT_TRAP_IN PRV_S, 23, CAUSE_ILLEGAL, mret
    EXPECT_TRAP_IN PRV_U, 24, CAUSE_ILLEGAL, mret
    EXPECT_TRAP_IN PRV_U, 25, CAUSE_ILLEGAL, sret
    EXPECT_TRAP_IN PRV_U, 26, CAUSE_ILLEGAL, sfence.vma

    /* ---- breakpoint ---- */
    CHECK   30
    SET_RESUME 5f
6:  ebreak
    j       test_fail
5:  EXPECT_MCAUSE 30, CAUSE_BREAKPOINT
    EXPECT_MEPC 30, 6b
    la      t0, 6b
    TRAP_FIELD t1, TR_TVAL
    beqz    t1, 7f
    EXPECT_REG 31, t1, t0                      /* if written, the pc of the EBREAK */
7:  EXPECT_TRAP_IN PRV_U, 32, CAUSE_BREAKPOINT, ebreak
    EXPECT_TRAP_IN PRV_S, 33, CAUSE_BREAKPOINT, ebreak

    /* ---- environment calls from each privilege ---- */
    EXPECT_TRAP_TVAL 40, CAUSE_ECALL_M, 0, ecall
    EXPECT_TRAP_IN PRV_S, 41, CAUSE_ECALL_S, ecall
    EXPECT_MTVAL 41, 0
    EXPECT_TRAP_IN PRV_U, 42, CAUSE_ECALL_U, ecall
    EXPECT_MTVAL 42, 0

    /* ---- trap entry: MPP, MPIE, MIE (3.1.6.1) ---- */
    li      t0, MSTATUS_MIE                    /* M-mode with MIE = 1 (no interrupt enabled in mie) */
    csrs    mstatus, t0
    EXPECT_TRAP 50, CAUSE_ECALL_M, ecall
    TRAP_FIELD a0, TR_STATUS
    srli    a1, a0, 11
    andi    a1, a1, 3
    EXPECT  50, a1, PRV_M
    andi    a1, a0, MSTATUS_MIE | MSTATUS_MPIE
    EXPECT  51, a1, MSTATUS_MPIE               /* MPIE = old MIE, MIE = 0 */
    csrr    a0, mstatus
    andi    a0, a0, MSTATUS_MIE
    EXPECT  52, a0, 0                          /* the framework resumes with MIE clear */
    EXPECT_TRAP_IN PRV_U, 53, CAUSE_ECALL_U, ecall
    TRAP_FIELD a0, TR_STATUS
    srli    a1, a0, 11
    andi    a1, a1, 3
    EXPECT  53, a1, PRV_U
    EXPECT_TRAP_IN PRV_S, 54, CAUSE_ECALL_S, ecall
    TRAP_FIELD a0, TR_STATUS
    srli    a1, a0, 11
    andi    a1, a1, 3
    EXPECT  54, a1, PRV_S

    /* ---- load and store access faults: a hole in the physical map ---- */
    li      s0, UNMAPPED_PA
    EXPECT_TRAP_TVAL 60, CAUSE_LOAD_ACCESS, UNMAPPED_PA, ld a0, 0(s0)
    EXPECT_TRAP_TVAL 61, CAUSE_LOAD_ACCESS, UNMAPPED_PA + 8, lbu a0, 8(s0)
    EXPECT_TRAP_TVAL 62, CAUSE_LOAD_ACCESS, UNMAPPED_PA + 0x7fc, lw a0, 0x7fc(s0)
    EXPECT_TRAP_TVAL 63, CAUSE_STORE_ACCESS, UNMAPPED_PA, sd a0, 0(s0)
    EXPECT_TRAP_TVAL 64, CAUSE_STORE_ACCESS, UNMAPPED_PA - 2, sh a0, -2(s0)
    EXPECT_TRAP_TVAL 65, CAUSE_LOAD_ACCESS, UNMAPPED_PA, fld fa0, 0(s0)
    EXPECT_TRAP_TVAL 66, CAUSE_STORE_ACCESS, UNMAPPED_PA + 16, fsw fa0, 16(s0)
    /* the destination register of a faulting load is unchanged */
    li      a0, 0x1234
    EXPECT_TRAP 67, CAUSE_LOAD_ACCESS, ld a0, 0(s0)
    EXPECT  67, a0, 0x1234
    /* the same from U-mode (PMP grants everything; the hole is still a hole) */
    EXPECT_TRAP_IN PRV_U, 68, CAUSE_LOAD_ACCESS, lw a0, 0(s0)
    EXPECT_MTVAL 68, UNMAPPED_PA
    EXPECT_TRAP_IN PRV_S, 69, CAUSE_STORE_ACCESS, sb a0, 1(s0)
    EXPECT_MTVAL 69, UNMAPPED_PA + 1

    /* ---- consecutive traps: each records its own cause, and each is taken exactly once ---- */
    CLEAR_TRAPS
    EXPECT_TRAP 70, CAUSE_BREAKPOINT, ebreak
    EXPECT_TRAP 71, CAUSE_ILLEGAL, .word 0
    EXPECT_MCOUNT 72, 2
TEST_PASS
TEST_END
