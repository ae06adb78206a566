/* Prints what a guest sees in the platform devices' registers — reset values, write masks, access
   widths that fault — so the output under QEMU `virt` and under vmlab's machine can be diffed line by
   line. Time-dependent values are left out. Always exits 0; the comparison is the test.
   Run: qemu-system-riscv64 -M virt -nographic -bios none -kernel regdump.elf \
          -global virtio-mmio.force-legacy=false -drive file=X.img,if=none,format=raw,id=d0 \
          -device virtio-blk-device,drive=d0 */
#include "devices.h"

/* An access that faults is caught by the trap handler, which records it and skips the instruction. */
static volatile int faulted;
__attribute__((interrupt("machine"), aligned(4))) static void trap(void) {
    uint64_t epc;
    __asm__ volatile("csrr %0, mepc" : "=r"(epc));
    uint16_t insn = *(volatile uint16_t *)epc;
    faulted = 1;
    epc += (insn & 3) == 3 ? 4 : 2;
    __asm__ volatile("csrw mepc, %0" :: "r"(epc));
}

static uint64_t rd(uintptr_t a, int size) {
    faulted = 0;
    switch (size) {
    case 1: return *(volatile uint8_t *)a;
    case 2: return *(volatile uint16_t *)a;
    case 4: return *(volatile uint32_t *)a;
    default: return *(volatile uint64_t *)a;
    }
}
static void wr(uintptr_t a, int size, uint64_t v) {
    faulted = 0;
    switch (size) {
    case 1: *(volatile uint8_t *)a = (uint8_t)v; break;
    case 2: *(volatile uint16_t *)a = (uint16_t)v; break;
    case 4: *(volatile uint32_t *)a = (uint32_t)v; break;
    default: *(volatile uint64_t *)a = v; break;
    }
}

static void show(const char *what, uintptr_t a, int size) {
    uint64_t v = rd(a, size);
    uart_puts(what); uart_puts(" = ");
    if (faulted) uart_puts("FAULT"); else { uart_puts("0x"); put_hex(v, size * 2); }
    uart_putc('\n');
}
static void poke(const char *what, uintptr_t a, int size, uint64_t v) {
    wr(a, size, v);
    if (faulted) { uart_puts(what); uart_puts(" <- FAULT\n"); }
}

