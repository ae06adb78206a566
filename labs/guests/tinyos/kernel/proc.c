/* Processes and the scheduler.

   Each process has a kernel stack, and while it is in the kernel (in a system call, or
   handling a trap) it runs on that stack like a thread. Giving up the CPU is a call to
   swtch(), which saves the callee-saved registers in proc->context and resumes the scheduler's
   thread; the scheduler later swtch()es back and the call returns as if nothing had happened.
   The scheduler is round robin: it scans the process table from just after the last process
   it ran, so every runnable process gets its turn. The timer interrupt (trap.c) calls yield()
   to make the running process take its turn too.

   Switching to another process loads its page table into satp, so every switch between two
   processes changes the address space: this is what the ctxsw benchmark measures. */
#include "kernel.h"
#include "arch.h"

struct proc procs[NPROC];
static uint8_t kstacks[NPROC][KSTACK_SIZE] __attribute__((aligned(16)));
static struct proc *current;          /* NULL while the scheduler itself runs */
static struct proc *initproc;
static struct context scheduler_context;
static pagetable_t active_root;       /* what satp holds now */
static int next_pid = 1;

struct proc *myproc(void) { return current; }

/* With enough ASID bits, slot i tags its TLB entries with ASID i+1 and a switch flushes
   nothing; without, everyone shares ASID 0 and each switch flushes the TLB (arch_native.c). */
void proc_init(void) {
    int use_asids = arch_asid_bits() > 0 && (1u << arch_asid_bits()) > NPROC;
    for (int i = 0; i < NPROC; i++) {
        procs[i].kstack = kstacks[i];
        procs[i].asid = use_asids ? (unsigned)i + 1 : 0;
    }
}

void switch_address_space(struct proc *p) {
    if (active_root == p->pagetable) return;
    arch_satp_switch(p->pagetable, p->asid);
    active_root = p->pagetable;
}

/* A new process returns to user mode through here the first time it is scheduled. */
static void forkret(void) { usertrapret(); }

static struct proc *alloc_proc(void) {
    struct proc *p = NULL;
    for (int i = 0; i < NPROC && !p; i++)
        if (procs[i].state == UNUSED) p = &procs[i];
    if (!p) return NULL;
    pagetable_t root = vm_create();
    if (!root) return NULL;
    uint8_t *kstack = p->kstack;
    unsigned asid = p->asid;
    memset(p, 0, sizeof *p);
    p->kstack = kstack;
    p->asid = asid;
    p->pagetable = root;
    p->pid = next_pid++;
    p->context.ra = (uint64_t)(uintptr_t)forkret;
    p->context.sp = (uint64_t)(uintptr_t)(kstack + KSTACK_SIZE);
    p->tf.kernel_sp = p->context.sp;
    /* This slot's ASID may still tag the previous owner's translations. The flush also orders
       the new tables' stores before the walker reads them (Privileged spec 4.2.1). */
    arch_tlb_flush_asid(p->asid);
    p->state = EMBRYO;    /* not runnable until its creator has filled it in */
    return p;
}

static void free_proc(struct proc *p) {
    if (active_root == p->pagetable) active_root = NULL; /* its address may come back as a new root */
    if (p->pagetable) vm_free(p->pagetable);
    p->pagetable = NULL;
    p->parent = NULL;
    p->pid = 0;
    p->state = UNUSED;
}

void user_init(const char *bootargs) {
    struct proc *p = alloc_proc();
    if (!p) panic("user_init: no process slot");
    initproc = p;
    for (int fd = 0; fd < 3; fd++) p->ofile[fd] = file_console();
    char argv[2][MAXARGLEN];
    strlcpy(argv[0], "init", MAXARGLEN);
    strlcpy(argv[1], bootargs, MAXARGLEN);
    if (exec(p, "init", argv, 2) < 0) panic("user_init: cannot exec init");
    p->state = RUNNABLE;
}

void scheduler(void) {
    int next = 0;
    for (;;) {
        arch_intr_off();
        struct proc *p = NULL;
        for (int k = 0; k < NPROC && !p; k++) {
            struct proc *q = &procs[(next + k) % NPROC];
            if (q->state == RUNNABLE) {
                p = q;
                next = (int)(q - procs + 1) % NPROC;
            }
        }
        if (p) {
            p->state = RUNNING;
            current = p;
            switch_address_space(p);
            swtch(&scheduler_context, &p->context);
            current = NULL;
        } else {
            /* Nothing to run: sleep until an interrupt is pending, then let it in (kernelvec),
               since it is probably what makes a process runnable again. */
            arch_wait_for_interrupt();
            arch_intr_on();
            arch_intr_off();
        }
    }
}

