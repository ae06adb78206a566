/* The console: kernel output (kprintf, panic) and the line discipline for input. Output goes
   out through the arch layer a byte at a time, flushed at the end of each write. Input arrives
   byte by byte from the UART interrupt (uart.c); it is echoed and collected into a line, and
   read() returns whole lines, so a program never sees a half-typed command. */
#include "kernel.h"
#include "arch.h"

void console_write(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') arch_console_putc('\r'); /* terminals want CR LF */
        arch_console_putc(s[i]);
    }
    arch_console_flush();
}

void kprintf(const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    console_write(buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
}

void panic(const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vformat(buf, sizeof buf, fmt, ap);
    va_end(ap);
    kprintf("tinyos: panic: %s\n", buf);
    arch_poweroff(1);
}

/* Typed input. `line` holds the line being edited; finished lines queue in `ready`, a ring of
   bytes (`queued` and `taken` count bytes in and out, as the pipes do), until read. Several short
   lines fit, so lines typed (or piped in) faster than the shell reads them all arrive. The line
   and the queue together never exceed the ring: when they fill it, the UART stops taking input
   (uart.c) until a read makes room, so a finished line always fits and nothing is dropped. */
#define CONSOLE_BUF 256
static struct {
    char line[CONSOLE_BUF];
    size_t line_len;
    char ready[CONSOLE_BUF];
    size_t queued, taken;
} in;

void console_input(char c) {
    if (c == 0x10) { proc_dump(); return; }    /* Ctrl-P: list the processes */
    if (c == '\r') c = '\n';
    if (c == 0x7f || c == '\b') {               /* backspace: erase on screen and in the line */
        if (in.line_len > 0) { in.line_len--; console_write("\b \b", 3); }
        return;
    }
    if (in.line_len >= CONSOLE_BUF - 1 && c != '\n') return; /* full: only Enter is accepted */
    console_write(&c, 1);
    in.line[in.line_len++] = c;
    if (c == '\n') {
        for (size_t i = 0; i < in.line_len; i++) in.ready[in.queued++ % CONSOLE_BUF] = in.line[i];
        in.line_len = 0;
        wakeup(&in);
    }
}

int console_has_room(void) { return in.queued - in.taken + in.line_len < CONSOLE_BUF; }

/* At most one line: a read stops after its newline, even when more lines are queued. */
int console_read(char *dst, size_t n) {
    while (in.taken == in.queued) sleep(&in);
    size_t k = 0;
    while (k < n && in.taken != in.queued) {
        char c = in.ready[in.taken++ % CONSOLE_BUF];
        dst[k++] = c;
        if (c == '\n') break;
    }
    uart_resume_input();
    return (int)k;
}
