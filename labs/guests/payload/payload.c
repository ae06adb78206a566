/* vmlab's S-mode boot payload: proves a firmware hand-over. It prints through each console path a
   firmware offers — the legacy SBI console_putchar (EID 0x01), the SBI debug console (DBCN), and the
   NS16550A UART directly — checks the device tree it was handed, reports the SBI it runs on, and
   powers the machine off through SBI System Reset (SRST). References: RISC-V SBI v2.0 chapters 3
   (binary encoding), 4 (base), 5 (legacy), 10 (SRST), 12 (DBCN); DTSpec v0.4 5.2 (FDT header). */
#include <stdint.h>
#include "baremetal.h"

#define SBI_EXT_LEGACY_PUTCHAR 0x01L
#define SBI_EXT_BASE 0x10L
#define SBI_EXT_SRST 0x53525354L
#define SBI_EXT_DBCN 0x4442434EL

struct sbiret {
    long error;
    long value;
};

static struct sbiret sbi_call(long eid, long fid, long arg0, long arg1, long arg2) {
    register long a0 __asm__("a0") = arg0;
    register long a1 __asm__("a1") = arg1;
    register long a2 __asm__("a2") = arg2;
    register long a6 __asm__("a6") = fid;
    register long a7 __asm__("a7") = eid;
    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a6), "r"(a7) : "memory");
    struct sbiret ret = {a0, a1};
    return ret;
}

static void legacy_puts(const char *s) {
    while (*s) {
        register long a0 __asm__("a0") = *s++;
        register long a7 __asm__("a7") = SBI_EXT_LEGACY_PUTCHAR;
        __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory", "a1");
    }
}

static unsigned long length(const char *s) {
    unsigned long n = 0;
    while (s[n]) n++;
    return n;
}

/* DBCN console_write takes a physical address; with satp = 0 a pointer is one. */
static long dbcn_puts(const char *s) {
    return sbi_call(SBI_EXT_DBCN, 0, (long)length(s), (long)(uintptr_t)s, 0).error;
}

static void uart_hex(uint64_t v) {
    uart_puts("0x");
    for (int shift = 60; shift >= 0; shift -= 4) uart_putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

static void uart_dec(uint64_t v) {
    char digits[21];
    int n = 0;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) uart_putc(digits[--n]);
}

static uint32_t be32(const volatile uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

__attribute__((noreturn)) void payload_main(unsigned long hartid, const volatile uint8_t *dtb) {
    legacy_puts("payload: hello through the legacy SBI console\n");
    if (dbcn_puts("payload: hello through the SBI debug console\n") != 0)
        uart_puts("payload: DBCN is not available\n");
    uart_puts("payload: hello through the UART\n");

    uart_puts("payload: hart ");
    uart_dec(hartid);
    uart_puts(", device tree at ");
    uart_hex((uint64_t)(uintptr_t)dtb);
    if (be32(dtb) == 0xd00dfeed) {
        uart_puts(" (");
        uart_dec(be32(dtb + 4));
        uart_puts(" bytes)\n");
    } else {
        uart_puts(" has no FDT magic\n");
        syscon_exit(3);
    }

    long spec = sbi_call(SBI_EXT_BASE, 0, 0, 0, 0).value;
    long impl = sbi_call(SBI_EXT_BASE, 1, 0, 0, 0).value;
    uart_puts("payload: SBI specification ");
    uart_dec((uint64_t)(spec >> 24) & 0x7f);
    uart_putc('.');
    uart_dec((uint64_t)spec & 0xffffff);
    uart_puts(", implementation ");
    uart_hex((uint64_t)impl);
    uart_puts("\npayload: powering off through SBI SRST\n");

    struct sbiret r = sbi_call(SBI_EXT_SRST, 0, 0 /* shutdown */, 0 /* no reason */, 0);
    uart_puts("payload: SRST returned error ");
    uart_dec((uint64_t)-r.error);
    uart_puts("\n");
    syscon_exit(2);
}
