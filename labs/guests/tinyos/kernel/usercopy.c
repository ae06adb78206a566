/* Demand paging, copy-on-write, and copying between kernel and user memory.

   A user page that is not there yet is not an error if it lies in the heap (below the break) or
   in the stack's megabyte: the page fault handler maps a zeroed page and the program retries
   the instruction without noticing. A write to a page marked COW gets a private copy.

   The kernel never dereferences a user pointer. It translates each user page by walking the
   process's page table in software (running the same fault logic when the page is missing or
   shared), then copies through the kernel's identity mapping of RAM. That way a bad pointer in
   a system call is an error code, not a kernel page fault. */
#include "kernel.h"
#include "arch.h"

static int in_lazy_region(struct proc *p, uint64_t va) {
    if (va >= p->heap_start && va < p->brk) return 1;
    return va >= USER_STACK_TOP - USER_STACK_MAX && va < USER_STACK_TOP;
}

/* Resolves a fault at va: 0 when the access can be retried, -1 when it is the program's fault,
   FAULT_NO_MEMORY when it is nobody's fault but there is no page to give. */
int user_fault(struct proc *p, uint64_t va, int write) {
    if (va < USER_BASE || va >= USER_STACK_TOP) return -1;
    va = PAGE_ROUND_DOWN(va);
    pte_t *pte = vm_walk(p->pagetable, va, 0);

    if (pte && (*pte & PTE_V)) {
        if (!write || !(*pte & PTE_COW)) return -1; /* a real protection violation */
        void *old = (void *)(uintptr_t)PTE_TO_PA(*pte);
        pte_t flags = (*pte & 0x3FF & ~PTE_COW) | PTE_W;
        if (kref_count(old) == 1) {
            /* The other sharers are gone: the page is ours, just make it writable again. */
            arch_pte_write(pte, PA_TO_PTE(old) | flags);
        } else {
            void *copy = kalloc();
            if (!copy) return FAULT_NO_MEMORY;
            memcpy(copy, old, PAGE_SIZE);
            arch_pte_write(pte, PA_TO_PTE(copy) | flags);
            kfree(old);
        }
        arch_tlb_flush_page(va, p->asid);
        return 0;
    }

    if (!in_lazy_region(p, va)) return -1;
    void *page = kalloc();
    if (!page) return FAULT_NO_MEMORY;
    if (vm_map(p->pagetable, va, (uint64_t)(uintptr_t)page, PTE_R | PTE_W | PTE_U) < 0) {
        kfree(page);
        return FAULT_NO_MEMORY;  /* no page for a page table */
    }
    /* The hart may have cached "not mapped" for va; the spec requires a fence even when an
       entry goes from invalid to valid (4.2.1). */
    arch_tlb_flush_page(va, p->asid);
    return 0;
}

/* The kernel address of user address va, or NULL if the program may not access it so. */
static uint8_t *translate(struct proc *p, uint64_t va, int write) {
    pte_t *pte = vm_walk(p->pagetable, va, 0);
    if (!pte || !(*pte & PTE_V) || (write && !(*pte & PTE_W))) {
        if (user_fault(p, va, write) < 0) return NULL;
        pte = vm_walk(p->pagetable, va, 0);
    }
    if (!(*pte & PTE_U) || !(*pte & PTE_R) || (write && !(*pte & PTE_W))) return NULL;
    return (uint8_t *)(uintptr_t)(PTE_TO_PA(*pte) + (va & (PAGE_SIZE - 1)));
}

int copyout(struct proc *p, uint64_t dst_va, const void *src, size_t n) {
    const uint8_t *s = src;
    while (n > 0) {
        uint8_t *d = translate(p, dst_va, 1);
        if (!d) return -1;
        size_t chunk = PAGE_SIZE - (dst_va & (PAGE_SIZE - 1));
        if (chunk > n) chunk = n;
        memcpy(d, s, chunk);
        s += chunk, dst_va += chunk, n -= chunk;
    }
    return 0;
}

int copyin(struct proc *p, void *dst, uint64_t src_va, size_t n) {
    uint8_t *d = dst;
    while (n > 0) {
        const uint8_t *s = translate(p, src_va, 0);
        if (!s) return -1;
        size_t chunk = PAGE_SIZE - (src_va & (PAGE_SIZE - 1));
        if (chunk > n) chunk = n;
        memcpy(d, s, chunk);
        d += chunk, src_va += chunk, n -= chunk;
    }
    return 0;
}

/* A NUL-terminated string of at most max bytes including the NUL; -1 if longer or unreadable. */
int copyinstr(struct proc *p, char *dst, uint64_t src_va, size_t max) {
    for (size_t i = 0; i < max; i++) {
        const uint8_t *s = translate(p, src_va + i, 0);
        if (!s) return -1;
        dst[i] = (char)*s;
        if (*s == 0) return 0;
    }
    return -1;
}
