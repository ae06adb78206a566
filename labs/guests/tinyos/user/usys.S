# System-call stubs: each puts its number in a7 and traps to the kernel with ecall; the
# arguments are already in a0..a5 and the result comes back in a0 (include/abi.h).
#include "../include/abi.h"

    .text

    .globl exit
exit:
    li      a7, SYS_exit
    ecall
    ret

    .globl fork
fork:
    li      a7, SYS_fork
    ecall
    ret

    .globl wait
wait:
    li      a7, SYS_wait
    ecall
    ret

    .globl exec
exec:
    li      a7, SYS_exec
    ecall
    ret

    .globl getpid
getpid:
    li      a7, SYS_getpid
    ecall
    ret

    .globl write
write:
    li      a7, SYS_write
    ecall
    ret

    .globl read
read:
    li      a7, SYS_read
    ecall
    ret

    .globl sbrk
sbrk:
    li      a7, SYS_sbrk
    ecall
    ret

    .globl yield
yield:
    li      a7, SYS_yield
    ecall
    ret

    .globl pipe
pipe:
    li      a7, SYS_pipe
    ecall
    ret

    .globl close
close:
    li      a7, SYS_close
    ecall
    ret

    .globl map
map:
    li      a7, SYS_map
    ecall
    ret

    .globl unmap
unmap:
    li      a7, SYS_unmap
    ecall
    ret

    .globl blkio
blkio:
    li      a7, SYS_blkio
    ecall
    ret

    .globl kbench
kbench:
    li      a7, SYS_kbench
    ecall
    ret

    .globl halt
halt:
    li      a7, SYS_halt
    ecall
    ret

    .globl disksize
disksize:
    li      a7, SYS_disksize
    ecall
    ret

    .globl timebase
timebase:
    li      a7, SYS_timebase
    ecall
    ret
