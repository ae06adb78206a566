/* sstc.S — the Sstc extension, supervisor timer compare (privileged spec, chapter "Sstc"; the
 * supervisor chapter's "Supervisor Timer (stimecmp) Register"; the machine chapter's "menvcfg"
 * (STCE), "mcounteren" (TM) and "mip and mie" (STIP); the hypervisor chapter's "henvcfg" (STCE),
 * "hcounteren" (TM), "hip" (VSTIP), "htimedelta", "vstimecmp" and "virtual-instruction exception"):
 *   1-2    M-mode reads and writes all 64 bits of stimecmp with menvcfg.STCE = 0 (and 11 with 1);
 *   10-13  menvcfg.STCE (bit 63) is writable;
 *   20-26  with STCE = 1, mip.STIP is (time >= stimecmp), unsigned, and read-only in mip;
 *   30-36  with STCE = 0, STIP reverts to the M-writable bit that stimecmp does not drive; and
 *          once STCE is set again it follows the comparison, whatever was written before;
 *   40-49  S-mode accesses stimecmp only with STCE = 1 and mcounteren.TM = 1 (else illegal
 *          instruction); U-mode never;
 *   50-58  the timer interrupt is taken: delegated, by S-mode's handler; not delegated, by M;
 *   60-76  (H only) vstimecmp in M, henvcfg.STCE writable only under menvcfg.STCE, hip.VSTIP =
 *          (time + htimedelta, truncated to 64 bits, >= vstimecmp) OR hvip.VSTIP, reverting to
 *          hvip.VSTIP alone when henvcfg.STCE = 0;
 *   80-92  (H only) VS-mode's stimecmp is vstimecmp; henvcfg.STCE = 0 or hcounteren.TM = 0 make it a
 *          virtual-instruction exception, mcounteren.TM = 0 or menvcfg.STCE = 0 an illegal one;
 *          vstimecmp by its own number is HS-only.
 * Without the hypervisor extension (misa.H = 0) checks 60-92 are skipped.
 *
 * A change of the comparison "is guaranteed to be reflected in STIP eventually, but not necessarily
 * immediately" (Sstc), so a pending bit that must follow the timer is polled with a bound
 * (WAIT_IP); a bit that must not change (read-only, or not driven by the comparator) is read at
 * once, or after a short delay. The timer values are either 0 (<= time), all ones or
 * time + 2^40 (far in the future: 30 hours at 10 MHz), or time + 50 for an interrupt that is waited
 * for; nothing depends on the exact value of time. s registers and t5 belong to this program. */
#include "test_macros.h"

#define CSR_STIMECMP    0x14d
#define CSR_VSTIMECMP   0x24d
#define CSR_MENVCFG     0x30a
#define CSR_HSTATUS     0x600
#define CSR_HTIMEDELTA  0x605
#define CSR_HCOUNTEREN  0x606
#define CSR_HENVCFG     0x60a
#define CSR_HIP         0x644
#define CSR_HVIP        0x645

#define ENVCFG_STCE     (1 << 63)       /* menvcfg and henvcfg bit 63 */
#define COUNTEREN_CY    (1 << 0)
#define COUNTEREN_TM    (1 << 1)
#define COUNTEREN_IR    (1 << 2)
#define MSTATUS_MPV     (1 << 39)       /* RV64: in mstatus itself */
#define MISA_H          (1 << 7)
#define MIP_VSTIP       (1 << 6)
#define CAUSE_ECALL_VS  10
#define CAUSE_VIRTUAL_INSTRUCTION 22
#define FAR_AHEAD       (1 << 40)

/* Check n: within a bounded wait, (csr & mask) == want (a pending bit that follows a comparison). */
.macro WAIT_IP n, csr, mask, want
    CHECK   \n
    li      t5, 1000000
.Lpoll\@:
    csrr    t6, \csr
    li      tp, \mask
    and     t6, t6, tp
    li      tp, \want
    beq     t6, tp, .Lok\@
    addi    t5, t5, -1
    bnez    t5, .Lpoll\@
    j       test_fail
.Lok\@:
.endm

/* Check n: (csr & mask) == want now. */
.macro EXPECT_IP n, csr, mask, want
    csrr    t6, \csr
    li      tp, \mask
    and     t6, t6, tp
    EXPECT  \n, t6, \want
.endm

/* Spin for a while (time advances meanwhile). */
.macro DELAY
    li      t5, 20000
