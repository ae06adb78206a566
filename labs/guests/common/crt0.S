# Entry for bare-metal C test programs: every hart but 0 parks; hart 0 gets a stack, clears .bss,
# runs main() and reports its return value through the syscon test finisher (0 = pass).
    .section .text.init
    .globl _start
_start:
    csrr    t0, mhartid
    bnez    t0, park
    la      sp, __stack_top
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  call    main
    call    baremetal_exit
park:
    wfi
    j       park
