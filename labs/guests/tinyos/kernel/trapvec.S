# Trap entry and exit. Two vectors, because the two cases need different things:
#
#   uservec    a trap from U-mode. stvec points here while a program runs. sscratch holds the
#              address of the process's struct trapframe (kernel memory, mapped in every address
#              space), so one csrrw frees a register to save the other 31 with. Then it switches
#              to the process's kernel stack and calls usertrap(tf) in trap.c.
#   kernelvec  a trap from S-mode. The kernel enables interrupts only while the scheduler idles,
#              so this handles device and timer interrupts there (and reports kernel bugs). It
#              saves the caller-saved registers on the current stack, calls kerneltrap() and
#              returns with sret to the interrupted instruction.
#
# userret(tf) is the way back to U-mode: trap.c's usertrapret() has set sstatus and stvec.
# Offsets match struct trapframe in kernel.h: x[n] at 8*n, epc at 256, kernel_sp at 264.

    .text
    .balign 4
    .globl uservec
uservec:
    csrrw   a0, sscratch, a0        # a0 = trapframe, sscratch = the user's a0
    sd      x1, 8(a0)
    sd      x2, 16(a0)
    sd      x3, 24(a0)
    sd      x4, 32(a0)
    sd      x5, 40(a0)
    sd      x6, 48(a0)
    sd      x7, 56(a0)
    sd      x8, 64(a0)
    sd      x9, 72(a0)
    sd      x11, 88(a0)
    sd      x12, 96(a0)
    sd      x13, 104(a0)
    sd      x14, 112(a0)
    sd      x15, 120(a0)
    sd      x16, 128(a0)
    sd      x17, 136(a0)
    sd      x18, 144(a0)
    sd      x19, 152(a0)
    sd      x20, 160(a0)
    sd      x21, 168(a0)
    sd      x22, 176(a0)
    sd      x23, 184(a0)
    sd      x24, 192(a0)
    sd      x25, 200(a0)
    sd      x26, 208(a0)
    sd      x27, 216(a0)
    sd      x28, 224(a0)
    sd      x29, 232(a0)
    sd      x30, 240(a0)
    sd      x31, 248(a0)
    csrr    t0, sscratch
    sd      t0, 80(a0)              # the user's a0
    csrr    t0, sepc
    sd      t0, 256(a0)
    ld      sp, 264(a0)             # this process's kernel stack
    mv      s0, zero                # a fresh frame chain for debuggers
    call    usertrap                # usertrap(tf) does not return here: it ends in usertrapret

    .globl userret
userret:                            # userret(tf)
    ld      t0, 256(a0)
    csrw    sepc, t0
    csrw    sscratch, a0            # for the next uservec
    ld      x1, 8(a0)
    ld      x2, 16(a0)
    ld      x3, 24(a0)
    ld      x4, 32(a0)
    ld      x5, 40(a0)
    ld      x6, 48(a0)
    ld      x7, 56(a0)
    ld      x8, 64(a0)
    ld      x9, 72(a0)
    ld      x11, 88(a0)
    ld      x12, 96(a0)
    ld      x13, 104(a0)
    ld      x14, 112(a0)
    ld      x15, 120(a0)
    ld      x16, 128(a0)
    ld      x17, 136(a0)
    ld      x18, 144(a0)
    ld      x19, 152(a0)
    ld      x20, 160(a0)
    ld      x21, 168(a0)
    ld      x22, 176(a0)
    ld      x23, 184(a0)
    ld      x24, 192(a0)
    ld      x25, 200(a0)
    ld      x26, 208(a0)
    ld      x27, 216(a0)
    ld      x28, 224(a0)
    ld      x29, 232(a0)
    ld      x30, 240(a0)
    ld      x31, 248(a0)
    ld      a0, 80(a0)              # last: a0 held the trapframe address until now
    sret

    .balign 4
    .globl kernelvec
kernelvec:
    addi    sp, sp, -144
    sd      ra, 0(sp)
    sd      t0, 8(sp)
    sd      t1, 16(sp)
    sd      t2, 24(sp)
    sd      t3, 32(sp)
    sd      t4, 40(sp)
    sd      t5, 48(sp)
    sd      t6, 56(sp)
    sd      a0, 64(sp)
    sd      a1, 72(sp)
    sd      a2, 80(sp)
    sd      a3, 88(sp)
    sd      a4, 96(sp)
    sd      a5, 104(sp)
    sd      a6, 112(sp)
    sd      a7, 120(sp)
    call    kerneltrap
    ld      ra, 0(sp)
    ld      t0, 8(sp)
    ld      t1, 16(sp)
    ld      t2, 24(sp)
    ld      t3, 32(sp)
    ld      t4, 40(sp)
    ld      t5, 48(sp)
    ld      t6, 56(sp)
    ld      a0, 64(sp)
    ld      a1, 72(sp)
    ld      a2, 80(sp)
    ld      a3, 88(sp)
    ld      a4, 96(sp)
    ld      a5, 104(sp)
    ld      a6, 112(sp)
    ld      a7, 120(sp)
    addi    sp, sp, 144
    sret
