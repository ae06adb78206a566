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

/* Typed input. `line` holds the line being edited; finished lines wait in `ready` until read. */
#define CONSOLE_BUF 256
static struct {
    char line[CONSOLE_BUF];
    size_t line_len;
    char ready[CONSOLE_BUF];
    size_t ready_len, ready_pos;
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
        if (in.ready_pos >= in.ready_len) {      /* else the previous line is unread: drop this */
            memcpy(in.ready, in.line, in.line_len);
            in.ready_len = in.line_len;
            in.ready_pos = 0;
            wakeup(&in);
        }
        in.line_len = 0;
    }
}

int console_read(char *dst, size_t n) {
    while (in.ready_pos >= in.ready_len) sleep(&in);
    size_t k = in.ready_len - in.ready_pos;
    if (k > n) k = n;
    memcpy(dst, in.ready + in.ready_pos, k);
    in.ready_pos += k;
    return (int)k;
}
