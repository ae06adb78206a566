/* The arch layer: every machine-dependent operation whose cost a virtualisation technique changes
   goes through one of these functions, and nothing else in the kernel touches satp, sfence.vma,
   sstatus.SIE, the timer or the console hardware directly. arch_native.c implements them with the
   real instructions and devices; a para-virtual flavour replaces exactly that file with hypercalls
   (chosen by build.sh, ARCH=native|pv). */
#ifndef TINYOS_ARCH_H
#define TINYOS_ARCH_H
#include <stdint.h>
#include "riscv.h"

void arch_init(void);                 /* probe ASIDs and the firmware, before anything below */
const char *arch_name(void);          /* "native", ... for the boot banner (a "# " line)       */

/* Paging. Every write of a page-table entry, every address-space switch and every TLB flush. */
void arch_pte_write(pte_t *pte, pte_t value);
void arch_satp_switch(pagetable_t root, unsigned asid); /* asid 0: flushes, since it is shared */
extern int vm_levels;                 /* vm.c's choice: 3 (Sv39) or 4 (Sv48), satp.MODE is 5 more */
void arch_tlb_flush_page(uint64_t va, unsigned asid);
void arch_tlb_flush_asid(unsigned asid);
unsigned arch_asid_bits(void);        /* how many satp.ASID bits the hart implements */
void arch_pagetable_new(pagetable_t root);  /* a fresh root, before anything is written in it */
void arch_pagetable_free(pagetable_t root); /* before vm_free() releases a tree (the PV VMM unpins it) */
/* Between these, the caller reads back no leaf entry it wrote and needs none of them walked
   before _end, so leaf writes may be deferred and sent together (a para-virtual batch). */
void arch_pte_batch_begin(void);
void arch_pte_batch_end(void);

/* Interrupts. The kernel runs with them off, except while the scheduler idles. */
void arch_intr_on(void);
void arch_intr_off(void);
void arch_wait_for_interrupt(void);   /* returns when an interrupt is pending, enabled or not */

/* Time: the `time` CSR counts at timebase-frequency; the timer fires when it reaches `when`. */
uint64_t arch_time_now(void);
void arch_timer_set(uint64_t when);

/* Devices. */
void arch_console_putc(char c);                          /* one byte out of the console */
void arch_console_flush(void);                           /* out now what putc may have held back */
void arch_blk_submit(uintptr_t notify_register, uint32_t queue); /* "the queue has work" */

/* The privileged write the csr benchmark measures (sscratch: the kernel may clobber it, since it
   only carries the trap-frame pointer while a user program runs). */
void arch_csr_bench_write(uint64_t value);
uint64_t arch_csr_bench_read(void);

/* Power off through the firmware (SBI SRST), or the sifive test finisher if it is missing. */
__attribute__((noreturn)) void arch_poweroff(int failed);

#endif
