/* Traps: system calls, page faults and interrupts (Privileged spec 4.1.8 for the causes).

   From U-mode, a trap arrives at uservec (trapvec.S), which saves the program's registers in its
   trapframe and calls usertrap() on the process's kernel stack. usertrap handles the cause and
   returns to the program through usertrapret() -- perhaps much later, if the process slept or
   was preempted in between. From S-mode, traps arrive at kernelvec; only the idle scheduler runs
   with interrupts on, so those are interrupts, and anything else is a kernel bug. */
#include "kernel.h"
#include "arch.h"

extern char uservec[], kernelvec[];
void userret(struct trapframe *tf) __attribute__((noreturn));

static uint64_t timer_interval;   /* time-CSR ticks between preemptions */

void trap_init(void) {
    csr_write(stvec, (uint64_t)(uintptr_t)kernelvec);
    csr_set(sie, SIE_SEIE | SIE_STIE);
    /* Let user programs read cycle, time and instret (the benchmarks' "# " lines). The firmware
       decides whether S-mode may (mcounteren); this grants U-mode the same. */
    csr_write(scounteren, 7);
}

/* A hundred preemptions a second of guest time, the classic Unix tick: two busy processes
   visibly share the CPU, and a benchmark pays for the ticks it spans, as on a real system. */
void timer_start(void) {
    timer_interval = boot.timebase / 100;
    arch_timer_set(arch_time_now() + timer_interval);
}

static void timer_interrupt(void) {
    arch_timer_set(arch_time_now() + timer_interval);
}

static const char *cause_name(uint64_t cause) {
    switch (cause) {
    case 0: return "misaligned instruction";
    case 1: return "instruction access fault";
    case EXC_ILLEGAL_INSN: return "illegal instruction";
    case 3: return "breakpoint";
    case 4: return "misaligned load";
    case 5: return "load access fault";
    case 6: return "misaligned store";
    case 7: return "store access fault";
    case EXC_INSN_PAGE_FAULT: return "instruction page fault";
    case EXC_LOAD_PAGE_FAULT: return "load page fault";
    case EXC_STORE_PAGE_FAULT: return "store page fault";
    default: return "unknown exception";
    }
}

void usertrap(struct trapframe *tf) {
    csr_write(stvec, (uint64_t)(uintptr_t)kernelvec);
    struct proc *p = myproc();
    uint64_t scause = csr_read(scause);
    uint64_t cause = scause & ~SCAUSE_INTERRUPT;

    if (scause & SCAUSE_INTERRUPT) {
        if (cause == IRQ_S_TIMER) {
            timer_interrupt();
            yield();           /* round robin: the next runnable process gets the CPU */
        } else if (cause == IRQ_S_EXTERNAL) {
            device_interrupt();
        }
    } else if (cause == EXC_ECALL_U) {
        tf->epc += 4;          /* return past the ecall */
        syscall(p);
    } else {
        uint64_t stval = csr_read(stval);
        int fault = -1;
        if (cause == EXC_INSN_PAGE_FAULT || cause == EXC_LOAD_PAGE_FAULT || cause == EXC_STORE_PAGE_FAULT)
            fault = user_fault(p, stval, cause == EXC_STORE_PAGE_FAULT);
        if (fault != 0) {
            kprintf("tinyos: pid %d (%s) killed: %s%s, stval %p, pc %p\n", p->pid, p->name,
                    cause_name(cause), fault == FAULT_NO_MEMORY ? " and out of memory" : "",
                    (void *)stval, (void *)tf->epc);
            exit(-1);
        }
    }
    usertrapret();
}

void usertrapret(void) {
    struct proc *p = myproc();
    arch_intr_off();  /* until sret: a trap now would arrive at uservec with kernel registers */
    csr_write(stvec, (uint64_t)(uintptr_t)uservec);
    uint64_t sstatus = csr_read(sstatus);
    sstatus &= ~SSTATUS_SPP;   /* sret goes to U-mode */
    sstatus |= SSTATUS_SPIE;   /* with interrupts on there */
    csr_write(sstatus, sstatus);
    userret(&p->tf);
}

void kerneltrap(void) {
    uint64_t scause = csr_read(scause);
    uint64_t cause = scause & ~SCAUSE_INTERRUPT;
    if ((scause & SCAUSE_INTERRUPT) && cause == IRQ_S_TIMER) timer_interrupt();
    else if ((scause & SCAUSE_INTERRUPT) && cause == IRQ_S_EXTERNAL) device_interrupt();
    else panic("kernel trap: %s (scause %p), sepc %p, stval %p",
               (scause & SCAUSE_INTERRUPT) ? "interrupt" : cause_name(cause), (void *)scause,
               (void *)csr_read(sepc), (void *)csr_read(stval));
}
