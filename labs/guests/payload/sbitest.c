/* sbitest: an S-mode program that exercises the SBI a firmware provides, through real interrupts:
   TIME (set_timer raises a supervisor timer interrupt, taken through stvec), IPI (send_ipi to itself
   raises a supervisor software interrupt), HSM (start another hart, which reports back and stops),
   RFENCE on itself, DBCN read, and SRST to finish. It passes with SRST shutdown/no reason; a failure prints why and shuts
   down with reason "system failure". Runs under OpenSBI and vmlab's built-in SBI alike.
   References: RISC-V SBI v2.0 chapters 6 (TIME), 7 (IPI), 9 (HSM), 10 (SRST), 12 (DBCN); privileged
   spec "Supervisor Interrupt Registers (sip and sie)"; RFENCE is SBI v2.0 chapter 8. */
#include <stdint.h>
#include "baremetal.h"

#define SBI_EXT_TIME 0x54494D45L
#define SBI_EXT_IPI 0x735049L
#define SBI_EXT_HSM 0x48534DL
#define SBI_EXT_SRST 0x53525354L
#define SBI_EXT_DBCN 0x4442434EL
#define SBI_EXT_RFENCE 0x52464E43L
#define SBI_EXT_BASE 0x10L
#define SIP_SSIP (1UL << 1)
#define SIP_STIP (1UL << 5)
#define SSTATUS_SIE (1UL << 1)

struct sbiret {
    long error;
    long value;
};

static struct sbiret sbi_call(long eid, long fid, long arg0, long arg1, long arg2) {
    register long a0 __asm__("a0") = arg0;
    register long a1 __asm__("a1") = arg1;
    register long a2 __asm__("a2") = arg2;
    register long a6 __asm__("a6") = fid;
    register long a7 __asm__("a7") = eid;
    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a6), "r"(a7) : "memory");
    struct sbiret ret = {a0, a1};
    return ret;
}

static struct sbiret sbi_call4(long eid, long fid, long arg0, long arg1, long arg2, long arg3) {
    register long a0 __asm__("a0") = arg0;
    register long a1 __asm__("a1") = arg1;
    register long a2 __asm__("a2") = arg2;
    register long a3 __asm__("a3") = arg3;
    register long a6 __asm__("a6") = fid;
    register long a7 __asm__("a7") = eid;
    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a3), "r"(a6), "r"(a7) : "memory");
    struct sbiret ret = {a0, a1};
    return ret;
}

extern char s_trap_entry[], secondary_entry[];
static volatile unsigned long timer_interrupts, software_interrupts;
static volatile unsigned long secondary_report;
static uint64_t secondary_stack[512] __attribute__((aligned(16)));

static void uart_dec(uint64_t v) {
    char digits[21];
    int n = 0;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) uart_putc(digits[--n]);
}

__attribute__((noreturn)) static void finish(const char *failure) {
    if (failure) {
        uart_puts("sbitest: FAIL: ");
        uart_puts(failure);
        uart_puts("\n");
    } else {
        uart_puts("sbitest: all checks passed\n");
    }
    sbi_call(SBI_EXT_SRST, 0, 0, failure ? 1 : 0, 0);
    syscon_exit(failure ? 4 : 5);   /* SRST returned: fail either way (code 5 marks "SRST ignored") */
}

/* Called from s_trap_entry with interrupts disabled (sstatus.SIE cleared by the trap). */
void s_trap(unsigned long scause, unsigned long sepc) {
    (void)sepc;
    if (scause == ((1UL << 63) | 5)) {          /* supervisor timer */
        timer_interrupts++;
        sbi_call(SBI_EXT_TIME, 0, -1L, 0, 0);   /* no next event: clears STIP */
    } else if (scause == ((1UL << 63) | 1)) {   /* supervisor software */
        software_interrupts++;
        __asm__ volatile("csrc sip, %0" : : "r"(SIP_SSIP));
    } else {
        uart_puts("sbitest: unexpected trap, scause ");
        uart_dec(scause);
        uart_puts("\n");
        finish("unexpected trap");
    }
}

void secondary_main(unsigned long hartid, unsigned long opaque) {
    (void)opaque;
    secondary_report = 0x100 + hartid;
    sbi_call(SBI_EXT_HSM, 1, 0, 0, 0);          /* hart_stop: does not return */
    secondary_report = 0xdead;
}

