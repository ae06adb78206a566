/* The microbenchmarks. `bench NAME [n=N] [pages=P]` runs one and prints, in this order:

     bench=NAME begin                                   just before the timed loop
     bench=NAME end                                     just after it
     bench=NAME iterations=N status=ok checksum=0x...   the result
     # bench=NAME cycles=C instret=I                    what the hart's counters saw

   The host snapshots its own counters when it sees the begin and end lines, so the timing is
   measured from outside. Every line but the "# " one is the same whatever runs the kernel
   (natively, trap-and-emulate, binary translation, para-virtualised, hardware-assisted): the
   checksum is a function of the work only. status is ok, or names what went wrong. */
#include "user.h"

static const char *bench_name;
static uint64_t cycles0, instret0, cycles1, instret1;

static void begin(void) {
    printf("bench=%s begin\n", bench_name);
    cycles0 = rdcycle();
    instret0 = rdinstret();
}

static void end(void) {
    cycles1 = rdcycle();
    instret1 = rdinstret();
    printf("bench=%s end\n", bench_name);
}

static void result(uint64_t n, const char *status, uint64_t checksum) {
    printf("bench=%s iterations=%lu status=%s checksum=0x%016lx\n", bench_name, n, status, checksum);
    printf("# bench=%s cycles=%lu instret=%lu\n", bench_name, cycles1 - cycles0, instret1 - instret0);
}

static uint64_t lcg(uint64_t x) { return x * 6364136223846793005UL + 1442695040888963407UL; }

/* syscall: the null system call. Checksum: how many calls returned the caller's pid. */
static void bench_syscall(uint64_t n) {
    int pid = getpid();
    uint64_t right = 0;
    begin();
    for (uint64_t i = 0; i < n; i++) right += getpid() == pid;
    end();
    result(n, right == n ? "ok" : "wrong-pid", right);
}

/* pagefault: first touches of n fresh heap pages, each a demand-paging fault (a read, which
   maps a zeroed page, then writes to it). */
static void bench_pagefault(uint64_t n) {
    volatile uint64_t *base = sbrk((long)(n * 4096));
    if ((long)base == -1) { begin(); end(); result(n, "no-memory", 0); return; }
    uint64_t sum = 0, dirty = 0;
    begin();
    for (uint64_t i = 0; i < n; i++) {
        volatile uint64_t *page = base + i * 512;
        dirty |= page[0];
        page[0] = i;
        page[511] = ~i;
        sum += page[0] ^ page[511];
    }
    end();
    result(n, dirty ? "not-zeroed" : "ok", sum);
}

/* csr: n writes of sscratch in the kernel; it returns the last value read back, xor n. */
static void bench_csr(uint64_t n) {
    uint64_t x = 1;
    for (uint64_t i = 0; i < n; i++) x = lcg(x);
    uint64_t expected = (n ? x : 0) ^ n;
    begin();
    long got = kbench(KBENCH_CSR, n);
    end();
    /* With n = 0 nothing was written and sscratch holds whatever it held. */
    result(n, n == 0 || (uint64_t)got == expected ? "ok" : "wrong-value", n ? (uint64_t)got : 0);
}

/* ctxsw: a byte goes back and forth between two processes through two pipes; each read that
   finds its pipe empty blocks, so each hop is a switch to the other process (and its page
   table). A round trip is two switches. Checksum: the sum of the bytes that came back. */
static void bench_ctxsw(uint64_t n) {
    int there[2], back[2];
    if (pipe(there) < 0 || pipe(back) < 0) { begin(); end(); result(n, "no-pipe", 0); return; }
    int pid = fork();
    if (pid < 0) { begin(); end(); result(n, "no-fork", 0); return; }
    if (pid == 0) {
        for (uint64_t i = 0; i < n; i++) {
            uint8_t b;
            if (read(there[0], &b, 1) != 1) exit(1);
            b++;
            if (write(back[1], &b, 1) != 1) exit(1);
        }
        exit(0);
    }
    uint64_t sum = 0, wrong = 0;
    begin();
    for (uint64_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)i;
        write(there[1], &b, 1);
        if (read(back[0], &b, 1) != 1) { wrong++; break; }
        wrong += b != (uint8_t)(i + 1);
        sum += b;
    }
    end();
    int status;
    wait(&status);
    result(n, wrong || status ? "wrong-byte" : "ok", sum);
}

/* fork: fork, the child exits at once with a status, the parent waits for it. */
static void bench_fork(uint64_t n) {
    uint64_t sum = 0, wrong = 0;
    begin();
    for (uint64_t i = 0; i < n; i++) {
        int pid = fork();
        if (pid == 0) exit((int)(i & 0x7f));
        if (pid < 0) { wrong++; break; }
        int status = -1;
        if (wait(&status) != pid || status != (int)(i & 0x7f)) wrong++;
        sum += (uint64_t)status;
    }
    end();
    result(n, wrong ? "wrong-status" : "ok", sum);
}

/* pte: map one page, use it, unmap it: a page-table entry written and cleared, with the TLB
   flushes that go with each, per iteration. */
static void bench_pte(uint64_t n) {
    uint64_t sum = 0, wrong = 0;
    begin();
    for (uint64_t i = 0; i < n; i++) {
        volatile uint64_t *va = (volatile uint64_t *)(USER_MAP_BASE + (i % 16) * 4096);
        if (map((void *)va) < 0) { wrong++; break; }
        wrong += va[0] != 0;    /* a fresh page is zeroed */
        va[0] = i * 3;
        sum += va[0];
        if (unmap((void *)va) < 0) { wrong++; break; }
    }
    end();
    result(n, wrong ? "map-failed" : "ok", sum);
}

