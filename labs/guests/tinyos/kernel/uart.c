/* The console UART: an NS16550A at 0x10000000 on QEMU virt, IRQ 10. The firmware has already
   set the baud rate, so the kernel only turns on the receive interrupt. Output is polled
   (arch_console_putc); input arrives by interrupt and goes to the line discipline (console.c),
   which holds it back when its buffer is full (below).
   Registers (offsets, 8 bits each): 0 RBR/THR data, 1 IER interrupt enable, 2 FCR FIFO control,
   4 MCR modem control, 5 LSR line status (bit 0: data ready, bit 5: THR empty). */
#include "kernel.h"

#define UART_BASE 0x10000000UL
#define UART_RBR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_MCR 4
#define UART_LSR 5

static volatile uint8_t *uart_reg(int offset) { return (volatile uint8_t *)(UART_BASE + (uint64_t)offset); }

void uart_init(void) {
    *uart_reg(UART_FCR) = 0x07;  /* FIFOs on and cleared */
    *uart_reg(UART_MCR) |= 0x08; /* OUT2: routes the interrupt out on PC-style boards */
    *uart_reg(UART_IER) = 0x01;  /* interrupt when received data is available */
    plic_enable(UART_IRQ);
}

/* Input is flow-controlled. While the console has no room for another byte, the receive
   interrupt is off and further bytes wait in the UART (and, behind its FIFO, on the line);
   console_read turns it back on once it has taken bytes out (a line, or the part of one a short
   read asks for). Nothing typed is lost. */
static int input_paused;

void uart_interrupt(void) {
    while (console_has_room() && (*uart_reg(UART_LSR) & 0x01)) console_input((char)*uart_reg(UART_RBR));
    if (!console_has_room()) {
        *uart_reg(UART_IER) = 0x00;
        input_paused = 1;
    }
}

void uart_resume_input(void) {
    if (!input_paused) return;
    input_paused = 0;
    *uart_reg(UART_IER) = 0x01;  /* interrupts at once if bytes are waiting */
}

uint8_t uart_read_lsr(void) { return *uart_reg(UART_LSR); }
