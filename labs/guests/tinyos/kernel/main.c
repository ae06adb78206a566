/* kmain: the boot sequence, in the order each step depends on the previous one. */
#include "kernel.h"
#include "arch.h"

struct bootinfo boot;
extern char _end[];   /* end of the kernel image, from kernel.ld */

__attribute__((noreturn)) void kmain(uint64_t hartid, const void *fdt) {
    /* 1. Facts about the machine, before any memory is handed out: the allocator may reuse the
       RAM where the firmware left the device tree. */
    boot.hartid = hartid;
    fdt_parse(fdt, &boot);

    /* 2. The arch layer probes the hart (ASIDs) and the firmware. */
    arch_init();
    kprintf("# tinyos: arch %s, hart %lu, %lu MiB RAM, timebase %lu Hz, %u ASID bits\n",
            arch_name(), boot.hartid, boot.ram_size >> 20, boot.timebase, arch_asid_bits());
    kprintf("# tinyos: bootargs \"%s\"\n", boot.bootargs);

    /* 3. Physical memory: every page between the kernel image and the end of RAM. */
    kalloc_init(PAGE_ROUND_UP((uint64_t)(uintptr_t)_end), boot.ram_base + boot.ram_size);

    /* 4. Virtual memory: the kernel's own mappings, then paging on. */
    vm_init();

    /* 5. Traps and devices: the vector, the interrupt controller, the console, the disk. */
    trap_init();
    plic_init();
    uart_init();
    virtio_blk_init();

    /* 6. The first process, and the timer that lets the scheduler preempt it. */
    proc_init();
    user_init(boot.bootargs);
    timer_start();
    scheduler();
}
