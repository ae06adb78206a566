# The first instructions of tinyos. The SBI firmware (OpenSBI's fw_jump on QEMU, or vmlab's SBI)
# enters here in S-mode at 0x80200000 with the MMU off, a0 = this hart's id and a1 = the
# physical address of the flattened device tree. We give ourselves a stack, clear .bss (C expects
# zeroed globals) and call kmain(hartid, fdt) in main.c, which never returns.
#
# tinyos runs on one hart. Firmware with the HSM extension starts only the boot hart; older
# firmware sends every hart here, so the first to arrive wins an atomic lottery and the others
# park for good.
    .section .text.entry
    .globl _start
_start:
    la      t0, boot_lottery
    li      t1, 1
    amoadd.w t1, t1, (t0)           # t1 = how many harts arrived before this one
    bnez    t1, park
    la      sp, boot_stack_top
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  call    kmain
park:
    wfi
    j       park

    .section .data
    .balign 4
boot_lottery:
    .word   0                       # in .data, not .bss: it must not be cleared after the draw

    .section .bss
    .balign 16
boot_stack:
    .space  16384                   # the boot stack, later the scheduler's
boot_stack_top:
