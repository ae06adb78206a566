/* Sv39 address spaces (Privileged spec 4.4), or Sv48 (4.5) with "paging=sv48" on the kernel
   command line: the same map one level deeper. Every process has its own page table, and every
   page table holds the same kernel mappings, so a trap never has to switch tables and the kernel
   reaches any physical address directly (identity mapping). Virtual address map:

     0x0000_0000 - 0x3FFF_FFFF   devices (UART, PLIC, virtio...)   one 1 GiB kernel page, RW
     0x4000_0000 - 0x7FFF_FFFF   the process (see include/abi.h)  4 KiB user pages
     0x8000_0000 - ...           RAM, at its physical address     1 GiB kernel pages, RWX

   The kernel parts are gigapages in the root table (global, G=1, since they are the same in every
   address space), so copying them into a new table is copying a few root entries, and the user
   part is everything below root entry 1. Under Sv48 the root's entry 0 covers all of it (512 GiB):
   the gigapages are in the table below it, which each address space has a copy of (its
   "gigatable"). A process's page *tables* are never shared; copy-on-write shares only the pages.
   Every PTE store goes through arch_pte_write(). */
#include "kernel.h"
#include "arch.h"

#define GIGAPAGE (1UL << 30)
#define USER_ROOT_SLOT (USER_BASE / GIGAPAGE)   /* root entry 1 covers the user half */

pagetable_t kernel_pagetable;
int vm_levels = 3;

/* Whether the kernel command line asks for Sv48: the word "paging=sv48". */
static int wants_sv48(const char *args) {
    for (const char *s = args; *s; s++) {
        if ((s == args || s[-1] == ' ') && strncmp(s, "paging=sv48", 11) == 0 && (s[11] == ' ' || s[11] == 0))
            return 1;
    }
    return 0;
}

/* The table of `root`'s address space whose entries are 1 GiB each: the root itself under Sv39,
   the table below root entry 0 under Sv48. */
static pagetable_t gigatable(pagetable_t root) {
    return vm_levels == 3 ? root : (pagetable_t)(uintptr_t)PTE_TO_PA(root[0]);
}

/* Accessed and Dirty are set up front: hardware may fault instead of setting them (Svade), and
   tinyos has no use for tracking them. */
static pte_t leaf(uint64_t pa, uint64_t perm) { return PA_TO_PTE(pa) | perm | PTE_V | PTE_A | PTE_D; }

void vm_init(void) {
    if (wants_sv48(boot.bootargs)) {
        vm_levels = 4;
        kprintf("# tinyos: paging sv48\n");
    }
    kernel_pagetable = kalloc();
    pagetable_t giga = vm_levels == 3 ? kernel_pagetable : kalloc();
    if (!kernel_pagetable || !giga) panic("vm_init: no memory");
    uint64_t ram_end = boot.ram_base + boot.ram_size;
    if (boot.ram_base < USER_STACK_TOP) panic("vm_init: RAM at %p overlaps the user half", (void *)boot.ram_base);
    arch_pagetable_new(kernel_pagetable);
    /* The root's entry first, so that the gigatable is a table of the tree before its entries
       are written (a VMM that validates page tables types it as one). */
    if (giga != kernel_pagetable) arch_pte_write(&kernel_pagetable[0], PA_TO_PTE(giga) | PTE_V);
    arch_pte_write(&giga[0], leaf(0, PTE_R | PTE_W | PTE_G));
    for (uint64_t pa = boot.ram_base & ~(GIGAPAGE - 1); pa < ram_end; pa += GIGAPAGE)
        arch_pte_write(&giga[pa / GIGAPAGE], leaf(pa, PTE_R | PTE_W | PTE_X | PTE_G));
    arch_satp_switch(kernel_pagetable, 0);
}

pagetable_t vm_create(void) {
    pagetable_t root = kalloc();
    if (!root) return NULL;
    pagetable_t giga = root;
    if (vm_levels == 4 && !(giga = kalloc())) {
        kfree(root);
        return NULL;
    }
    arch_pagetable_new(root);
    if (giga != root) arch_pte_write(&root[0], PA_TO_PTE(giga) | PTE_V);   /* first, as in vm_init */
    pagetable_t kernel_giga = gigatable(kernel_pagetable);
    for (int i = 0; i < 512; i++)
        if (kernel_giga[i] & PTE_V) arch_pte_write(&giga[i], kernel_giga[i]);
    return root;
}

