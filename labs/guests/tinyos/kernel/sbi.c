/* SBI calls (SBI specification 2.0). The firmware runs in M-mode; the ecall traps to it and it
   returns with an error code in a0 and a value in a1. */
#include "sbi.h"

struct sbiret sbi_call(long ext, long fid, long a0, long a1, long a2) {
    register long r_a0 __asm__("a0") = a0;
    register long r_a1 __asm__("a1") = a1;
    register long r_a2 __asm__("a2") = a2;
    register long r_a6 __asm__("a6") = fid;
    register long r_a7 __asm__("a7") = ext;
    __asm__ volatile("ecall" : "+r"(r_a0), "+r"(r_a1) : "r"(r_a2), "r"(r_a6), "r"(r_a7) : "memory");
    return (struct sbiret){ r_a0, r_a1 };
}

/* Base extension, sbi_probe_extension (chapter 4): value 0 means "not implemented". */
int sbi_probe(long ext) {
    struct sbiret r = sbi_call(SBI_EXT_BASE, 3, ext, 0, 0);
    return r.error == 0 && r.value != 0;
}

static int have_time_extension = -1; /* not probed yet */

/* Timer extension (chapter 6); firmware without it still has the legacy call (chapter 5). The
   call also clears the pending supervisor timer interrupt. */
void sbi_set_timer(uint64_t when) {
    if (have_time_extension < 0) have_time_extension = sbi_probe(SBI_EXT_TIME);
    if (have_time_extension) sbi_call(SBI_EXT_TIME, 0, (long)when, 0, 0);
    else sbi_call(SBI_EXT_LEGACY_SET_TIMER, 0, (long)when, 0, 0);
}

/* System reset extension (chapter 10): type 0 is shutdown. Returns only on failure. */
void sbi_system_reset(uint32_t type, uint32_t reason) {
    if (!sbi_probe(SBI_EXT_SRST)) return;
    sbi_call(SBI_EXT_SRST, 0, type, reason, 0);
}
