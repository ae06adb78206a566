/* Proves that accesses a device rejects become precise access faults (privileged spec, "Physical
   Memory Attributes"): mcause 5 (load) or 7 (store/AMO), mepc at the faulting instruction, mtval the
   address — after other instructions of the same straight-line code have run, so an engine that
   runs code in blocks must still report the exact instruction. Rejected accesses: a 1-byte PLIC
   read, a 2-byte CLINT mtime read, a read past the UART's eight registers, an 8-byte finisher read,
   and a 1-byte finisher write. Exit 0 when every fault was precise. */
#include "devices.h"

static volatile uint64_t seen_cause, seen_epc, seen_tval, traps;

__attribute__((interrupt("machine"), aligned(4))) static void trap(void) {
    uint64_t epc;
    __asm__ volatile("csrr %0, mepc" : "=r"(epc));
    __asm__ volatile("csrr %0, mcause" : "=r"(seen_cause));
    __asm__ volatile("csrr %0, mtval" : "=r"(seen_tval));
    seen_epc = epc;
    traps++;
    uint16_t insn = *(volatile uint16_t *)epc;
    epc += (insn & 3) == 3 ? 4 : 2;
    __asm__ volatile("csrw mepc, %0" :: "r"(epc));
}

/* Each probe runs a few instructions, then the access, at a label whose address it returns. */
#define PROBE(name, insn)                                                             \
    static uint64_t name(uintptr_t a, uint64_t *at) {                                 \
        uint64_t v = 0, pc;                                                           \
        __asm__ volatile("addi %0, zero, 1\n\taddi %0, %0, 2\n\taddi %0, %0, 3\n"    \
                         "1:\t" insn "\n\tla %1, 1b"                                   \
                         : "+&r"(v), "=&r"(pc) : "r"(a) : "memory");                  \
        *at = pc;                                                                     \
        return v;                                                                     \
    }
PROBE(load8, "lbu %0, 0(%2)")
PROBE(load16, "lhu %0, 0(%2)")
PROBE(load64, "ld %0, 0(%2)")
PROBE(store8, "sb zero, 0(%2)")

static void expect_fault(const char *what, uint64_t (*probe)(uintptr_t, uint64_t *), uintptr_t a,
                         uint64_t cause, int *failures) {
    uint64_t before = traps, at = 0;
    (void)probe(a, &at);
    int ok = traps == before + 1 && seen_cause == cause && seen_epc == at && seen_tval == a;
    check(ok, what, failures);
    if (!ok) {
        uart_puts("    traps "); put_dec(traps - before); uart_puts(" cause "); put_dec(seen_cause);
        uart_puts(" mepc "); put_hex(seen_epc, 8); uart_puts(" (insn at "); put_hex(at, 8);
        uart_puts(") mtval "); put_hex(seen_tval, 8); uart_putc('\n');
    }
}

int main(void) {
    int failures = 0;
    enable_fpu();
    __asm__ volatile("csrw mtvec, %0" :: "r"((uintptr_t)trap));
    uart_puts("mmio_access_fault: precise access faults from rejecting devices\n");
    expect_fault("1-byte PLIC read faults at the load", load8, PLIC_PRIORITY(1), 5, &failures);
    expect_fault("2-byte CLINT mtime read faults at the load", load16, CLINT_MTIME, 5, &failures);
    expect_fault("read past the UART registers faults", load8, UART0_BASE + 8, 5, &failures);
    expect_fault("8-byte finisher read faults", load64, SYSCON_BASE, 5, &failures);
    expect_fault("1-byte finisher write faults at the store", store8, SYSCON_BASE, 7, &failures);
    uint64_t at;
    uint64_t before = traps;
    (void)load8(UART0_BASE + 5, &at);
    check(traps == before, "an accepted access does not fault", &failures);
    uart_puts(failures ? "mmio_access_fault: FAILED\n" : "mmio_access_fault: PASS\n");
    return failures;
}