/* The level-0 entry for va, creating the tables on the way when alloc is set. NULL when a table
   is missing (and not created), or when va lies in a kernel gigapage. */
pte_t *vm_walk(pagetable_t root, uint64_t va, int alloc) {
    pagetable_t table = root;
    for (int level = vm_levels - 1; level > 0; level--) {
        pte_t *pte = &table[VPN(va, level)];
        if (*pte & PTE_V) {
            if (*pte & PTE_LEAF) return NULL;
            table = (pagetable_t)(uintptr_t)PTE_TO_PA(*pte);
        } else {
            if (!alloc) return NULL;
            pagetable_t next = kalloc();
            if (!next) return NULL;
            arch_pte_write(pte, PA_TO_PTE(next) | PTE_V); /* no R/W/X: a pointer to a table */
            table = next;
        }
    }
    return &table[VPN(va, 0)];
}

int vm_map(pagetable_t root, uint64_t va, uint64_t pa, uint64_t perm) {
    pte_t *pte = vm_walk(root, va, 1);
    if (!pte) return -1;
    if (*pte & PTE_V) panic("vm_map: %p is already mapped", (void *)va);
    arch_pte_write(pte, leaf(pa, perm));
    return 0;
}

void vm_unmap(pagetable_t root, uint64_t va) {
    pte_t *pte = vm_walk(root, va, 0);
    if (!pte || !(*pte & PTE_V)) return;
    uint64_t pa = PTE_TO_PA(*pte);
    arch_pte_write(pte, 0);
    kfree((void *)(uintptr_t)pa);
}

/* Frees one table and what hangs below it. Only 4 KiB leaves belong to the process; the
   gigapage leaves in the root (or, under Sv48, in the gigatable) are the kernel's and stay. */
static void free_table(pagetable_t table, int level) {
    for (int i = 0; i < 512; i++) {
        pte_t pte = table[i];
        if (!(pte & PTE_V)) continue;
        if (!(pte & PTE_LEAF)) free_table((pagetable_t)(uintptr_t)PTE_TO_PA(pte), level - 1);
        else if (level == 0) kfree((void *)(uintptr_t)PTE_TO_PA(pte));
    }
    kfree(table);
}

void vm_free(pagetable_t root) {
    arch_pagetable_free(root);
    free_table(root, vm_levels - 1);
}

/* fork: the child gets its own tables mapping the parent's pages. Writable pages become
   read-only in both and are marked COW; the first write by either side faults, and
   user_fault() (usercopy.c) gives the writer a private copy. Read-only pages (program text)
   are simply shared. The caller flushes the parent's TLB entries, now stale. */
static int fork_tables(pagetable_t parent, pagetable_t child) {
    pte_t top = gigatable(parent)[USER_ROOT_SLOT];
    if (!(top & PTE_V)) return 0;
    pagetable_t l1 = (pagetable_t)(uintptr_t)PTE_TO_PA(top);
    for (uint64_t i = 0; i < 512; i++) {
        if (!(l1[i] & PTE_V)) continue;
        pagetable_t l0 = (pagetable_t)(uintptr_t)PTE_TO_PA(l1[i]);
        for (uint64_t j = 0; j < 512; j++) {
            pte_t pte = l0[j];
            if (!(pte & PTE_V)) continue;
            uint64_t va = USER_ROOT_SLOT * GIGAPAGE + (i << 21) + (j << PAGE_SHIFT);
            if (pte & (PTE_W | PTE_COW)) {
                pte = (pte & ~PTE_W) | PTE_COW;
                arch_pte_write(&l0[j], pte);
            }
            pte_t *dst = vm_walk(child, va, 1);
            if (!dst) return -1;
            arch_pte_write(dst, pte);
            kref((void *)(uintptr_t)PTE_TO_PA(pte));
        }
    }
    return 0;
}

/* The copy writes many entries and reads back only the tables it links (vm_walk), never a leaf
   it wrote: the arch layer may batch its leaf writes (arch.h). */
int vm_fork(pagetable_t parent, pagetable_t child) {
    arch_pte_batch_begin();
    int result = fork_tables(parent, child);
    arch_pte_batch_end();
    return result;
}