.Ld\@:
    addi    t5, t5, -1
    bnez    t5, .Ld\@
.endm

/* menvcfg.STCE / henvcfg.STCE on or off. */
.macro STCE_ON csr
    li      t0, ENVCFG_STCE
    csrs    \csr, t0
.endm
.macro STCE_OFF csr
    li      t0, ENVCFG_STCE
    csrc    \csr, t0
.endm

/* Continue at label in VS-mode (S with V = 1: MPP = S, MPV = 1, then MRET), with traps entering
 * through vs_trap_entry. */
.macro ENTER_VS label
    la      t6, vs_trap_entry
    csrw    mtvec, t6
    li      t6, MSTATUS_MPP
    csrc    mstatus, t6
    li      t6, MSTATUS_MPV | (PRV_S << 11)
    csrs    mstatus, t6
    la      t6, \label
    csrw    mepc, t6
    mret
.endm

/* Back in M-mode after a VS excursion: the framework's mtvec again; check n: the trap came from
 * V = 1 (MPV, as vs_trap_entry saw it). */
.macro LEFT_VS n
    la      t6, m_trap_handler
    csrw    mtvec, t6
    la      t6, vs_trap_mstatus
    ld      t6, 0(t6)
    li      tp, MSTATUS_MPV
    and     t6, t6, tp
    EXPECT  \n, t6, MSTATUS_MPV
.endm

/* Check n: in VS-mode, `insn` executes without trapping; back in M-mode through the ECALL after it
 * (cause 10, ECALL from VS-mode), the only trap. */
.macro EXPECT_OK_IN_VS n, insn:vararg
    CHECK   \n
    CLEAR_TRAPS
    SET_RESUME .Lback\@
    ENTER_VS .Lvs\@
.Lvs\@:
    \insn
    ecall
    j       test_fail
.Lback\@:
    LEFT_VS \n
    EXPECT_MCOUNT \n, 1
    EXPECT_MCAUSE \n, CAUSE_ECALL_VS
.endm

/* Check n: in VS-mode, `insn` traps (to M: medeleg = 0) with cause, mepc at it. */
.macro EXPECT_TRAP_IN_VS n, cause, insn:vararg
    CHECK   \n
    CLEAR_TRAPS
    SET_RESUME .Lres\@
    ENTER_VS .Lat\@
.Lat\@:
    \insn
    j       test_fail                   /* did not trap */
.Lres\@:
    LEFT_VS \n
    EXPECT_MCAUSE \n, \cause
    EXPECT_MEPC \n, .Lat\@
.endm

