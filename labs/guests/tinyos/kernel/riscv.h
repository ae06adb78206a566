/* RISC-V facts the kernel needs: CSR access, status and interrupt bits, trap causes, and the Sv39
   page-table entry format. Section numbers refer to the RISC-V Privileged Architecture manual
   (version 20211203). Only the arch layer (arch_*.c) and the trap code use the CSR macros. */
#ifndef TINYOS_RISCV_H
#define TINYOS_RISCV_H
#include <stdint.h>

#define csr_read(csr) ({ uint64_t v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, v) __asm__ volatile("csrw " #csr ", %0" :: "r"((uint64_t)(v)) : "memory")
#define csr_set(csr, v) __asm__ volatile("csrs " #csr ", %0" :: "r"((uint64_t)(v)) : "memory")
#define csr_clear(csr, v) __asm__ volatile("csrc " #csr ", %0" :: "r"((uint64_t)(v)) : "memory")

/* sstatus (4.1.1) */
#define SSTATUS_SIE  (1UL << 1)   /* interrupts enabled in S-mode */
#define SSTATUS_SPIE (1UL << 5)   /* SIE before the trap; sret restores it */
#define SSTATUS_SPP  (1UL << 8)   /* privilege before the trap: 1 = S, 0 = U */

/* sie / sip (4.1.3) */
#define SIE_SSIE (1UL << 1)
#define SIE_STIE (1UL << 5)
#define SIE_SEIE (1UL << 9)

/* scause (4.1.8): the top bit marks interrupts. */
#define SCAUSE_INTERRUPT (1UL << 63)
#define IRQ_S_TIMER      5
#define IRQ_S_EXTERNAL   9
#define EXC_ILLEGAL_INSN 2
#define EXC_ECALL_U      8
#define EXC_INSN_PAGE_FAULT  12
#define EXC_LOAD_PAGE_FAULT  13
#define EXC_STORE_PAGE_FAULT 15

/* satp (4.1.11) */
#define SATP_MODE_SV39 (8UL << 60)
#define SATP_MODE(levels) ((uint64_t)((levels) + 5) << 60)   /* 3 levels: Sv39 (8), 4: Sv48 (9) */
#define SATP_ASID_SHIFT 44
#define SATP_ASID_MASK 0xFFFFUL

/* Sv39 (4.4): 4 KiB pages, three levels of 512 eight-byte entries, 9 index bits per level. */
#define PAGE_SIZE 4096UL
#define PAGE_SHIFT 12
#define PAGE_ROUND_UP(a) (((a) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define PAGE_ROUND_DOWN(a) ((a) & ~(PAGE_SIZE - 1))
#define VPN(va, level) (((uint64_t)(va) >> (PAGE_SHIFT + 9 * (level))) & 0x1FF)

typedef uint64_t pte_t;
typedef pte_t *pagetable_t; /* one 4 KiB page of 512 PTEs */

#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_U (1UL << 4)
#define PTE_G (1UL << 5)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
#define PTE_COW (1UL << 8)   /* one of the two RSW bits, free for software: "copy on write" */
#define PTE_LEAF (PTE_R | PTE_W | PTE_X)
#define PTE_TO_PA(pte) (((pte) >> 10) << PAGE_SHIFT)
#define PA_TO_PTE(pa) (((uint64_t)(pa) >> PAGE_SHIFT) << 10)

#endif