/* Back to the scheduler; the caller has already set current->state. */
static void sched(void) {
    swtch(&current->context, &scheduler_context);
}

void yield(void) {
    current->state = RUNNABLE;
    sched();
}

/* Sleeping needs no lock around "check the condition, then sleep": interrupts are off in the
   kernel, so no wakeup can slip in between. Callers re-check their condition in a loop. */
void sleep(const void *chan) {
    current->chan = chan;
    current->state = SLEEPING;
    sched();
    current->chan = NULL;
}

void wakeup(const void *chan) {
    for (int i = 0; i < NPROC; i++)
        if (procs[i].state == SLEEPING && procs[i].chan == chan) procs[i].state = RUNNABLE;
}

int fork(void) {
    struct proc *parent = current;
    struct proc *child = alloc_proc();
    if (!child) return -1;
    int ok = vm_fork(parent->pagetable, child->pagetable);
    /* The parent's writable pages just became read-only: drop its stale TLB entries. */
    arch_tlb_flush_asid(parent->asid);
    if (ok < 0) { free_proc(child); return -1; }
    arch_tlb_flush_asid(child->asid);
    uint64_t kernel_sp = child->tf.kernel_sp;
    child->tf = parent->tf;
    child->tf.kernel_sp = kernel_sp;
    child->tf.x[REG_A0] = 0;                 /* fork returns 0 in the child */
    child->heap_start = parent->heap_start;
    child->brk = parent->brk;
    memcpy(child->name, parent->name, sizeof child->name);
    for (int fd = 0; fd < NOFILE; fd++)
        if (parent->ofile[fd]) child->ofile[fd] = file_dup(parent->ofile[fd]);
    child->parent = parent;
    child->state = RUNNABLE;
    return child->pid;
}

void exit(int status) {
    struct proc *p = current;
    if (p == initproc) {
        kprintf("tinyos: init exited with status %d\n", status);
        arch_poweroff(status != 0);
    }
    for (int fd = 0; fd < NOFILE; fd++) {
        if (p->ofile[fd]) file_close(p->ofile[fd]);
        p->ofile[fd] = NULL;
    }
    /* Orphans are adopted by init, which reaps them when it waits. */
    for (int i = 0; i < NPROC; i++) {
        if (procs[i].parent != p) continue;
        procs[i].parent = initproc;
        if (procs[i].state == ZOMBIE) wakeup(initproc);
    }
    p->exit_status = status;
    p->state = ZOMBIE;
    wakeup(p->parent);
    sched();
    panic("exit: a zombie was scheduled");
}

/* The parent frees the child's memory: the child cannot free the page table it runs on. */
int wait(uint64_t status_addr) {
    struct proc *p = current;
    for (;;) {
        int children = 0;
        for (int i = 0; i < NPROC; i++) {
            struct proc *q = &procs[i];
            if (q->parent != p || q->state == UNUSED) continue;
            children++;
            if (q->state != ZOMBIE) continue;
            int pid = q->pid;
            if (status_addr && copyout(p, status_addr, &q->exit_status, sizeof(int)) < 0) return -1;
            free_proc(q);
            return pid;
        }
        if (children == 0) return -1;
        sleep(p);
    }
}

/* For a student at the console: who exists, in what state, waiting for what. */
void proc_dump(void) {
    static const char *const names[] = {
        [UNUSED] = "unused", [EMBRYO] = "embryo", [RUNNABLE] = "runnable",
        [RUNNING] = "running", [SLEEPING] = "sleeping", [ZOMBIE] = "zombie",
    };
    kprintf("\n");
    for (int i = 0; i < NPROC; i++) {
        struct proc *p = &procs[i];
        if (p->state == UNUSED) continue;
        kprintf("pid %d %s %s asid %u brk %p chan %p\n", p->pid, p->name, names[p->state], p->asid,
                (void *)p->brk, p->chan);
    }
    kprintf("%lu pages free\n", kalloc_free_pages());
}