TEST_BEGIN
    CHECK   1                           /* (a hart without Sstc fails here: stimecmp is illegal) */
    csrw    mcounteren, zero
    csrw    scounteren, zero
    STCE_OFF CSR_MENVCFG
    li      t0, -1
    csrw    CSR_STIMECMP, t0

    /* ---- 1-2: stimecmp is an M-mode read/write register whatever STCE (menvcfg: STCE gates
       "a mode other than M-mode"); here STCE = 0, with STCE = 1 in 11 ---- */
    li      s0, 0x0123456789abcdef
    csrw    CSR_STIMECMP, s0
    csrr    a0, CSR_STIMECMP
    EXPECT_REG 1, a0, s0                /* all 64 bits, STCE = 0 */
    li      s0, 0xfedcba9876543210
    csrw    CSR_STIMECMP, s0
    csrr    a0, CSR_STIMECMP
    EXPECT_REG 2, a0, s0

    /* ---- 10-13: menvcfg.STCE (bit 63) is writable ---- */
    STCE_ON CSR_MENVCFG
    csrr    a0, CSR_MENVCFG
    li      t0, ENVCFG_STCE
    and     a0, a0, t0
    EXPECT  10, a0, ENVCFG_STCE
    li      s0, 0x8000000000000001
    csrw    CSR_STIMECMP, s0            /* all 64 bits in M-mode, STCE = 1 */
    csrr    a0, CSR_STIMECMP
    EXPECT_REG 11, a0, s0
    STCE_OFF CSR_MENVCFG
    csrr    a0, CSR_MENVCFG
    li      t0, ENVCFG_STCE
    and     a0, a0, t0
    EXPECT  12, a0, 0
    STCE_ON CSR_MENVCFG
    csrr    a0, CSR_MENVCFG
    li      t0, ENVCFG_STCE
    and     a0, a0, t0
    EXPECT  13, a0, ENVCFG_STCE

    /* ---- 20-26: STCE = 1: mip.STIP is time >= stimecmp (unsigned), read-only in mip
       (supervisor "stimecmp"; machine "mip and mie": read-only when stimecmp is implemented) ---- */
    csrw    CSR_STIMECMP, zero          /* 0 <= time */
    WAIT_IP 20, mip, MIP_STIP, MIP_STIP
    li      t0, MIP_STIP
    csrc    mip, t0                     /* no effect */
    EXPECT_IP 21, mip, MIP_STIP, MIP_STIP
    csrw    mip, zero                   /* nor a whole-register write */
    EXPECT_IP 21, mip, MIP_STIP, MIP_STIP
    li      t0, -1
    csrw    CSR_STIMECMP, t0            /* all ones: > time */
    WAIT_IP 22, mip, MIP_STIP, 0
    li      t0, MIP_STIP
    csrs    mip, t0                     /* no effect */
    EXPECT_IP 23, mip, MIP_STIP, 0
    rdtime  a0
    csrw    CSR_STIMECMP, a0            /* = time when read: time >= stimecmp from then on */
    WAIT_IP 24, mip, MIP_STIP, MIP_STIP
    li      t0, 0x8000000000000000      /* unsigned: far ahead (signed, it would be in the past) */
    csrw    CSR_STIMECMP, t0
    WAIT_IP 25, mip, MIP_STIP, 0
    rdtime  a0
    li      t0, FAR_AHEAD
    add     a0, a0, t0
    csrw    CSR_STIMECMP, zero
    WAIT_IP 26, mip, MIP_STIP, MIP_STIP
    csrw    CSR_STIMECMP, a0            /* time + 2^40: the interrupt falls again */
    WAIT_IP 26, mip, MIP_STIP, 0

    /* ---- 30-36: STCE = 0: "STIP in mip and sip reverts to its defined behavior as if this
       extension is not implemented" (menvcfg): written by M-mode, not driven by stimecmp ---- */
    li      t0, -1
    csrw    CSR_STIMECMP, t0
    WAIT_IP 30, mip, MIP_STIP, 0
    STCE_OFF CSR_MENVCFG
    li      t0, MIP_STIP
    csrs    mip, t0
    EXPECT_IP 30, mip, MIP_STIP, MIP_STIP
    li      t0, MIP_STIP
    csrc    mip, t0
    EXPECT_IP 31, mip, MIP_STIP, 0
    /* QEMU 7.2 deviation: its stimecmp write sets or clears mip.STIP whatever menvcfg.STCE, so M's
       own STIP is lost on the next stimecmp write. */
    SKIP_ON_QEMU72 .Lskip_stce0_not_driven
    li      t0, MIP_STIP
    csrs    mip, t0
    li      t0, -2
    csrw    CSR_STIMECMP, t0            /* > time: would clear STIP if it were driven */
    DELAY
    EXPECT_IP 32, mip, MIP_STIP, MIP_STIP
    li      t0, MIP_STIP
    csrc    mip, t0
    csrw    CSR_STIMECMP, zero          /* <= time: would set STIP if it were driven */
    DELAY
    EXPECT_IP 33, mip, MIP_STIP, 0
.Lskip_stce0_not_driven:
    /* Setting STCE makes STIP the comparison's again, whatever M wrote to it meanwhile.
       QEMU 7.2 deviation: it recomputes STIP only when stimecmp is written, so after STCE = 1
       mip.STIP keeps the value M wrote while STCE = 0, against the comparison. */
    SKIP_ON_QEMU72 .Lskip_stce_enable_recompute
    li      t0, -1
    csrw    CSR_STIMECMP, t0            /* > time ... */
    li      t0, MIP_STIP
    csrs    mip, t0                     /* ... but M's STIP = 1 */
    STCE_ON CSR_MENVCFG
    WAIT_IP 34, mip, MIP_STIP, 0
    STCE_OFF CSR_MENVCFG
    csrw    CSR_STIMECMP, zero          /* <= time ... */
    li      t0, MIP_STIP
    csrc    mip, t0                     /* ... but M's STIP = 0 */
    STCE_ON CSR_MENVCFG
    WAIT_IP 35, mip, MIP_STIP, MIP_STIP
