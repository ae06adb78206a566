/* exec: replace a process's program with one of the built-in programs.

   The user programs (the C files in user/) are linked as ordinary ELF executables at USER_BASE and embedded
   in the kernel image by build.sh (the generated programs.S defines builtin_programs[]). exec
   finds one by name, loads its PT_LOAD segments into a fresh address space, puts the arguments
   on a new stack, and only then -- when nothing can fail any more -- discards the old address
   space. ELF format: the System V gABI, "Program Loading". */
#include "kernel.h"
#include "arch.h"

struct program { const char *name; const uint8_t *start, *end; };
extern const struct program builtin_programs[]; /* ends with a NULL name */

typedef struct {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} Elf64_Ehdr;

typedef struct {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
} Elf64_Phdr;

#define ET_EXEC 2
#define EM_RISCV 243
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define PF_R 4

const void *program_lookup(const char *name, size_t *size) {
    for (const struct program *p = builtin_programs; p->name; p++) {
        if (strcmp(p->name, name) == 0) {
            *size = (size_t)(p->end - p->start);
            return p->start;
        }
    }
    return NULL;
}

/* Maps one segment, page by page, copying its file bytes and leaving the rest (bss) zero. */
static int load_segment(pagetable_t root, const uint8_t *image, const Elf64_Phdr *ph) {
    uint64_t perm = PTE_U;
    if (ph->flags & PF_R) perm |= PTE_R;
    if (ph->flags & PF_W) perm |= PTE_W | PTE_R; /* write-only does not exist in Sv39 */
    if (ph->flags & PF_X) perm |= PTE_X;
    for (uint64_t off = 0; off < ph->memsz; off += PAGE_SIZE) {
        uint8_t *page = kalloc();
        if (!page) return -1;
        if (off < ph->filesz) {
            uint64_t n = ph->filesz - off < PAGE_SIZE ? ph->filesz - off : PAGE_SIZE;
            memcpy(page, image + ph->offset + off, n);
        }
        if (vm_map(root, ph->vaddr + off, (uint64_t)(uintptr_t)page, perm) < 0) {
            kfree(page);
            return -1;
        }
    }
    return 0;
}

/* Builds the initial stack in its (top) page: the argument strings, then the argv array of
   pointers to them (NULL-terminated), with sp 16-byte aligned as the RISC-V psABI requires. */
static uint64_t build_stack(uint8_t *page, char (*argv)[MAXARGLEN], int argc) {
    const uint64_t page_va = USER_STACK_TOP - PAGE_SIZE;
    uint64_t sp = USER_STACK_TOP;
    uint64_t pointers[MAXARG + 1];
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]) + 1;
        sp -= n;
        memcpy(page + (sp - page_va), argv[i], n);
        pointers[i] = sp;
    }
    pointers[argc] = 0;
    sp -= (uint64_t)(argc + 1) * sizeof(uint64_t);
    sp &= ~15UL;
    memcpy(page + (sp - page_va), pointers, (size_t)(argc + 1) * sizeof(uint64_t));
    return sp;
}

int exec(struct proc *p, const char *name, char (*argv)[MAXARGLEN], int argc) {
    size_t size;
    const uint8_t *image = program_lookup(name, &size);
    if (!image || argc > MAXARG) return -1;

    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)image;
    if (size < sizeof *eh || memcmp(eh->ident, "\177ELF", 4) != 0 || eh->ident[4] != 2 ||
        eh->type != ET_EXEC || eh->machine != EM_RISCV || eh->phentsize != sizeof(Elf64_Phdr) ||
        eh->phoff > size || eh->phnum > (size - eh->phoff) / sizeof(Elf64_Phdr))
        return -1;

    pagetable_t root = vm_create();
    if (!root) return -1;
    uint64_t program_end = USER_BASE;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(image + eh->phoff);
    for (int i = 0; i < eh->phnum; i++, ph++) {
        if (ph->type != PT_LOAD || ph->memsz == 0) continue;
        /* Segments must start on a page and stay below the map window (user/user.ld sees to
           both), so no two share a page and the heap can start after the last. */
        if (ph->vaddr % PAGE_SIZE || ph->vaddr < USER_BASE || ph->memsz > USER_MAP_BASE ||
            ph->vaddr + ph->memsz > USER_MAP_BASE || ph->filesz > ph->memsz ||
            ph->offset > size || ph->filesz > size - ph->offset || load_segment(root, image, ph) < 0)
            goto fail;
        if (ph->vaddr + ph->memsz > program_end) program_end = ph->vaddr + ph->memsz;
    }

    uint8_t *stack_page = kalloc();
    if (!stack_page) goto fail;
    if (vm_map(root, USER_STACK_TOP - PAGE_SIZE, (uint64_t)(uintptr_t)stack_page, PTE_R | PTE_W | PTE_U) < 0) {
        kfree(stack_page);
        goto fail;
    }
    uint64_t sp = build_stack(stack_page, argv, argc);

    /* Commit: nothing below can fail. */
    pagetable_t old = p->pagetable;
    p->pagetable = root;
    if (p == myproc()) switch_address_space(p);
    arch_tlb_flush_asid(p->asid);  /* the ASID stays, the translations it tagged are gone */
    if (old) vm_free(old);
    p->heap_start = p->brk = PAGE_ROUND_UP(program_end);
    memset(&p->tf.x, 0, sizeof p->tf.x);
    p->tf.epc = eh->entry;
    p->tf.x[REG_SP] = sp;
    p->tf.x[REG_A0] = (uint64_t)argc;
    p->tf.x[REG_A1] = sp;            /* argv sits at the stack pointer */
    strlcpy(p->name, name, sizeof p->name);
    return 0;

fail:
    vm_free(root);
    return -1;
}
