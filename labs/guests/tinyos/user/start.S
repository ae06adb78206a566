# Where every user program begins: exec has put argc in a0 and argv in a1, and the stack pointer
# just below the arguments. main's return value becomes the exit status.
    .section .text.start
    .globl _start
_start:
    call    main
    call    exit
1:  j       1b
