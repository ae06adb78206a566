/* forktest: a tour of process management, each step checking what it prints.
     1. fork is copy-on-write: the child changes a global, a heap and a stack variable, and the
        parent still sees the old values;
     2. exit status reaches wait;
     3. exec replaces the child's program (echo) while the parent waits;
     4. a pipe carries a message from child to parent;
     5. the stack and the heap grow on demand (a deep recursion, a large sbrk);
     6. several children at once, reaped in whatever order they finish;
     7. the timer preempts a process that never gives up the CPU. */
#include "user.h"

static int global = 42;
static int failures;

static void check(int ok, const char *what) {
    if (!ok) failures++;
    printf("forktest: %s: %s\n", what, ok ? "ok" : "FAILED");
}

/* Uses about 1 KiB of stack per level: 300 levels need more than the one page exec maps. */
static uint64_t deep(int level) {
    volatile uint8_t frame[1024];
    frame[0] = (uint8_t)level;
    frame[1023] = (uint8_t)(level >> 1);
    if (level == 0) return frame[0] + frame[1023];
    return deep(level - 1) + frame[0] + frame[1023];
}

int main(void) {
    /* 1, 2: copy-on-write and exit status. */
    int *heap = sbrk(4096);
    *heap = 7;
    int local = 1;
    int pid = fork();
    if (pid == 0) {
        global = 43;
        *heap = 8;
        local = 2;
        exit(global + *heap + local); /* 53 */
    }
    int status = -1;
    check(wait(&status) == pid && status == 53, "child exit status");
    check(global == 42 && *heap == 7 && local == 1, "copy-on-write kept the parent's data");

    /* 3: exec. */
    pid = fork();
    if (pid == 0) {
        char *argv[] = { "echo", "forktest:", "hello", "from", "exec", 0 };
        exec("echo", argv);
        exit(99);
    }
    check(wait(&status) == pid && status == 0, "exec echo");

    /* 4: a pipe. */
    int fds[2];
    check(pipe(fds) == 0, "pipe");
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        write(fds[1], "through the pipe", 16);
        exit(0);
    }
    close(fds[1]);
    char buf[32];
    long got = 0, n;
    while ((n = read(fds[0], buf + got, (long)sizeof buf - 1 - got)) > 0) got += n;
    buf[got] = 0;
    close(fds[0]);
    wait(&status);
    check(strcmp(buf, "through the pipe") == 0, "pipe carried a message");

    /* 5: demand paging of the stack and the heap. */
    uint64_t expect = 0;
    for (int level = 0; level <= 300; level++) expect += (uint8_t)level + (uint8_t)(level >> 1);
    check(deep(300) == expect, "stack grew on demand");
    uint8_t *big = sbrk(1 << 20);
    big[0] = 1;
    big[(1 << 20) - 1] = 2;
    check(big[0] + big[(1 << 20) - 1] == 3 && big[4096 * 100] == 0, "heap grew on demand");

    /* 6: several children. */
    for (int i = 1; i <= 5; i++)
        if (fork() == 0) exit(i);
    int sum = 0;
    for (int i = 0; i < 5; i++) {
        if (wait(&status) < 0) break;
        sum += status;
    }
    check(sum == 15 && wait(&status) < 0, "five children reaped");

    /* 7: a child spins without a system call until a deadline; the parent yields to it. Only
       the timer can bring the parent back before the deadline. 25 ms of guest time is a few
       scheduler ticks (trap.c). */
    uint64_t deadline = rdtime() + 25 * ((uint64_t)timebase() / 1000);
    pid = fork();
    if (pid == 0) {
        while (rdtime() < deadline) {}
        exit(0);
    }
    yield();
    check(rdtime() < deadline, "timer preemption");
    wait(&status);

    printf("forktest: %s\n", failures ? "FAILED" : "all ok");
    return failures;
}
