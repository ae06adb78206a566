/* Proves the 16550 UART: register reset values, the scratch register, divisor latch, FIFO mode,
   echoes one line of real input (terminated by '\n' or '\r') back in upper case, then loopback mode.
   Passes (exit 0) when every check held and a non-empty line arrived.
   Run: printf 'hello\n' | qemu-system-riscv64 -M virt -nographic -bios none -kernel uart_echo.elf */
#include "devices.h"

#define RBR 0
#define THR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

static uint8_t rd(int r) { return mmio_read8(UART0_BASE + r); }
static void wr(int r, uint8_t v) { mmio_write8(UART0_BASE + r, v); }

int main(void) {
    int failures = 0;
    uart_puts("uart_echo: 16550 checks\n");
    check((rd(LSR) & 0x60) == 0x60, "LSR: transmitter empty", &failures);
    wr(SCR, 0xA5);
    check(rd(SCR) == 0xA5, "scratch register holds a value", &failures);
    wr(LCR, 0x83);                        /* DLAB: offsets 0/1 are the divisor (no printing now) */
    wr(DLL, 0x01); wr(DLM, 0x00);
    int divisor_ok = rd(DLL) == 0x01 && rd(DLM) == 0x00;
    wr(LCR, 0x03);                        /* 8N1 */
    check(divisor_ok, "divisor latch", &failures);
    check(rd(LCR) == 0x03, "LCR 8N1", &failures);
    wr(FCR, 0x07);                        /* FIFOs on and cleared */
    check((rd(IIR) & 0xC0) == 0xC0, "IIR reports FIFOs enabled", &failures);

    uart_puts("type a line: ");
    char line[80];
    int n = 0;
    uint64_t start = mtime();
    while (n < (int)sizeof line - 1) {
        if (!(rd(LSR) & 1)) {
            if (mtime() - start > 5 * TIMEBASE_HZ) break;   /* 5 s of guest time without input */
            continue;
        }
        char c = (char)rd(RBR);
        if (c == '\n' || c == '\r') break;
        line[n++] = c;
    }
    line[n] = 0;
    uart_puts("\necho: ");
    for (int i = 0; i < n; i++) uart_putc(line[i] >= 'a' && line[i] <= 'z' ? (char)(line[i] - 32) : line[i]);
    uart_putc('\n');
    check(n > 0, "received a line of input", &failures);
    /* Loopback (after the line, so no typed input is lost): what we transmit comes back on the
       receiver and never reaches the terminal; anything typed after the line is drained first. */
    while (rd(LSR) & 1) (void)rd(RBR);
    wr(MCR, 0x10 | 0x03);                 /* loop, DTR, RTS (no printing while looped) */
    int modem_ok = (rd(MSR) & 0x30) == 0x30;
    const char *probe = "LOOP";
    for (const char *p = probe; *p; p++) wr(THR, (uint8_t)*p);
    int same = 1;
    for (const char *p = probe; *p; p++) {
        uint64_t t0 = mtime();
        while (!(rd(LSR) & 1)) if (mtime() - t0 > TIMEBASE_HZ / 10) break;
        if (!(rd(LSR) & 1) || rd(RBR) != (uint8_t)*p) same = 0;
    }
    wr(MCR, 0x03);
    check(modem_ok, "loopback: DTR/RTS seen as DSR/CTS", &failures);
    check(same, "loopback returns the transmitted bytes", &failures);

    uart_puts(failures ? "uart_echo: FAILED\n" : "uart_echo: PASS\n");
    return failures;
}
