/* Declarations shared across the kernel: the process structure and each file's public functions.
   tinyos runs on one hart and keeps interrupts off whenever it executes kernel code (they are
   taken only in user mode and while the scheduler idles), so no kernel data structure needs a
   lock: nothing can interrupt a kernel function half-way. */
#ifndef TINYOS_KERNEL_H
#define TINYOS_KERNEL_H
#include <stdint.h>
#include <stddef.h>
#include "../include/abi.h"
#include "../lib/lib.h"
#include "riscv.h"

#define NPROC 16            /* process slots; slot i uses ASID i+1 when the hart has ASIDs */
#define NOFILE 8            /* open files per process */
#define NFILE 32            /* open files in the whole system */
#define KSTACK_SIZE 16384   /* each process's kernel stack */
#define MAXARG 8            /* exec arguments */
#define MAXARGLEN 256       /* bytes per argument, with the terminating NUL */

/* ---- main.c: boot facts ---- */
struct bootinfo {
    uint64_t hartid;
    uint64_t ram_base, ram_size;
    uint64_t timebase;          /* ticks per second of the time CSR */
    char bootargs[256];
};
extern struct bootinfo boot;

/* ---- console.c: kernel output, the line discipline ---- */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_write(const char *s, size_t n);
void console_input(char c);                 /* called by the UART interrupt with each byte */
int console_has_room(void);                 /* whether console_input can take another byte */
int console_read(char *dst, size_t n);      /* a line at a time, sleeping until one is typed */

/* ---- fdt.c ---- */
void fdt_parse(const void *fdt, struct bootinfo *info);

/* ---- kalloc.c: physical pages with reference counts (shared by copy-on-write) ---- */
void kalloc_init(uint64_t start, uint64_t end);
void *kalloc(void);                         /* a zeroed page, or NULL when memory is exhausted */
void kfree(void *page);                     /* drops one reference; frees at zero */
void kref(void *page);                      /* adds a reference */
int kref_count(void *page);
uint64_t kalloc_free_pages(void);

/* ---- vm.c: Sv39 (or Sv48) address spaces ---- */
void vm_init(void);
pagetable_t vm_create(void);                /* kernel mappings only; NULL without memory */
void vm_free(pagetable_t root);             /* releases the user half and the tables */
pte_t *vm_walk(pagetable_t root, uint64_t va, int alloc);
int vm_map(pagetable_t root, uint64_t va, uint64_t pa, uint64_t perm);
void vm_unmap(pagetable_t root, uint64_t va);   /* and drops the page's reference */
int vm_fork(pagetable_t parent, pagetable_t child); /* share the user half copy-on-write */
extern pagetable_t kernel_pagetable;

/* ---- proc.c ---- */
struct context {            /* callee-saved registers, saved by swtch() */
    uint64_t ra, sp, s[12];
};

struct trapframe {          /* the user registers, saved by uservec in trapvec.S */
    uint64_t x[32];         /* x[0] unused; x[REG_A0] is a0, and so on */
    uint64_t epc;           /* offset 256: the user pc to return to */
    uint64_t kernel_sp;     /* offset 264: top of this process's kernel stack */
};
enum { REG_RA = 1, REG_SP = 2, REG_A0 = 10, REG_A1 = 11, REG_A2 = 12, REG_A7 = 17 };

enum procstate { UNUSED, EMBRYO, RUNNABLE, RUNNING, SLEEPING, ZOMBIE }; /* EMBRYO: being set up */

struct proc {
    enum procstate state;
    int pid;
    struct proc *parent;
    const void *chan;       /* what a SLEEPING process waits for */
    int exit_status;
    char name[16];
    unsigned asid;
    pagetable_t pagetable;
    uint64_t heap_start;    /* first heap byte: just above the program */
    uint64_t brk;           /* end of the heap; [heap_start, brk) fills on demand */
    struct trapframe tf;
    struct context context;
    struct file *ofile[NOFILE];
    uint8_t *kstack;
};

extern struct proc procs[NPROC];
struct proc *myproc(void);
void proc_init(void);
void switch_address_space(struct proc *p);  /* load p's page table into satp if needed */
void user_init(const char *bootargs);      /* creates pid 1, running "init" */
__attribute__((noreturn)) void scheduler(void);
void yield(void);
void sleep(const void *chan);
void wakeup(const void *chan);
void proc_dump(void);                      /* the process table on the console (Ctrl-P) */
int fork(void);
__attribute__((noreturn)) void exit(int status);
int wait(uint64_t status_addr);

/* ---- swtch.S ---- */
void swtch(struct context *old, struct context *new);

/* ---- exec.c ---- */
int exec(struct proc *p, const char *name, char (*argv)[MAXARGLEN], int argc);
const void *program_lookup(const char *name, size_t *size);

/* ---- usercopy.c: moving bytes across the user/kernel boundary ---- */
int user_fault(struct proc *p, uint64_t va, int write); /* demand paging and copy-on-write */
#define FAULT_NO_MEMORY (-2)
int copyout(struct proc *p, uint64_t dst_va, const void *src, size_t n);
int copyin(struct proc *p, void *dst, uint64_t src_va, size_t n);
int copyinstr(struct proc *p, char *dst, uint64_t src_va, size_t max);

/* ---- trap.c ---- */
void trap_init(void);
void timer_start(void);
__attribute__((noreturn)) void usertrapret(void);

/* ---- syscall.c ---- */
void syscall(struct proc *p);

/* ---- file.c: console and pipe files ---- */
struct file;
struct file *file_console(void);
struct file *file_dup(struct file *f);
void file_close(struct file *f);
long file_read(struct file *f, uint64_t dst_va, size_t n);
long file_write(struct file *f, uint64_t src_va, size_t n);
int pipe_create(struct file **read_end, struct file **write_end);

/* ---- plic.c, uart.c, virtio_blk.c: devices ---- */
void plic_init(void);
void plic_enable(int irq);
int plic_claim(void);
void plic_complete(int irq);
void device_interrupt(void);                /* claim from the PLIC and dispatch */

#define UART_IRQ 10
void uart_init(void);
void uart_interrupt(void);
void uart_resume_input(void);               /* the console made room: take input again */
uint8_t uart_read_lsr(void);

void virtio_blk_init(void);
int virtio_blk_irq(void);                   /* -1 without a disk */
uint64_t virtio_blk_capacity(void);         /* sectors */
int virtio_blk_rw(uint64_t sector, void *buf, int write); /* 0 on success */
void virtio_blk_interrupt(void);

#endif