.Lskip_stce_enable_recompute:
    STCE_ON CSR_MENVCFG
    li      t0, -1
    csrw    CSR_STIMECMP, t0
    WAIT_IP 36, mip, MIP_STIP, 0

    /* ---- 40-49: access from S and U (menvcfg: STCE; mcounteren: TM) ---- */
    li      t0, COUNTEREN_TM
    csrw    mcounteren, t0
    li      s0, 0x1111222233334444
    csrw    CSR_STIMECMP, s0
    EXPECT_OK_IN PRV_S, 40, csrr a0, CSR_STIMECMP
    EXPECT_REG 40, a0, s0               /* S reads M's value */
    li      s1, 0x5555666677778888
    EXPECT_OK_IN PRV_S, 41, csrw CSR_STIMECMP, s1
    csrr    a0, CSR_STIMECMP
    EXPECT_REG 41, a0, s1               /* M reads S's value */
    STCE_OFF CSR_MENVCFG                /* STCE = 0: illegal below M */
    EXPECT_TRAP_IN PRV_S, 42, CAUSE_ILLEGAL, csrr a0, CSR_STIMECMP
    EXPECT_TRAP_IN PRV_S, 43, CAUSE_ILLEGAL, csrw CSR_STIMECMP, zero
    csrr    a0, CSR_STIMECMP
    EXPECT_REG 44, a0, s1               /* the trapping write wrote nothing */
    STCE_ON CSR_MENVCFG                 /* STCE = 1 but mcounteren.TM = 0: illegal */
    li      t0, COUNTEREN_CY | COUNTEREN_IR
    csrw    mcounteren, t0
    EXPECT_TRAP_IN PRV_S, 45, CAUSE_ILLEGAL, csrr a0, CSR_STIMECMP
    EXPECT_TRAP_IN PRV_S, 46, CAUSE_ILLEGAL, csrw CSR_STIMECMP, zero
    csrr    a0, CSR_STIMECMP
    EXPECT_REG 47, a0, s1
    li      t0, COUNTEREN_CY | COUNTEREN_TM | COUNTEREN_IR
    csrw    mcounteren, t0              /* U: an S-level CSR, never accessible from U */
    csrw    scounteren, t0
    EXPECT_TRAP_IN PRV_U, 48, CAUSE_ILLEGAL, csrr a0, CSR_STIMECMP
    EXPECT_TRAP_IN PRV_U, 49, CAUSE_ILLEGAL, csrw CSR_STIMECMP, zero
    csrw    scounteren, zero
    li      t0, -1
    csrw    CSR_STIMECMP, t0
    WAIT_IP 49, mip, MIP_STIP, 0

    /* ---- 50-54: the interrupt, delegated to S (STCE = 1, mcounteren.TM = 1): S-mode arms
       stimecmp = time + 50 and spins with sie.STIE and sstatus.SIE set; its trap handler
       (s_trap_handler, resuming at 51 with SIE = 0) sees scause = interrupt 5 and moves stimecmp
       to all ones, after which STIP falls ---- */
    li      t0, COUNTEREN_TM
    csrw    mcounteren, t0
    li      t0, MIP_STIP
    csrs    mideleg, t0
    csrw    mie, t0
    li      t0, MSTATUS_SIE
    csrs    mstatus, t0
    CLEAR_TRAPS
    CHECK   50
    GO_MODE PRV_S
    SET_SRESUME 51f
    rdtime  t0
    addi    t0, t0, 50
    csrw    CSR_STIMECMP, t0
    li      t1, 10000000                /* bounded: ~10^7 iterations, far beyond 50 ticks */
1:  addi    t1, t1, -1
    bnez    t1, 1b
    j       test_fail                   /* (50) the interrupt never came */
51: csrr    s2, sip                     /* in S, in the handler's continuation */
    li      t0, -1
    csrw    CSR_STIMECMP, t0
    WAIT_IP 51, sip, MIP_STIP, 0
    M_RETURN
    EXPECT_SCAUSE 52, CAUSE_INTERRUPT | IRQ_S_TIMER
    EXPECT_SCOUNT 52, 1
    EXPECT_MCOUNT 53, 1                 /* only the ECALL of M_RETURN reached M */
    andi    s2, s2, MIP_STIP
    EXPECT  54, s2, MIP_STIP            /* pending in sip while handled */
    csrw    mie, zero
    li      t0, MSTATUS_SIE
    csrc    mstatus, t0
    li      t0, MIP_STIP
    csrc    mideleg, t0

    /* ---- 55-58: not delegated: the same interrupt from S-mode is taken by M (mcause) ---- */
    li      t0, MIP_STIP
    csrw    mie, t0
    CLEAR_TRAPS
    CHECK   55
    GO_MODE PRV_S
    SET_RESUME 56f
    rdtime  t0
    addi    t0, t0, 50
    csrw    CSR_STIMECMP, t0
    li      t1, 10000000
