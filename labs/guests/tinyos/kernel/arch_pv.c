/* The arch layer of the para-virtual flavour (TINYOS_ARCH=pv): the same kernel, cooperating
   with vmlab's VMM through hypercalls (hypercall.h) instead of touching what the VMM must
   control. Page-table entries change only through mmu_update (the VMM validates each: only this
   VM's frames, never a page table writable), address spaces switch through set_satp (the root is
   validated), flushes through tlb_flush, the timer through set_timer, the console through
   console_write. The VMM sets mstatus.TVM and TW, so a satp access, sfence.vma or wfi left in
   this file would trap and be emulated, and show up in the VMM's counters.

   Interrupt masking: the shared info page's upcall_mask is the virtual interrupt flag (a plain
   store, never a hypercall). The timer and the devices still raise their interrupts through the
   hart (delegated to S-mode, no VMM on that path), so masking also clears sstatus.SIE, which on
   RISC-V is itself an unprivileged-to-trap store for S-mode: disabling interrupts costs nothing
   either way. */
#include "arch.h"
#include "hypercall.h"
#include "kernel.h"
#include "sbi.h"

static unsigned asid_bits;
static uintptr_t current_root;   /* what satp points at, to step off a root being freed */
static struct vmlab_shared_info shared __attribute__((aligned(4096)));
/* Page-table updates waiting to go out together (see arch_pte_write). */
#define BATCH_MAX 2048
static struct mmu_update batch[BATCH_MAX];
static unsigned batch_length, batch_limit = 1, batching;

void arch_init(void) {
    struct hcret asid = hypercall(HC_DOMAIN_INFO, DI_ASID_BITS, 0);
    if (asid.error) /* booted outside mode pv: firmware that knows no hypercalls */
        panic("tinyos-pv runs under vmlab's para-virtual VMM (mode pv); here its hypercalls are refused");
    asid_bits = (unsigned)asid.value;
    batch_limit = (unsigned)hypercall(HC_DOMAIN_INFO, DI_BATCH_LIMIT, 0).value;
    if (batch_limit == 0 || batch_limit > BATCH_MAX) batch_limit = BATCH_MAX;
    /* Before paging: kernel addresses are physical, as the VMM wants. Afterwards the kernel
       maps RAM at its physical address, so they stay valid. */
    if (hypercall(HC_REGISTER_SHARED_INFO, (uintptr_t)&shared, 0).error)
        panic("arch_init: the VMM refused the shared info page");
}

const char *arch_name(void) { return "pv"; }
unsigned arch_asid_bits(void) { return asid_bits; }

/* Page-table updates go out in batches of up to the VMM's limit (one hypercall for K updates
   costs one entry, not K). Outside a batch (arch.h: arch_pte_batch_begin/_end) every write is
   sent at once, since the kernel reads its tables right after writing them; inside one, leaf
   writes wait, and a table link — which the caller will walk next — is sent at once with them. */

static void batch_flush(void) {
    if (batch_length == 0) return;
    struct hcret r = hypercall(HC_MMU_UPDATE, (uintptr_t)batch, batch_length);
    if (r.error) {
        unsigned i = r.value < batch_length ? (unsigned)r.value : 0;
        panic("mmu_update: the VMM refused %p at %p (error %d)", (void *)batch[i].val, (void *)batch[i].ptr,
              (int)r.error);
    }
    batch_length = 0;
}

void arch_pte_write(pte_t *pte, pte_t value) {
    batch[batch_length++] = (struct mmu_update){ (uintptr_t)pte, value };
    if (!batching || !(value & PTE_LEAF) || batch_length >= batch_limit) batch_flush();
}

void arch_pte_batch_begin(void) { batching = 1; }

void arch_pte_batch_end(void) {
    batching = 0;
    batch_flush();
}

/* The VMM's first update into a fresh page pins it as an Sv39 root (an implicit pin): an Sv48
   root is pinned with its levels before anything is written in it. */
