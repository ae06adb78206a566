# Two harts at work, for a debugger's threads (scripts/check-gdb): hart 0 counts in a0 to 100 000
# in `count0`, then passes through the syscon test finisher; hart 1 counts in a1 in `count1` for as
# long as the machine runs. `vmlab boot two_harts.elf --harts 2` (one hart: hart 0 alone finishes).
    .section .text.init
    .globl _start
_start:
    csrr    t0, mhartid
    bnez    t0, count1
    li      t1, 100000
count0:
    addi    a0, a0, 1
    bne     a0, t1, count0
    li      t0, 0x100000        # the syscon test finisher: 0x5555 = pass
    li      t1, 0x5555
    sw      t1, 0(t0)
1:  j       1b
count1:
    addi    a1, a1, 1
    j       count1
