/* Helpers for vmlab's bare-metal guest programs (QEMU-virt addresses). */
#ifndef VMLAB_BAREMETAL_H
#define VMLAB_BAREMETAL_H
#include <stdint.h>

#define UART0_BASE    0x10000000UL   /* NS16550A */
#define SYSCON_BASE   0x00100000UL   /* sifive,test1 finisher */
#define SYSCON_PASS   0x5555u
#define SYSCON_FAIL   0x3333u        /* (code << 16) | FAIL */
#define SYSCON_RESET  0x7777u

static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline uint8_t mmio_read8(uintptr_t a) { return *(volatile uint8_t *)a; }

/* Transmit one byte once the 16550's transmit holding register is empty (LSR bit 5). */
static inline void uart_putc(char c) {
    while ((mmio_read8(UART0_BASE + 5) & 0x20) == 0) {}
    mmio_write8(UART0_BASE, (uint8_t)c);
}
static inline void uart_puts(const char *s) { while (*s) uart_putc(*s++); }

/* Ends the run: code 0 passes, anything else fails with that code. */
__attribute__((noreturn)) static inline void syscon_exit(uint32_t code) {
    mmio_write32(SYSCON_BASE, code == 0 ? SYSCON_PASS : ((code << 16) | SYSCON_FAIL));
    for (;;) __asm__ volatile("wfi");
}
#endif
