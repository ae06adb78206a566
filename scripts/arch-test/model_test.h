/* vmlab's target definitions for the RISC-V architectural tests (riscv-non-isa/riscv-arch-test),
   used by scripts/check-arch-tests. The tests leave their results in a signature region between
   begin_signature and end_signature; this model prints that region on the console of any
   QEMU-virt-shaped machine, so that vmlab and QEMU can be compared word for word:
   RVMODEL_HALT writes each 32-bit word as eight hex digits and a newline to the 16550's transmit
   register (0x10000000; both machines accept a byte at any time), then powers off through the
   sifive test finisher (0x100000, 0x5555 = pass). */
#ifndef VMLAB_ARCH_TEST_MODEL_H
#define VMLAB_ARCH_TEST_MODEL_H

#define RVMODEL_BOOT

/* arch_test.h's RVTEST_GOTO_LOWER_MODE compares its mode argument with `Vmode`, a name it never
   defines (its modes are Umode, Smode, VUmode, VSmode...); LLVM's assembler refuses the undefined
   name in `.if`. The branch is the one for entering VS-mode. */
#define Vmode VSmode

#define RVMODEL_HALT                                                              \
    la a0, begin_signature; la a1, end_signature; li a2, 0x10000000;              \
  2: bgeu a0, a1, 5f; lwu a3, 0(a0); li a4, 28;                                  \
  3: srl a5, a3, a4; andi a5, a5, 15; li a6, 10; blt a5, a6, 4f;                \
     addi a5, a5, 39;  /* 10..15 -> 'a'..'f' after the +48 below */              \
  4: addi a5, a5, 48; sb a5, 0(a2); addi a4, a4, -4; bgez a4, 3b;               \
     li a5, 10; sb a5, 0(a2); addi a0, a0, 4; j 2b;                             \
  5: li a0, 0x100000; li a1, 0x5555; sw a1, 0(a0);                              \
  6: j 6b;

#define RVMODEL_DATA_BEGIN .align 4; .global begin_signature; begin_signature:
#define RVMODEL_DATA_END   .align 4; .global end_signature; end_signature:

/* No console messages from the tests themselves: the console carries the signature only. */
#define RVMODEL_IO_INIT
#define RVMODEL_IO_WRITE_STR(_R, _STR)
#define RVMODEL_IO_CHECK()
#define RVMODEL_IO_ASSERT_GPR_EQ(_S, _R, _I)
#define RVMODEL_IO_ASSERT_SFPR_EQ(_F, _R, _I)
#define RVMODEL_IO_ASSERT_DFPR_EQ(_D, _R, _I)

/* Machine software interrupt: the CLINT's msip for hart 0. The timer and external interrupts
   are not raised by the tests this script selects. */
#define RVMODEL_SET_MSW_INT   li t1, 1; li t2, 0x2000000; sw t1, 0(t2);
#define RVMODEL_CLEAR_MSW_INT li t2, 0x2000000; sw x0, 0(t2);
#define RVMODEL_CLEAR_MTIMER_INT
#define RVMODEL_CLEAR_MEXT_INT

#endif