static uint64_t rdtime(void) {
    uint64_t t;
    __asm__ volatile("rdtime %0" : "=r"(t));
    return t;
}

__attribute__((noreturn)) void payload_main(unsigned long hartid, const void *dtb) {
    (void)dtb;
    /* Firmware may boot on any hart (OpenSBI's cold-boot hart is whichever gets there first). */
    if (hartid >= 64) finish("hart id out of range");
    unsigned long other = hartid == 0 ? 1 : 0;
    __asm__ volatile("csrw stvec, %0" : : "r"(s_trap_entry));
    __asm__ volatile("csrs sie, %0" : : "r"(SIP_SSIP | SIP_STIP));
    __asm__ volatile("csrs sstatus, %0" : : "r"(SSTATUS_SIE));

    /* IPI: to ourselves, taken as soon as the call returns. */
    if (sbi_call(SBI_EXT_IPI, 0, 1L << hartid, 0, 0).error != 0) finish("send_ipi failed");
    for (int spin = 0; software_interrupts == 0 && spin < 1000000; spin++) {}
    if (software_interrupts != 1) finish("no supervisor software interrupt after send_ipi");
    uart_puts("sbitest: IPI delivered\n");

    /* TIME: 1 ms ahead (10 MHz timebase); wait for it in WFI. */
    uint64_t start = rdtime();
    if (sbi_call(SBI_EXT_TIME, 0, (long)(start + 10000), 0, 0).error != 0) finish("set_timer failed");
    while (timer_interrupts == 0) __asm__ volatile("wfi");
    uint64_t waited = rdtime() - start;
    if (waited < 10000) finish("the timer interrupt came early");
    uart_puts("sbitest: timer interrupt after ");
    uart_dec(waited);
    uart_puts(" ticks\n");

    /* HSM: start the other hart when the machine has one. */
    struct sbiret status = sbi_call(SBI_EXT_HSM, 2, (long)other, 0, 0);
    if (status.error == 0) {
        if (status.value != 1) finish("the other hart is not stopped before hart_start");
        struct sbiret r = sbi_call(SBI_EXT_HSM, 0, (long)other, (long)(uintptr_t)secondary_entry,
                                   (long)(uintptr_t)(secondary_stack + 512));
        if (r.error != 0) finish("hart_start failed");
        for (int spin = 0; secondary_report == 0 && spin < 10000000; spin++) {}
        if (secondary_report != 0x100 + other) finish("the other hart did not report");
        for (int spin = 0; sbi_call(SBI_EXT_HSM, 2, (long)other, 0, 0).value != 1 && spin < 1000000; spin++) {}
        if (sbi_call(SBI_EXT_HSM, 2, (long)other, 0, 0).value != 1) finish("the other hart did not stop");
        if (sbi_call(SBI_EXT_HSM, 2, 63, 0, 0).error != -3) finish("get_status of a missing hart did not fail");
        uart_puts("sbitest: hart ");
        uart_dec(other);
        uart_puts(" started, reported and stopped\n");
    }

    /* RFENCE on ourselves: fence.i, sfence.vma of one page, and of everything. (A mask naming a
       missing hart is an error only since SBI v2.0; OpenSBI 1.1 ignores it, so it is not checked.) */
    if (sbi_call(SBI_EXT_BASE, 3, SBI_EXT_RFENCE, 0, 0).value == 0) finish("RFENCE is not offered");
    if (sbi_call(SBI_EXT_RFENCE, 0, 1L << hartid, 0, 0).error != 0) finish("remote_fence_i failed");
    if (sbi_call4(SBI_EXT_RFENCE, 1, 1L << hartid, 0, 0x80200000L, 4096).error != 0)
        finish("remote_sfence_vma of one page failed");
    if (sbi_call4(SBI_EXT_RFENCE, 1, 1L << hartid, 0, 0, 0).error != 0)
        finish("remote_sfence_vma of everything failed");
    uart_puts("sbitest: remote fences done\n");

    /* DBCN read with no input pending: zero bytes, when the extension exists. */
    static char buffer[8];
    struct sbiret r = sbi_call(SBI_EXT_DBCN, 1, sizeof buffer, (long)(uintptr_t)buffer, 0);
    if (r.error == 0 && r.value != 0) finish("DBCN read invented input");
    finish(0);
}
