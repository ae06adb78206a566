# Entry of the S-mode boot payload, per the RISC-V Linux boot protocol that OpenSBI and vmlab's
# built-in SBI follow: a0 = hart id, a1 = physical address of the device tree, satp = 0.
# It gets a stack, clears .bss and calls payload_main(hartid, dtb), which does not return.
    .section .text.init
    .globl _start
_start:
    la      sp, __stack_top
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  call    payload_main
3:  wfi
    j       3b