void arch_pagetable_new(pagetable_t root) {
    if (vm_levels == 3) return;
    batch_flush();
    struct hcret r = hypercall(HC_PIN_TABLE, (uintptr_t)root, (uint64_t)vm_levels);
    if (r.error) panic("arch_pagetable_new: the VMM refused to pin root %p (error %d)", (void *)root, (int)r.error);
}

void arch_pagetable_free(pagetable_t root) {
    batch_flush();
    /* The VMM keeps a root in use typed; step onto the kernel's own table first. */
    if ((uintptr_t)root == current_root) arch_satp_switch(kernel_pagetable, 0);
    hypercall(HC_UNPIN_TABLE, (uintptr_t)root, 0);
}

void arch_satp_switch(pagetable_t root, unsigned asid) {
    uint64_t satp = SATP_MODE(vm_levels) | ((uint64_t)asid << SATP_ASID_SHIFT) | ((uintptr_t)root >> PAGE_SHIFT);
    /* ASID 0 is shared by every address space: flush it all, in the same hypercall. */
    batch_flush();
    struct hcret r = hypercall(HC_SET_SATP, satp, asid == 0);
    if (r.error) panic("arch_satp_switch: the VMM refused root %p (error %d)", (void *)root, (int)r.error);
    current_root = (uintptr_t)root;
}

void arch_tlb_flush_page(uint64_t va, unsigned asid) {
    batch_flush();
    hypercall(HC_TLB_FLUSH, va, asid);
}

void arch_tlb_flush_asid(unsigned asid) {
    batch_flush();
    hypercall(HC_TLB_FLUSH, ~0UL, asid == 0 ? ~0UL : asid);
}

void arch_intr_on(void) {
    shared.upcall_mask = 0;
    csr_set(sstatus, SSTATUS_SIE);
}

void arch_intr_off(void) {
    csr_clear(sstatus, SSTATUS_SIE);
    shared.upcall_mask = 1;
}

/* Nothing to run: ask the VMM. `block` sleeps the vCPU until an interrupt enabled in sie is
   pending (as wfi would), or returns at once when an event is already pending. */
void arch_wait_for_interrupt(void) { hypercall(HC_BLOCK, 0, 0); }

uint64_t arch_time_now(void) { return csr_read(time); }
void arch_timer_set(uint64_t when) { hypercall(HC_SET_TIMER, when, 0); }

/* Console bytes go out a line at a time: one hypercall per line rather than two device
   register accesses per byte, and what is left at the end of each console write (a prompt, an
   echoed key) with one more, so nothing waits for a newline that may not come. */
static char line[128];
static unsigned line_length;

void arch_console_flush(void) {
    unsigned done = 0;
    while (done < line_length) {
        struct hcret r = hypercall(HC_CONSOLE_WRITE, (uintptr_t)line + done, line_length - done);
        if (r.error) {
            /* No VMM takes the line (tinyos-pv booted outside mode pv, about to say so): the
               SBI's legacy console, which every firmware has, one byte per call. */
            for (; done < line_length; done++) sbi_call(0x01, 0, line[done], 0, 0);
            break;
        }
        if (r.value == 0) break;
        done += (unsigned)r.value;
    }
    line_length = 0;
}

void arch_console_putc(char c) {
    line[line_length++] = c;
    if (c == '\n' || line_length == sizeof line) arch_console_flush();
}

void arch_blk_submit(uintptr_t notify_register, uint32_t queue) {
    /* Unused in this flavour (blkfront.c replaces the virtio driver); kept for the interface. */
    __asm__ volatile("fence w, o" ::: "memory");
    *(volatile uint32_t *)notify_register = queue;
}

void arch_csr_bench_write(uint64_t value) { csr_write(sscratch, value); }
uint64_t arch_csr_bench_read(void) { return csr_read(sscratch); }

void arch_poweroff(int failed) {
    arch_console_flush();
    sbi_system_reset(0, failed ? 1 : 0);
    for (;;) hypercall(HC_BLOCK, 0, 0);
}