1:  addi    t1, t1, -1
    bnez    t1, 1b
    j       test_fail                   /* (55) the interrupt never came */
56: EXPECT_MCAUSE 56, CAUSE_INTERRUPT | IRQ_S_TIMER
    EXPECT_MCOUNT 56, 1
    EXPECT_SCOUNT 57, 0
    TRAP_FIELD a0, TR_STATUS
    li      t0, MSTATUS_MPP
    and     a0, a0, t0
    EXPECT  58, a0, PRV_S << 11         /* taken from S */
    li      t0, -1
    csrw    CSR_STIMECMP, t0
    WAIT_IP 58, mip, MIP_STIP, 0
    csrw    mie, zero

    /* ---- 60-92: the hypervisor extension's part, if misa.H ---- */
    csrr    t0, misa
    andi    t0, t0, MISA_H
    beqz    t0, .Lno_h
    STCE_OFF CSR_MENVCFG                /* (see 72) */
    csrw    CSR_HVIP, zero
    STCE_ON CSR_MENVCFG
    csrw    CSR_HTIMEDELTA, zero
    csrw    CSR_HCOUNTEREN, zero
    csrw    CSR_HSTATUS, zero
    /* 60: vstimecmp is read/write in M-mode, all 64 bits */
    li      s0, 0x0fedcba987654321
    csrw    CSR_VSTIMECMP, s0
    csrr    a0, CSR_VSTIMECMP
    EXPECT_REG 60, a0, s0
    li      s0, 0xf0123456789abcde
    csrw    CSR_VSTIMECMP, s0
    csrr    a0, CSR_VSTIMECMP
    EXPECT_REG 60, a0, s0
    /* 61-63: henvcfg.STCE is read-only zero while menvcfg.STCE = 0 (menvcfg), writable otherwise.
       QEMU 7.2 deviation: henvcfg.STCE is writable and reads back 1 whatever menvcfg.STCE. */
    SKIP_ON_QEMU72 .Lskip_henvcfg_stce_rdonly
    STCE_OFF CSR_MENVCFG
    STCE_ON CSR_HENVCFG
    csrr    a0, CSR_HENVCFG
    li      t0, ENVCFG_STCE
    and     a0, a0, t0
    EXPECT  61, a0, 0
.Lskip_henvcfg_stce_rdonly:
    STCE_ON CSR_MENVCFG
    STCE_ON CSR_HENVCFG
    csrr    a0, CSR_HENVCFG
    li      t0, ENVCFG_STCE
    and     a0, a0, t0
    EXPECT  62, a0, ENVCFG_STCE
    STCE_OFF CSR_HENVCFG
    csrr    a0, CSR_HENVCFG
    li      t0, ENVCFG_STCE
    and     a0, a0, t0
    EXPECT  63, a0, 0
    /* 64-71: both STCE = 1, hvip = 0: hip.VSTIP (and its alias mip.VSTIP) is
       (time + htimedelta) mod 2^64 >= vstimecmp ("vstimecmp"; "hip") */
    STCE_ON CSR_HENVCFG
    rdtime  s3
    li      t0, FAR_AHEAD
    add     s3, s3, t0                  /* s3 = time + 2^40 */
    csrw    CSR_VSTIMECMP, s3           /* delta 0: not pending */
    WAIT_IP 64, CSR_HIP, MIP_VSTIP, 0
    EXPECT_IP 64, mip, MIP_VSTIP, 0
    li      t0, 2 * FAR_AHEAD
    csrw    CSR_HTIMEDELTA, t0
    csrw    CSR_VSTIMECMP, s3           /* the same value, now with delta 2^41: pending */
    WAIT_IP 65, CSR_HIP, MIP_VSTIP, MIP_VSTIP
    EXPECT_IP 65, mip, MIP_VSTIP, MIP_VSTIP
    csrw    CSR_HTIMEDELTA, zero
    csrw    CSR_VSTIMECMP, s3           /* and with delta 0 again not */
    WAIT_IP 66, CSR_HIP, MIP_VSTIP, 0
    /* 67-68: the same by htimedelta alone, vstimecmp left as it is.
       QEMU 7.2 deviation: it compares only when vstimecmp is written, so a new htimedelta does
       not move hip.VSTIP. */
    SKIP_ON_QEMU72 .Lskip_htimedelta_alone
    li      t0, 2 * FAR_AHEAD
    csrw    CSR_HTIMEDELTA, t0
    WAIT_IP 67, CSR_HIP, MIP_VSTIP, MIP_VSTIP
    csrw    CSR_HTIMEDELTA, zero
    WAIT_IP 68, CSR_HIP, MIP_VSTIP, 0
