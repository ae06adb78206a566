/* System calls. A program executes ecall with the number in a7 and arguments in a0..a5
   (include/abi.h lists them); usertrap() sends it here, and the result goes back in a0.
   Arguments are untrusted: pointers are only used through copyin/copyout, numbers are checked. */
#include "kernel.h"
#include "arch.h"

static uint64_t arg(struct proc *p, int n) { return p->tf.x[REG_A0 + n]; }

static struct file *fd_file(struct proc *p, uint64_t fd) {
    return fd < NOFILE ? p->ofile[fd] : NULL;
}

static long fd_alloc(struct proc *p, struct file *f) {
    for (int fd = 0; fd < NOFILE; fd++) {
        if (!p->ofile[fd]) { p->ofile[fd] = f; return fd; }
    }
    return -1;
}

static long sys_exit(struct proc *p) { exit((int)arg(p, 0)); }
static long sys_fork(struct proc *p) { (void)p; return fork(); }
static long sys_wait(struct proc *p) { return wait(arg(p, 0)); }
static long sys_getpid(struct proc *p) { return p->pid; }
static long sys_yield(struct proc *p) { (void)p; yield(); return 0; }

static long sys_exec(struct proc *p) {
    char name[16];
    char argv[MAXARG][MAXARGLEN];
    if (copyinstr(p, name, arg(p, 0), sizeof name) < 0) return -1;
    int argc = 0;
    for (;; argc++) {
        uint64_t ptr;
        if (copyin(p, &ptr, arg(p, 1) + (uint64_t)argc * sizeof ptr, sizeof ptr) < 0) return -1;
        if (ptr == 0) break;
        if (argc == MAXARG || copyinstr(p, argv[argc], ptr, MAXARGLEN) < 0) return -1;
    }
    if (exec(p, name, argv, argc) < 0) return -1;
    return (long)p->tf.x[REG_A0]; /* exec set a0 = argc for the new program; keep it */
}

static long sys_read(struct proc *p) {
    struct file *f = fd_file(p, arg(p, 0));
    return f ? file_read(f, arg(p, 1), arg(p, 2)) : -1;
}

static long sys_write(struct proc *p) {
    struct file *f = fd_file(p, arg(p, 0));
    return f ? file_write(f, arg(p, 1), arg(p, 2)) : -1;
}

static long sys_pipe(struct proc *p) {
    struct file *r, *w;
    if (pipe_create(&r, &w) < 0) return -1;
    long fds[2] = { fd_alloc(p, r), -1 };
    if (fds[0] >= 0) fds[1] = fd_alloc(p, w);
    int user_fds[2] = { (int)fds[0], (int)fds[1] };
    if (fds[1] < 0 || copyout(p, arg(p, 0), user_fds, sizeof user_fds) < 0) {
        if (fds[0] >= 0) p->ofile[fds[0]] = NULL;
        if (fds[1] >= 0) p->ofile[fds[1]] = NULL;
        file_close(r);
        file_close(w);
        return -1;
    }
    return 0;
}

static long sys_close(struct proc *p) {
    struct file *f = fd_file(p, arg(p, 0));
    if (!f) return -1;
    p->ofile[arg(p, 0)] = NULL;
    file_close(f);
    return 0;
}

/* The heap grows by moving the break; its pages arrive on first touch (usercopy.c).
   Shrinking frees the pages wholly above the new break. */
static long sys_sbrk(struct proc *p) {
    int64_t n = (int64_t)arg(p, 0);
    uint64_t old = p->brk;
    if (n >= 0) {
        if ((uint64_t)n > USER_MAP_BASE - old) return -1;
        p->brk = old + (uint64_t)n;
    } else {
        if ((uint64_t)-n > old - p->heap_start) return -1;
        p->brk = old - (uint64_t)-n;
        for (uint64_t va = PAGE_ROUND_UP(p->brk); va < PAGE_ROUND_UP(old); va += PAGE_SIZE) {
            vm_unmap(p->pagetable, va);
            arch_tlb_flush_page(va, p->asid);
        }
    }
    return (long)old;
}

static int map_window(uint64_t va) {
    return va % PAGE_SIZE == 0 && va >= USER_MAP_BASE && va < USER_MAP_TOP;
}