int main(void) {
    enable_fpu();
    __asm__ volatile("csrw mtvec, %0" :: "r"((uintptr_t)trap));
    uintptr_t u = UART0_BASE;
    uart_puts("# uart\n");
    show("uart.ier", u + 1, 1); show("uart.iir", u + 2, 1); show("uart.lcr", u + 3, 1);
    show("uart.mcr", u + 4, 1); show("uart.lsr", u + 5, 1); show("uart.msr", u + 6, 1);
    show("uart.scr", u + 7, 1);
    show("uart.off8", u + 8, 1);
    show("uart.lsr/4", u + 4, 4);
    poke("uart.ier", u + 1, 1, 0xFF); show("uart.ier after 0xff", u + 1, 1);
    show("uart.iir with ier=0xf", u + 2, 1);
    show("uart.iir again", u + 2, 1);
    poke("uart.ier", u + 1, 1, 0);
    poke("uart.fcr", u + 2, 1, 0xC7); show("uart.iir fifo", u + 2, 1);
    poke("uart.fcr", u + 2, 1, 0x00); show("uart.iir nofifo", u + 2, 1);
    /* Loopback: print nothing while it is on. */
    uint8_t msr0, msr1, msr2, msr3;
    wr(u + 4, 1, 0x10); msr0 = (uint8_t)rd(u + 6, 1);
    wr(u + 4, 1, 0x1F); msr1 = (uint8_t)rd(u + 6, 1); msr2 = (uint8_t)rd(u + 6, 1);
    wr(u + 4, 1, 0x10); msr3 = (uint8_t)rd(u + 6, 1);
    wr(u + 4, 1, 0x00);
    /* Status bits only: in loopback QEMU reports no delta bits, a real 16550 (and vmlab) does. */
    uart_puts("uart.msr loop0 = 0x"); put_hex(msr0 & 0xF0, 2); uart_putc('\n');
    uart_puts("uart.msr loop1f = 0x"); put_hex(msr1 & 0xF0, 2); uart_putc('\n');
    uart_puts("uart.msr loop1f again = 0x"); put_hex(msr2 & 0xF0, 2); uart_putc('\n');
    uart_puts("uart.msr loop0 after = 0x"); put_hex(msr3 & 0xF0, 2); uart_putc('\n');
    show("uart.msr normal", u + 6, 1);
    show("uart.msr normal again", u + 6, 1);
    show("uart.mcr", u + 4, 1);

    uart_puts("# plic\n");
    show("plic.priority1", PLIC_PRIORITY(1), 4);
    poke("plic.priority1", PLIC_PRIORITY(1), 4, 0xFFFFFFFF); show("plic.priority1 after ~0", PLIC_PRIORITY(1), 4);
    poke("plic.priority1", PLIC_PRIORITY(1), 4, 9); show("plic.priority1 after 9", PLIC_PRIORITY(1), 4);
    poke("plic.priority1", PLIC_PRIORITY(1), 4, 5); show("plic.priority1 after 5", PLIC_PRIORITY(1), 4);
    poke("plic.priority0", PLIC_PRIORITY(0), 4, 5); show("plic.priority0 after 5", PLIC_PRIORITY(0), 4);
    poke("plic.priority96", PLIC_PRIORITY(96), 4, 3); show("plic.priority96 after 3", PLIC_PRIORITY(96), 4);
    poke("plic.priority97", PLIC_PRIORITY(97), 4, 3); show("plic.priority97 after 3", PLIC_PRIORITY(97), 4);
    show("plic.pending0 (uart 10 latched)", PLIC_PENDING, 4);
    poke("plic.pending0", PLIC_PENDING, 4, 0xFFFFFFFF); show("plic.pending0 after ~0", PLIC_PENDING, 4);
    /* Words 0-2 only: QEMU's enable bitmap stops at source 95 although its device tree says ndev = 96;
       vmlab lets source 96 be enabled. */
    for (int w = 0; w < 3; w++) {
        poke("plic.enable", PLIC_ENABLE(0) + 4 * w, 4, 0xFFFFFFFF);
        uart_puts("plic.enable0 word "); put_dec((uint64_t)w); show(" after ~0", PLIC_ENABLE(0) + 4 * w, 4);
        poke("plic.enable", PLIC_ENABLE(0) + 4 * w, 4, 0);
    }
    show("plic.threshold0", PLIC_THRESHOLD(0), 4);
    poke("plic.threshold0", PLIC_THRESHOLD(0), 4, 9); show("plic.threshold0 after 9", PLIC_THRESHOLD(0), 4);
    poke("plic.threshold0", PLIC_THRESHOLD(0), 4, 7); show("plic.threshold0 after 7", PLIC_THRESHOLD(0), 4);
    poke("plic.threshold0", PLIC_THRESHOLD(0), 4, 0);
    show("plic.claim0", PLIC_CLAIM(0), 4);
    show("plic.threshold1", PLIC_THRESHOLD(1), 4);
    show("plic.priority1/1", PLIC_PRIORITY(1), 1);
    show("plic.priority1/8", PLIC_PRIORITY(1), 8);
    show("plic.threshold2 (no hart 1)", PLIC_THRESHOLD(2), 4);

    uart_puts("# clint\n");
    show("clint.msip0", CLINT_MSIP(0), 4);
    poke("clint.msip0", CLINT_MSIP(0), 4, 0xFFFFFFFE); show("clint.msip0 after ~1", CLINT_MSIP(0), 4);
    show("clint.msip0/1", CLINT_MSIP(0), 1);
    show("clint.msip0/8", CLINT_MSIP(0), 8);
    show("clint.msip1 (no hart 1)", CLINT_MSIP(1), 4);
    /* mtimecmp's reset value is left out: the spec leaves it open; QEMU reads 0 (without raising
       MTIP), vmlab resets it to all-ones so no timer interrupt is pending before software sets it. */
    poke("clint.mtimecmp0", CLINT_MTIMECMP(0), 8, 0x123456789ULL); show("clint.mtimecmp0 after", CLINT_MTIMECMP(0), 8);
    poke("clint.mtimecmp0 hi", CLINT_MTIMECMP(0) + 4, 4, 0xAB); show("clint.mtimecmp0 after hi", CLINT_MTIMECMP(0), 8);
    show("clint.mtimecmp0/2", CLINT_MTIMECMP(0), 2);
    show("clint.mtimecmp1 (no hart 1)", CLINT_MTIMECMP(1), 8);
    show("clint.off 0x8000", CLINT_BASE + 0x8000, 4);
    uint64_t t = rd(CLINT_MTIME, 8);
    uart_puts(t ? "clint.mtime nonzero\n" : "clint.mtime zero\n");
    show("clint.mtime/2", CLINT_MTIME, 2);
    mmio_write64(CLINT_MTIMECMP(0), ~0ULL);

    uart_puts("# rtc\n");
    show("rtc.irq_enabled", RTC_BASE + 0x10, 4);
    show("rtc.alarm_status", RTC_BASE + 0x18, 4);
    show("rtc.alarm_low", RTC_BASE + 0x08, 4);
    show("rtc.alarm_high", RTC_BASE + 0x0C, 4);
    rd(RTC_BASE + 0x00, 8);
    uart_puts(faulted ? "rtc.time/8 FAULT\n" : "rtc.time/8 readable\n");
    show("rtc.time_low/1", RTC_BASE + 0x00, 1);
    show("rtc.off 0x20", RTC_BASE + 0x20, 4);

    uart_puts("# test finisher\n");
    show("test.reg", SYSCON_BASE, 4);
    show("test.reg/1", SYSCON_BASE, 1);
    show("test.reg/8", SYSCON_BASE, 8);
    poke("test.reg (ignored value)", SYSCON_BASE, 4, 0x1234);
    poke("test.reg/1", SYSCON_BASE, 1, 0x12);

    uart_puts("# virtio\n");
    /* QEMU fills virtio-mmio slots from the top: the first -device lands in slot 7. */
    for (int s = 0; s < VIRTIO_SLOTS; s += VIRTIO_SLOTS - 1) {
        uintptr_t b = VIRTIO_BASE(s);
        uart_puts("slot "); put_dec((uint64_t)s); uart_putc('\n');
        show(" magic", b + 0x000, 4); show(" version", b + 0x004, 4); show(" device", b + 0x008, 4);
        show(" vendor", b + 0x00C, 4);
        show(" magic/1", b + 0x000, 1);
        show(" magic/8", b + 0x000, 8);
        show(" status", b + 0x070, 4);
        show(" queue_num_max", b + 0x034, 4);
        show(" queue_ready", b + 0x044, 4);
        show(" int_status", b + 0x060, 4);
        show(" config_gen", b + 0x0FC, 4);
        show(" shm_len_low", b + 0x0B0, 4);
        show(" legacy guest_page_size", b + 0x028, 4);
        show(" legacy queue_pfn", b + 0x040, 4);
        wr(b + 0x070, 4, 1); show(" status after ack", b + 0x070, 4);
        wr(b + 0x070, 4, 3); wr(b + 0x024, 4, 1); wr(b + 0x020, 4, 1); wr(b + 0x070, 4, 11);
        show(" status after features_ok", b + 0x070, 4);
        wr(b + 0x030, 4, 0);
        wr(b + 0x038, 4, 6); show(" queue_num after 6", b + 0x038, 4);
        wr(b + 0x038, 4, 8); show(" queue_num after 8", b + 0x038, 4);
        wr(b + 0x030, 4, 5); show(" queue_num_max of queue 5", b + 0x034, 4);
        wr(b + 0x070, 4, 0); show(" status after reset", b + 0x070, 4);
        show(" config0", b + 0x100, 4);
        show(" config0/1", b + 0x100, 1);
        show(" config0/8", b + 0x100, 8);
    }
    uart_puts("# done\n");
    return 0;
}
