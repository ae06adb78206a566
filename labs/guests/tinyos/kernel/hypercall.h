/* vmlab's para-virtual hypercall ABI, in C (Sources/Hypervisor/Hypervisor.docc/HypercallABI.md is
   the reference; Sources/Hypervisor/Paravirtual/HypercallABI.swift the VMM's side).

   A hypercall is an SBI call to vmlab's own extension (SBI spec 2.0, chapter 3): ecall from
   S-mode with a7 = VMLAB_PV_EXT, a6 = the hypercall number, a0..a5 the arguments. The VMM
   answers a0 = 0 or a negative SBI error code, a1 = a value. Addresses are guest-physical. */
#ifndef TINYOS_HYPERCALL_H
#define TINYOS_HYPERCALL_H
#include <stdint.h>

#define VMLAB_PV_EXT 0x0A564D4C   /* SBI "firmware specific" extension space 0x0A000000-0x0AFFFFFF */

enum hypercall {
    HC_DOMAIN_INFO = 0,          /* a0 = selector (DI_*)                     -> value          */
    HC_MMU_UPDATE = 1,           /* a0 = list, a1 = count (<= batch limit)   -> applied        */
    HC_PIN_TABLE = 2,            /* a0 = root page table, a1 = levels (0 or 3: Sv39, 4: Sv48)  */
    HC_UNPIN_TABLE = 3,          /* a0 = pinned root                                           */
    HC_SET_SATP = 4,             /* a0 = satp (Bare, Sv39 or Sv48, pinned root), a1 = 1: flush */
    HC_TLB_FLUSH = 5,            /* a0 = va or ~0 (all), a1 = asid or ~0 (all)                 */
    HC_MULTICALL = 6,            /* a0 = list of struct multicall_entry, a1 = count (<= 64)   */
    HC_REGISTER_SHARED_INFO = 7, /* a0 = page for struct vmlab_shared_info                     */
    HC_SET_TIMER = 8,            /* a0 = deadline in time ticks (~0: cancel)                  */
    HC_CONSOLE_WRITE = 9,        /* a0 = buffer, a1 = length (<= 4096)      -> bytes written  */
    HC_EVTCHN_ALLOC = 10,        /*                                          -> port           */
    HC_EVTCHN_BIND = 11,         /* a0 = port, a1 = EVTSRC_*                                   */
    HC_EVTCHN_NOTIFY = 12,       /* a0 = port                                                  */
    HC_EVTCHN_UNMASK = 13,       /* a0 = port                                                  */
    HC_EVTCHN_CLOSE = 14,        /* a0 = port                                                  */
    HC_YIELD = 15,
    HC_BLOCK = 16,               /*                                -> 1 if an event is pending */
    HC_GRANT_ACCESS = 17,        /* a0 = frame, a1 = 1: read-only            -> grant reference */
    HC_GRANT_REVOKE = 18,        /* a0 = grant reference                                       */
    HC_BLOCK_CONNECT = 19,       /* a0 = grant reference of the block request ring             */
};

enum domain_info { DI_DOMAIN_ID, DI_RAM_BASE, DI_RAM_SIZE, DI_BATCH_LIMIT, DI_ABI_VERSION, DI_VCPUS,
                   DI_SHARED_INFO, DI_ASID_BITS };
enum event_source { EVTSRC_UNBOUND, EVTSRC_TIMER, EVTSRC_CONSOLE, EVTSRC_BLOCK };

/* Errors (SBI v2.0 standard error codes, with the hypercall ABI's meanings). */
#define HC_ENOTSUPP  (-2)   /* unknown hypercall or selector                                  */
#define HC_EINVAL    (-3)   /* malformed: alignment, reserved PTE bits, count over the limit */
#define HC_EDENIED   (-4)   /* policy: page table mapped writable, unvalidated root, foreign port */
#define HC_EADDR     (-5)   /* an address outside the VM                                     */
#define HC_EALREADY  (-6)   /* already pinned / bound                                        */
#define HC_ESTATE    (-10)  /* wrong state: not pinned, root in use, table at another level  */

struct mmu_update { uint64_t ptr; uint64_t val; };   /* the PTE at ptr becomes val */

struct multicall_entry { uint64_t op; uint64_t args[5]; uint64_t error; uint64_t value; };

/* The shared info page (SharedInfo.swift). */
struct vmlab_shared_info {
    volatile uint64_t pending;         /* bit p: port p has an event                 */
    volatile uint64_t mask;            /* bit p: port p is masked                    */
    volatile uint8_t upcall_pending;   /* an unmasked event is pending               */
    volatile uint8_t upcall_mask;      /* virtual interrupts masked (no hypercall)   */
    uint8_t pad[6];
    volatile uint64_t time;            /* time CSR at the VMM's last entry           */
};

struct hcret { long error; unsigned long value; };

static inline struct hcret hypercall(long number, unsigned long a0, unsigned long a1) {
    register unsigned long r_a0 __asm__("a0") = a0;
    register unsigned long r_a1 __asm__("a1") = a1;
    register long r_a6 __asm__("a6") = number;
    register long r_a7 __asm__("a7") = VMLAB_PV_EXT;
    __asm__ volatile("ecall" : "+r"(r_a0), "+r"(r_a1) : "r"(r_a6), "r"(r_a7) : "memory");
    return (struct hcret){ (long)r_a0, r_a1 };
}

#endif
