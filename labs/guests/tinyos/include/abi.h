/* The contract between tinyos and its user programs: system-call numbers, the user address-space
   layout and the kernel-benchmark selectors. Both sides include this one file, so they cannot
   disagree. */
#ifndef TINYOS_ABI_H
#define TINYOS_ABI_H

/* System calls: number in a7, arguments in a0..a5, result in a0 (negative means failure).
   The kernel side is the table in kernel/syscall.c; the user side is user/usys.S. */
#define SYS_exit        1   /* exit(status)                 never returns                     */
#define SYS_fork        2   /* fork()                       child pid, 0 in the child         */
#define SYS_wait        3   /* wait(int *status)            pid of a child that exited        */
#define SYS_exec        4   /* exec(name, argv)             only returns on failure           */
#define SYS_getpid      5   /* getpid()                                                       */
#define SYS_write       6   /* write(fd, buf, n)            bytes written                     */
#define SYS_read        7   /* read(fd, buf, n)             bytes read, 0 at end of file      */
#define SYS_sbrk        8   /* sbrk(n)                      old break; pages arrive on demand */
#define SYS_yield       9   /* yield()                      give the CPU to the next process  */
#define SYS_pipe       10   /* pipe(int fds[2])             fds[0] reads, fds[1] writes       */
#define SYS_close      11   /* close(fd)                                                      */
#define SYS_map        12   /* map(va)                      map one zeroed page at va         */
#define SYS_unmap      13   /* unmap(va)                    unmap and free the page at va     */
#define SYS_blkio      14   /* blkio(sector, buf, write)    one 512-byte sector of the disk   */
#define SYS_kbench     15   /* kbench(kind, n)              a loop inside the kernel          */
#define SYS_halt       16   /* halt(status)                 power the machine off             */
#define SYS_disksize   17   /* disksize()                   sectors, or -1 without a disk     */
#define SYS_timebase   18   /* timebase()                   ticks per second of the time CSR  */

/* kbench kinds: loops that must run in S-mode because what they measure is privileged. */
#define KBENCH_CSR      1   /* write sscratch n times            */
#define KBENCH_MMIO     2   /* read the UART's LSR register n times */

/* The user half of every address space (Sv39, see kernel/vm.c for the whole map):
   0x4000_0000  program text and data, then the heap (grown by sbrk, filled on demand)
   0x6000_0000  the map/unmap window (SYS_map / SYS_unmap)
   0x7FF0_0000  lowest address the stack may grow down to (1 MiB of stack, filled on demand)
   0x8000_0000  top of the stack (exclusive); RAM, mapped for the kernel only, begins here. */
#define USER_BASE      0x40000000UL
#define USER_MAP_BASE  0x60000000UL
#define USER_MAP_TOP   0x70000000UL
#define USER_STACK_TOP 0x80000000UL
#define USER_STACK_MAX (1UL << 20)

#define SECTOR_SIZE 512

#endif
