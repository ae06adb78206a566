/* Proves HTIF (the spike host-target interface) through the ELF's `tohost`/`fromhost` words (64
   bytes apart, as riscv-tests place them): console putchar (device 1, command 1) acknowledged in
   fromhost, then exit(0) (payload 1). It never returns from main: a spike-like board has no test
   finisher. The syscall proxy (write through magic_mem) is left to the unit tests: QEMU 7.2's HTIF
   does not answer it. Run it on QEMU's spike machine, which speaks HTIF:
     qemu-system-riscv64 -M spike -nographic -bios none -kernel htif_console.elf */
#include "devices.h"

volatile uint64_t tohost __attribute__((section(".tohost"), aligned(64)));
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(64)));

static uint64_t htif_call(uint64_t device, uint64_t command, uint64_t payload) {
    fence();
    tohost = device << 56 | command << 48 | payload;
    uint64_t reply;
    while ((reply = fromhost) == 0) {}
    fromhost = 0;
    fence();
    return reply;
}

static void putchar_htif(char c) { (void)htif_call(1, 1, (uint8_t)c); }

int main(void) {
    for (const char *s = "htif: putchar ok\n"; *s; s++) putchar_htif(*s);
    fence();
    tohost = 1;                                        /* exit(0) */
    for (;;) {}
}