.Lskip_htimedelta_alone:
    csrw    CSR_HTIMEDELTA, zero
    csrw    CSR_VSTIMECMP, zero         /* by vstimecmp alone: 0, then all ones */
    WAIT_IP 69, CSR_HIP, MIP_VSTIP, MIP_VSTIP
    li      t0, -1
    csrw    CSR_VSTIMECMP, t0
    WAIT_IP 70, CSR_HIP, MIP_VSTIP, 0
    csrw    CSR_VSTIMECMP, zero         /* (from pending) */
    WAIT_IP 71, CSR_HIP, MIP_VSTIP, MIP_VSTIP
    li      t0, -1
    csrw    CSR_HTIMEDELTA, t0          /* delta = -1: time - 1 (time >= 1 by now) truncated to */
    li      t0, 0x8000000000000000      /* 64 bits is below 2^63: not pending (untruncated, or */
    csrw    CSR_VSTIMECMP, t0           /* compared as signed, it would be) */
    WAIT_IP 71, CSR_HIP, MIP_VSTIP, 0
    csrw    CSR_HTIMEDELTA, zero
    /* 72-73: hip.VSTIP is the OR of hvip.VSTIP, still writable ("hip"), and the comparison.
       QEMU 7.2 deviation: with menvcfg.STCE = 1 it ignores M-mode writes to hvip.VSTIP. */
    li      t0, -1
    csrw    CSR_VSTIMECMP, t0
    SKIP_ON_QEMU72 .Lskip_hvip_vstip
    li      t0, MIP_VSTIP
    csrs    CSR_HVIP, t0
    EXPECT_IP 72, CSR_HIP, MIP_VSTIP, MIP_VSTIP
    li      t0, MIP_VSTIP
    csrc    CSR_HVIP, t0
    EXPECT_IP 73, CSR_HIP, MIP_VSTIP, 0
.Lskip_hvip_vstip:
    /* 74-75: henvcfg.STCE = 0: hip.VSTIP reverts to hvip.VSTIP alone ("henvcfg"), so a true
       comparison does not show.
       QEMU 7.2 deviation: it ORs the vstimecmp comparison into hip.VSTIP whatever henvcfg.STCE. */
    SKIP_ON_QEMU72 .Lskip_vstip_revert
    csrw    CSR_VSTIMECMP, zero         /* <= time + htimedelta */
    WAIT_IP 74, CSR_HIP, MIP_VSTIP, MIP_VSTIP
    STCE_OFF CSR_HENVCFG
    WAIT_IP 75, CSR_HIP, MIP_VSTIP, 0
    li      t0, -1
    csrw    CSR_VSTIMECMP, t0
    STCE_ON CSR_HENVCFG
