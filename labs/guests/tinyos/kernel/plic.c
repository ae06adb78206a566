/* The platform-level interrupt controller (RISC-V PLIC specification 1.0.0), at QEMU virt's
   address. Each device line (source) has a priority; each hart mode (context) has an enable bit
   per source and a threshold. To take an interrupt the kernel reads the context's claim register
   (which returns the source and marks it in service) and writes the source back when done.
   On virt, hart h's S-mode context is 2h+1 (2h is its M-mode context). */
#include "kernel.h"

#define PLIC_BASE 0x0c000000UL
#define PLIC_PRIORITY(irq) (PLIC_BASE + 4UL * (irq))
#define PLIC_ENABLE(ctx, irq) (PLIC_BASE + 0x2000UL + 0x80UL * (ctx) + 4UL * ((irq) / 32))
#define PLIC_THRESHOLD(ctx) (PLIC_BASE + 0x200000UL + 0x1000UL * (ctx))
#define PLIC_CLAIM(ctx) (PLIC_THRESHOLD(ctx) + 4)

static uint64_t context;

static volatile uint32_t *reg(uint64_t addr) { return (volatile uint32_t *)(uintptr_t)addr; }

void plic_init(void) {
    context = 2 * boot.hartid + 1;
    *reg(PLIC_THRESHOLD(context)) = 0; /* accept every priority above 0 */
}

void plic_enable(int irq) {
    *reg(PLIC_PRIORITY(irq)) = 1;
    *reg(PLIC_ENABLE(context, irq)) |= 1u << (irq % 32);
}

int plic_claim(void) { return (int)*reg(PLIC_CLAIM(context)); }
void plic_complete(int irq) { *reg(PLIC_CLAIM(context)) = (uint32_t)irq; }

void device_interrupt(void) {
    int irq = plic_claim();
    if (irq == 0) return; /* someone else's claim got there first, or a spurious wake-up */
    if (irq == UART_IRQ) uart_interrupt();
    else if (irq == virtio_blk_irq()) virtio_blk_interrupt();
    plic_complete(irq);
}
