/* Proves the CLINT: mtime advances, a machine timer interrupt arrives when mtime reaches mtimecmp
   (five times, 1 ms apart, re-armed by the handler), and a machine software interrupt arrives when
   msip is set and stops when it is cleared. Exit 0 when all held. */
#include "devices.h"

#define MIP_MSIP (1UL << 3)
#define MIP_MTIP (1UL << 7)
#define TICK (TIMEBASE_HZ / 1000)         /* 1 ms */

static volatile unsigned timer_ticks, soft_ticks;
static volatile uint64_t late_by;

__attribute__((interrupt("machine"), aligned(4))) static void trap(void) {
    uint64_t cause;
    __asm__ volatile("csrr %0, mcause" : "=r"(cause));
    if (cause == ((1UL << 63) | 7)) {
        uint64_t now = mtime(), due = mmio_read64(CLINT_MTIMECMP(0));
        if (now - due > late_by) late_by = now - due;
        timer_ticks++;
        mmio_write64(CLINT_MTIMECMP(0), timer_ticks < 5 ? due + TICK : ~0UL);
    } else if (cause == ((1UL << 63) | 3)) {
        soft_ticks++;
        mmio_write32(CLINT_MSIP(0), 0);
    } else {
        uart_puts("unexpected trap\n");
        syscon_exit(99);
    }
}

int main(void) {
    int failures = 0;
    uart_puts("clint_timer: CLINT checks\n");
    uint64_t t0 = mtime();
    for (volatile int i = 0; i < 10000; i++) {}
    check(mtime() > t0, "mtime advances", &failures);

    enable_fpu();
    __asm__ volatile("csrw mtvec, %0" :: "r"((uintptr_t)trap));
    /* The deadlines count from `start` itself: read after arming, a host that paused QEMU in
       between would make on-time interrupts look early. */
    uint64_t start = mtime();
    mmio_write64(CLINT_MTIMECMP(0), start + TICK);
    __asm__ volatile("csrs mie, %0" :: "r"(MIP_MTIP | MIP_MSIP));
    __asm__ volatile("csrsi mstatus, 8");
    while (timer_ticks < 5 && mtime() - start < TIMEBASE_HZ) __asm__ volatile("wfi");
    uint64_t took = mtime() - start;
    check(timer_ticks == 5, "five timer interrupts", &failures);
    check(took >= 5 * TICK, "not before their deadlines", &failures);
    uart_puts("  timer: "); put_dec(timer_ticks); uart_puts(" ticks in "); put_dec(took);
    uart_puts(" mtime ticks\n");

    mmio_write32(CLINT_MSIP(0), 1);
    for (volatile int i = 0; i < 1000 && soft_ticks == 0; i++) {}
    check(soft_ticks == 1, "software interrupt through msip", &failures);
    check(mmio_read32(CLINT_MSIP(0)) == 0, "msip cleared by the handler", &failures);
    __asm__ volatile("csrci mstatus, 8");
    uart_puts(failures ? "clint_timer: FAILED\n" : "clint_timer: PASS\n");
    return failures;
}