/* mmio: n reads of the UART's line-status register, in the kernel. */
static void bench_mmio(uint64_t n) {
    begin();
    long idle = kbench(KBENCH_MMIO, n);
    end();
    result(n, (uint64_t)idle == n ? "ok" : "busy-uart", (uint64_t)idle);
}

/* disk: per iteration, read one sector of the fixture made by mkdisk.sh and check its pattern,
   then write a sector of the scratch area and read it back. Disk layout (mkdisk.sh): sectors
   0..1023 hold the pattern, 1024.. are scratch. Every sector starts with its own number. */
#define FIXTURE_SECTORS 1024
#define SCRATCH_SECTORS 64

static void fill(uint8_t *buf, uint64_t sector, uint64_t salt) {
    memcpy(buf, &sector, 8);
    for (int j = 8; j < SECTOR_SIZE; j++) buf[j] = (uint8_t)(sector * 7 + (uint64_t)j + salt);
}

static uint64_t mix(uint64_t sum, const uint8_t *buf) {
    for (int j = 0; j < SECTOR_SIZE; j += 8) {
        uint64_t w;
        memcpy(&w, buf + j, 8);
        sum = (sum ^ w) * 0x100000001b3UL;
    }
    return sum;
}

static void bench_disk(uint64_t n) {
    static uint8_t buf[SECTOR_SIZE], want[SECTOR_SIZE];
    long size = disksize();
    if (size < 0) { begin(); end(); result(n, "no-disk", 0); return; }
    if (size < FIXTURE_SECTORS + SCRATCH_SECTORS) { begin(); end(); result(n, "disk-too-small", 0); return; }
    uint64_t sum = 0xcbf29ce484222325UL;
    const char *status = "ok";
    begin();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t s = (i * 37) % FIXTURE_SECTORS;
        fill(want, s, 0);
        if (blkio(s, buf, 0) < 0) { status = "io-error"; break; }
        if (memcmp(buf, want, SECTOR_SIZE) != 0) { status = "bad-fixture"; break; }
        sum = mix(sum, buf);

        s = FIXTURE_SECTORS + i % SCRATCH_SECTORS;
        fill(want, s, i * 3 + 1);
        if (blkio(s, want, 1) < 0 || blkio(s, buf, 0) < 0) { status = "io-error"; break; }
        if (memcmp(buf, want, SECTOR_SIZE) != 0) { status = "readback-mismatch"; break; }
        sum = mix(sum, buf);
    }
    end();
    result(n, status, sum);
}

/* compute: integer work without a trap: xorshift, multiply, divide. */
static void bench_compute(uint64_t n) {
    uint64_t x = 0x9E3779B97F4A7C15UL, acc = 0;
    begin();
    for (uint64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        acc += x * (i | 1);
        acc ^= acc >> 29;
        acc += x % 1000003;
    }
    end();
    result(n, "ok", acc);
}

/* tlb: n accesses at pseudo-random pages of a working set of `pages` 4 KiB pages (2 MiB by
   default): far more pages than a TLB holds, so most accesses miss and walk the page table.
   The pages are touched before the timed loop, so no page fault lands in it. */
static uint64_t pages = 512;   /* set by pages= */

static void bench_tlb(uint64_t n) {
    if (pages == 0) pages = 1;
    volatile uint64_t *base = sbrk((long)(pages * 4096));
    if ((long)base == -1) { begin(); end(); result(n, "no-memory", 0); return; }
    for (uint64_t p = 0; p < pages; p++) base[p * 512] = p;
    uint64_t x = 12345, sum = 0, wrong = 0;
    begin();
    for (uint64_t i = 0; i < n; i++) {
        x = lcg(x);
        uint64_t p = (x >> 33) % pages;
        volatile uint64_t *page = base + p * 512;
        wrong += page[0] != p;
        page[1 + (x >> 24) % 511] += 1;
        sum += p;
    }
    end();
    result(n, wrong ? "wrong-page" : "ok", sum);
}

/* Default sizes are small, so that a test can run every benchmark in a few seconds. */
struct benchmark { const char *name; uint64_t default_n; void (*run)(uint64_t n); };
static const struct benchmark benchmarks[] = {
    { "syscall", 1000, bench_syscall }, { "pagefault", 256, bench_pagefault },
    { "csr", 1000, bench_csr },         { "ctxsw", 100, bench_ctxsw },
    { "fork", 20, bench_fork },         { "pte", 200, bench_pte },
    { "mmio", 1000, bench_mmio },       { "disk", 8, bench_disk },
    { "compute", 100000, bench_compute }, { "tlb", 4096, bench_tlb },
};

int main(int argc, char **argv) {
    if (argc < 2) { printf("usage: bench NAME [n=N] [pages=P]\n"); return 2; }
    bench_name = argv[1];
    const struct benchmark *b = NULL;
    for (unsigned i = 0; i < sizeof benchmarks / sizeof benchmarks[0]; i++)
        if (strcmp(benchmarks[i].name, argv[1]) == 0) b = &benchmarks[i];
    if (!b) { printf("bench=%s iterations=0 status=unknown-benchmark checksum=0x0\n", argv[1]); return 2; }
    uint64_t n = b->default_n;
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "n=", 2) == 0) n = parse_uint(argv[i] + 2, 0);
        else if (strncmp(argv[i], "pages=", 6) == 0) pages = parse_uint(argv[i] + 6, 0);
    }
    b->run(n);
    return 0;
}
