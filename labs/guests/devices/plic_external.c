/* Proves the PLIC: two sources reach hart 0's M-mode context as machine external interrupts and are
   claimed and completed — the UART's THR-empty interrupt (source 10) and a goldfish RTC alarm
   (source 11) — and the threshold masks a source of equal priority. Exit 0 when all held. */
#include "devices.h"

#define MIP_MEIP (1UL << 11)
static volatile unsigned uart_irqs, rtc_irqs, spurious;

__attribute__((interrupt("machine"), aligned(4))) static void trap(void) {
    uint64_t cause;
    __asm__ volatile("csrr %0, mcause" : "=r"(cause));
    if (cause != ((1UL << 63) | 11)) { uart_puts("unexpected trap\n"); syscon_exit(99); }
    uint32_t src = mmio_read32(PLIC_CLAIM(0));
    if (src == UART_IRQ) {
        uart_irqs++;
        (void)mmio_read8(UART0_BASE + 2);          /* IIR read acknowledges THR empty */
        mmio_write8(UART0_BASE + 1, 0);            /* and stop asking */
    } else if (src == RTC_IRQ) {
        rtc_irqs++;
        mmio_write32(RTC_BASE + 0x1C, 1);          /* CLEAR_INTERRUPT */
    } else {
        spurious++;
    }
    if (src) mmio_write32(PLIC_CLAIM(0), src);     /* complete */
}

int main(void) {
    int failures = 0;
    uart_puts("plic_external: PLIC checks\n");
    enable_fpu();
    __asm__ volatile("csrw mtvec, %0" :: "r"((uintptr_t)trap));
    mmio_write32(PLIC_PRIORITY(UART_IRQ), 1);
    mmio_write32(PLIC_PRIORITY(RTC_IRQ), 2);
    mmio_write32(PLIC_ENABLE(0), (1u << UART_IRQ) | (1u << RTC_IRQ));
    check(mmio_read32(PLIC_PRIORITY(RTC_IRQ)) == 2, "priority register", &failures);
    check(mmio_read32(PLIC_ENABLE(0)) == ((1u << UART_IRQ) | (1u << RTC_IRQ)), "enable register", &failures);
    __asm__ volatile("csrs mie, %0" :: "r"(MIP_MEIP));
    __asm__ volatile("csrsi mstatus, 8");

    /* Threshold 1 masks the UART (priority 1): the request stays pending, no interrupt. */
    mmio_write32(PLIC_THRESHOLD(0), 1);
    mmio_write8(UART0_BASE + 1, 0x02);             /* UART: THR empty interrupt */
    for (volatile int i = 0; i < 2000; i++) {}
    check(uart_irqs == 0, "threshold masks an equal priority", &failures);
    check((mmio_read32(PLIC_PENDING) >> UART_IRQ) & 1, "source 10 pending", &failures);
    mmio_write32(PLIC_THRESHOLD(0), 0);
    for (volatile int i = 0; i < 2000 && uart_irqs == 0; i++) {}
    check(uart_irqs == 1, "UART interrupt via PLIC source 10", &failures);

    /* RTC alarm 1 ms from now. */
    uint32_t lo = mmio_read32(RTC_BASE + 0x00), hi = mmio_read32(RTC_BASE + 0x04);
    uint64_t alarm = (((uint64_t)hi << 32) | lo) + 1000000;
    mmio_write32(RTC_BASE + 0x10, 1);              /* IRQ_ENABLED */
    mmio_write32(RTC_BASE + 0x0C, (uint32_t)(alarm >> 32));
    mmio_write32(RTC_BASE + 0x08, (uint32_t)alarm);
    uint64_t start = mtime();
    while (rtc_irqs == 0 && mtime() - start < TIMEBASE_HZ) __asm__ volatile("wfi");
    check(rtc_irqs == 1, "RTC alarm via PLIC source 11", &failures);
    check(mtime() - start >= TIMEBASE_HZ / 1000 - 10, "alarm not early", &failures);
    check(spurious == 0, "no spurious claims", &failures);
    __asm__ volatile("csrci mstatus, 8");
    uart_puts(failures ? "plic_external: FAILED\n" : "plic_external: PASS\n");
    return failures;
}
