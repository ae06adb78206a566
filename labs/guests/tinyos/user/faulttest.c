/* faulttest: a program misbehaving on purpose. Bad arguments to system calls must fail with an
   error, and a child that breaks the rules (touches memory it has not got, writes its own code,
   runs a privileged instruction, jumps into data, overflows its stack) must be killed by the
   kernel -- status -1 -- while everything else carries on. The kernel reports each kill on the
   console. */
#include "user.h"

static int failures;

static void check(int ok, const char *what) {
    if (!ok) failures++;
    printf("faulttest: %s: %s\n", what, ok ? "ok" : "FAILED");
}

/* Runs fn in a child and checks that the kernel killed it. */
static void expect_killed(void (*fn)(void), const char *what) {
    int pid = fork();
    if (pid == 0) {
        fn();
        exit(0); /* not reached if the kernel did its job */
    }
    int status = 0;
    check(wait(&status) == pid && status == -1, what);
}

static void null_store(void) { *(volatile int *)0 = 1; }
static void text_store(void) { *(volatile uint32_t *)(uintptr_t)null_store = 0; }
static void privileged(void) { __asm__ volatile("csrw satp, zero"); }
static void jump_to_heap(void) {
    uint32_t *code = sbrk(4096);
    code[0] = 0x00008067; /* ret, but the heap is not executable */
    ((void (*)(void))(uintptr_t)code)();
}
static uint64_t recurse(uint64_t n) {
    volatile uint8_t frame[4096];
    frame[0] = (uint8_t)n;
    if (n > (1 << 20)) return 0;  /* far past the limit; keeps the compiler from objecting */
    return recurse(n + 1) + frame[0];
}
static void stack_overflow(void) { recurse(0); }

int main(void) {
    check(write(1, 0, 10) < 0, "write from a NULL buffer fails");
    int fds[2];
    pipe(fds);
    write(fds[1], "abcd", 4);
    check(read(fds[0], (void *)(uintptr_t)main, 4) < 0, "read into program text fails");
    check(exec("echo", (char *const *)0x1234) < 0, "exec with a bad argv fails");
    check(exec("nosuchprogram", (char *const[]){ "x", 0 }) < 0, "exec of an unknown program fails");
    check((long)sbrk(1L << 40) == -1, "a huge sbrk fails");
    void *va = (void *)USER_MAP_BASE;
    check(map((void *)0x1000) < 0 && map((void *)(USER_MAP_BASE + 1)) < 0, "map outside the window fails");
    check(map(va) == 0 && map(va) < 0 && unmap(va) == 0 && unmap(va) < 0, "map and unmap twice");
    check(blkio(1UL << 40, (void *)USER_MAP_BASE, 0) < 0, "a sector beyond the disk fails");
    check(close(7) < 0 && read(9, fds, 1) < 0, "bad file descriptors fail");

    expect_killed(null_store, "store to address 0 is killed");
    expect_killed(text_store, "store into program text is killed");
    expect_killed(privileged, "csrw satp in user mode is killed");
    expect_killed(jump_to_heap, "executing the heap is killed");
    expect_killed(stack_overflow, "overflowing the 1 MiB stack is killed");

    printf("faulttest: %s\n", failures ? "FAILED" : "all ok");
    return failures;
}