.Lskip_vstip_revert:
    li      t0, -1
    csrw    CSR_VSTIMECMP, t0
    WAIT_IP 76, CSR_HIP, MIP_VSTIP, 0

    /* ---- 80-92: stimecmp from VS-mode is vstimecmp; enables in menvcfg, henvcfg, mcounteren,
       hcounteren (hypervisor "henvcfg", "hcounteren", "virtual-instruction exception") ---- */
    li      t0, COUNTEREN_TM
    csrw    mcounteren, t0
    csrw    CSR_HCOUNTEREN, t0
    STCE_ON CSR_MENVCFG
    STCE_ON CSR_HENVCFG
    li      s0, 0x7777666655554444      /* stimecmp */
    csrw    CSR_STIMECMP, s0
    li      s1, 0x3333222211110000      /* vstimecmp */
    csrw    CSR_VSTIMECMP, s1
    EXPECT_OK_IN_VS 80, csrr a0, CSR_STIMECMP
    EXPECT_REG 80, a0, s1               /* VS reads vstimecmp */
    li      s2, 0x4444999988887777
    EXPECT_OK_IN_VS 81, csrw CSR_STIMECMP, s2
    csrr    a0, CSR_VSTIMECMP
    EXPECT_REG 81, a0, s2               /* VS wrote vstimecmp ... */
    csrr    a0, CSR_STIMECMP
    EXPECT_REG 82, a0, s0               /* ... and not stimecmp */
    STCE_OFF CSR_HENVCFG                /* henvcfg.STCE = 0: virtual instruction */
    EXPECT_TRAP_IN_VS 83, CAUSE_VIRTUAL_INSTRUCTION, csrr a0, CSR_STIMECMP
    EXPECT_TRAP_IN_VS 84, CAUSE_VIRTUAL_INSTRUCTION, csrw CSR_STIMECMP, zero
    STCE_ON CSR_HENVCFG                 /* hcounteren.TM = 0 (mcounteren.TM = 1): virtual instr. */
    csrw    CSR_HCOUNTEREN, zero
    EXPECT_TRAP_IN_VS 85, CAUSE_VIRTUAL_INSTRUCTION, csrr a0, CSR_STIMECMP
    li      t0, COUNTEREN_TM            /* mcounteren.TM = 0: illegal, whatever hcounteren */
    csrw    CSR_HCOUNTEREN, t0
    csrw    mcounteren, zero
    EXPECT_TRAP_IN_VS 86, CAUSE_ILLEGAL, csrr a0, CSR_STIMECMP
    csrw    CSR_HCOUNTEREN, zero
    EXPECT_TRAP_IN_VS 87, CAUSE_ILLEGAL, csrr a0, CSR_STIMECMP
    li      t0, COUNTEREN_TM            /* menvcfg.STCE = 0: illegal (not HS-qualified either) */
    csrw    mcounteren, t0
    csrw    CSR_HCOUNTEREN, t0
    STCE_OFF CSR_MENVCFG
    EXPECT_TRAP_IN_VS 88, CAUSE_ILLEGAL, csrr a0, CSR_STIMECMP
    STCE_ON CSR_MENVCFG
    STCE_ON CSR_HENVCFG
    csrr    a0, CSR_VSTIMECMP
    EXPECT_REG 89, a0, s2               /* no trapping access changed it */
    /* vstimecmp by its own number: a VS CSR, so from VS a virtual instruction; from HS-mode
       permitted by mcounteren.TM (mcounteren), illegal without it */
    EXPECT_TRAP_IN_VS 90, CAUSE_VIRTUAL_INSTRUCTION, csrr a0, CSR_VSTIMECMP
    EXPECT_OK_IN PRV_S, 91, csrr a0, CSR_VSTIMECMP
    EXPECT_REG 91, a0, s2
    EXPECT_OK_IN PRV_S, 91, csrr a0, CSR_STIMECMP
    EXPECT_REG 91, a0, s0               /* HS-mode's stimecmp is its own */
    csrw    mcounteren, zero
    EXPECT_TRAP_IN PRV_S, 92, CAUSE_ILLEGAL, csrr a0, CSR_VSTIMECMP
    li      t0, -1
    csrw    CSR_VSTIMECMP, t0
    csrw    CSR_STIMECMP, t0
    csrw    CSR_HCOUNTEREN, zero
.Lno_h:
    csrw    mcounteren, zero
TEST_PASS

/* mtvec while in VS-mode: keeps mstatus as the trap left it (vs_trap_mstatus, for LEFT_VS), clears
 * MPV and goes on to the framework's handler, whose MRET to M-mode then leaves V = 0 however the
 * hart reads MPV with MPP = M. (The spec keeps V = 0 on an MRET to M whatever MPV, but QEMU 7.2
 * sets V = MPV even then, and would go on in M-mode with V = 1, where stimecmp is vstimecmp.)
 * tp and t6 are the framework's scratch registers, free in the code under test. */
    .balign 4
vs_trap_entry:
    csrr    tp, mstatus
    la      t6, vs_trap_mstatus
    sd      tp, 0(t6)
    li      t6, MSTATUS_MPV
    csrc    mstatus, t6
    j       m_trap_handler

    .data
    .balign 8
vs_trap_mstatus: .dword 0
    .text
TEST_END