/* map/unmap: one page at a time, eagerly, so that each call is exactly one PTE write (plus the
   TLB flush that must follow it): the pte benchmark's unit of work. */
static long sys_map(struct proc *p) {
    uint64_t va = arg(p, 0);
    if (!map_window(va)) return -1;
    pte_t *pte = vm_walk(p->pagetable, va, 0);
    if (pte && (*pte & PTE_V)) return -1;
    void *page = kalloc();
    if (!page) return -1;
    if (vm_map(p->pagetable, va, (uint64_t)(uintptr_t)page, PTE_R | PTE_W | PTE_U) < 0) {
        kfree(page);
        return -1;
    }
    arch_tlb_flush_page(va, p->asid);
    return 0;
}

static long sys_unmap(struct proc *p) {
    uint64_t va = arg(p, 0);
    if (!map_window(va)) return -1;
    pte_t *pte = vm_walk(p->pagetable, va, 0);
    if (!pte || !(*pte & PTE_V)) return -1;
    vm_unmap(p->pagetable, va);
    arch_tlb_flush_page(va, p->asid);
    return 0;
}

static long sys_blkio(struct proc *p) {
    uint64_t sector = arg(p, 0), buf = arg(p, 1);
    int write = arg(p, 2) != 0;
    uint8_t data[SECTOR_SIZE];
    if (write && copyin(p, data, buf, sizeof data) < 0) return -1;
    if (virtio_blk_rw(sector, data, write) < 0) return -1;
    if (!write && copyout(p, buf, data, sizeof data) < 0) return -1;
    return 0;
}

static long sys_disksize(struct proc *p) {
    (void)p;
    return virtio_blk_irq() < 0 ? -1 : (long)virtio_blk_capacity();
}

/* Loops that must run in S-mode. Each returns a checksum that proves the work was done. */
static long sys_kbench(struct proc *p) {
    uint64_t kind = arg(p, 0), n = arg(p, 1);
    if (kind == KBENCH_CSR) {
        /* Write a pseudo-random sequence (a 64-bit LCG) and read back the last value. */
        uint64_t x = 1;
        for (uint64_t i = 0; i < n; i++) {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
            arch_csr_bench_write(x);
        }
        return (long)(arch_csr_bench_read() ^ n);
    }
    if (kind == KBENCH_MMIO) {
        /* Count the reads that find the transmitter idle: all of them, once the console's
           last byte has gone, which the first loop waits for. */
        while (!(uart_read_lsr() & 0x20)) {}
        uint64_t idle = 0;
        for (uint64_t i = 0; i < n; i++) idle += (uart_read_lsr() >> 5) & 1;
        return (long)idle;
    }
    return -1;
}

static long sys_timebase(struct proc *p) { (void)p; return (long)boot.timebase; }

/* The free-page count lets a test spot leaks: it must not depend on how much work ran. */
static long sys_halt(struct proc *p) {
    kprintf("# tinyos: halt, %lu pages free\n", kalloc_free_pages());
    arch_poweroff(arg(p, 0) != 0);
}

static long (*const syscalls[])(struct proc *) = {
    [SYS_exit] = sys_exit,     [SYS_fork] = sys_fork,     [SYS_wait] = sys_wait,
    [SYS_exec] = sys_exec,     [SYS_getpid] = sys_getpid, [SYS_write] = sys_write,
    [SYS_read] = sys_read,     [SYS_sbrk] = sys_sbrk,     [SYS_yield] = sys_yield,
    [SYS_pipe] = sys_pipe,     [SYS_close] = sys_close,   [SYS_map] = sys_map,
    [SYS_unmap] = sys_unmap,   [SYS_blkio] = sys_blkio,   [SYS_kbench] = sys_kbench,
    [SYS_halt] = sys_halt,     [SYS_disksize] = sys_disksize, [SYS_timebase] = sys_timebase,
};

void syscall(struct proc *p) {
    uint64_t n = p->tf.x[REG_A7];
    long result = -1;
    if (n < sizeof syscalls / sizeof syscalls[0] && syscalls[n]) result = syscalls[n](p);
    p->tf.x[REG_A0] = (uint64_t)result;
}
