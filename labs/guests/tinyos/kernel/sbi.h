/* Calls into the SBI firmware (RISC-V Supervisor Binary Interface, version 2.0): OpenSBI on QEMU,
   or the SBI that vmlab implements. An SBI call is an ecall from S-mode with the extension id in
   a7 and the function id in a6 (SBI spec chapter 3). */
#ifndef TINYOS_SBI_H
#define TINYOS_SBI_H
#include <stdint.h>

struct sbiret { long error; long value; };

#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494D45   /* "TIME" */
#define SBI_EXT_SRST 0x53525354   /* "SRST" */
#define SBI_EXT_LEGACY_SET_TIMER 0x00

struct sbiret sbi_call(long ext, long fid, long a0, long a1, long a2);
int sbi_probe(long ext);          /* is this extension implemented? (base extension, fid 3) */
void sbi_set_timer(uint64_t when);
void sbi_system_reset(uint32_t type, uint32_t reason); /* returns only if the reset failed */

#endif
