/* The arch layer on bare hardware: the real instructions and device registers. See arch.h for
   why these operations, and only these, live here. */
#include "arch.h"
#include "sbi.h"

#define UART_THR 0x10000000UL          /* 16550 transmit holding register */
#define UART_LSR 0x10000005UL          /* line status; bit 5: THR empty    */
#define SIFIVE_TEST 0x00100000UL       /* sifive,test0 finisher on virt    */

static unsigned asid_bits;

/* How many ASID bits exist is found by writing all ones to satp.ASID and reading back what
   stuck (Privileged spec 4.1.11). Done while satp.MODE is Bare, so nothing is translated. */
void arch_init(void) {
    uint64_t saved = csr_read(satp);
    csr_write(satp, saved | (SATP_ASID_MASK << SATP_ASID_SHIFT));
    uint64_t asid = (csr_read(satp) >> SATP_ASID_SHIFT) & SATP_ASID_MASK;
    csr_write(satp, saved);
    while (asid & 1) { asid_bits++; asid >>= 1; }
}

const char *arch_name(void) { return "native"; }
unsigned arch_asid_bits(void) { return asid_bits; }

void arch_pte_write(pte_t *pte, pte_t value) { *(volatile pte_t *)pte = value; }

/* Bare hardware keeps no record of page tables. */
void arch_pagetable_new(pagetable_t root) { (void)root; }
void arch_pagetable_free(pagetable_t root) { (void)root; }
/* Stores reach the table at once: nothing to batch. */
void arch_pte_batch_begin(void) {}
void arch_pte_batch_end(void) {}

void arch_satp_switch(pagetable_t root, unsigned asid) {
    /* No fence before: whoever builds or changes a page table flushes its ASID (vm.c), which
       also orders those stores before the walker's reads (4.2.1). */
    csr_write(satp, SATP_MODE(vm_levels) | ((uint64_t)asid << SATP_ASID_SHIFT) | ((uintptr_t)root >> PAGE_SHIFT));
    /* ASID 0 is shared by every address space when the hart has no ASIDs: flush it all. With
       ASIDs, entries of other address spaces carry other tags and may stay in the TLB. */
    if (asid == 0) __asm__ volatile("sfence.vma zero, zero" ::: "memory");
}

void arch_tlb_flush_page(uint64_t va, unsigned asid) {
    __asm__ volatile("sfence.vma %0, %1" :: "r"(va), "r"((uint64_t)asid) : "memory");
}

void arch_tlb_flush_asid(unsigned asid) {
    /* rs2 = x0 would also flush global (kernel) entries; with an ASID register only that space. */
    if (asid == 0) __asm__ volatile("sfence.vma zero, zero" ::: "memory");
    else __asm__ volatile("sfence.vma zero, %0" :: "r"((uint64_t)asid) : "memory");
}

void arch_intr_on(void) { csr_set(sstatus, SSTATUS_SIE); }
void arch_intr_off(void) { csr_clear(sstatus, SSTATUS_SIE); }
/* wfi resumes on any pending interrupt enabled in sie, even with sstatus.SIE clear (3.3.3), so
   the scheduler can check for work and sleep without a window in which a wake-up is lost. */
void arch_wait_for_interrupt(void) { __asm__ volatile("wfi" ::: "memory"); }

uint64_t arch_time_now(void) { return csr_read(time); }
void arch_timer_set(uint64_t when) { sbi_set_timer(when); }

void arch_console_putc(char c) {
    while ((*(volatile uint8_t *)UART_LSR & 0x20) == 0) {}
    *(volatile uint8_t *)UART_THR = (uint8_t)c;
}

/* Every byte went out as it came. */
void arch_console_flush(void) {}

void arch_blk_submit(uintptr_t notify_register, uint32_t queue) {
    /* The device must see the ring updates before the doorbell (virtio 1.1, 2.6.13.6). */
    __asm__ volatile("fence w, o" ::: "memory");
    *(volatile uint32_t *)notify_register = queue;
}

void arch_csr_bench_write(uint64_t value) { csr_write(sscratch, value); }
uint64_t arch_csr_bench_read(void) { return csr_read(sscratch); }

void arch_poweroff(int failed) {
    sbi_system_reset(0, failed ? 1 : 0); /* shutdown; reason 1 = system failure */
    *(volatile uint32_t *)SIFIVE_TEST = failed ? ((1u << 16) | 0x3333) : 0x5555;
    for (;;) __asm__ volatile("wfi");
}
