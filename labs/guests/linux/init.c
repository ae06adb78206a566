// The first (and only) user program of the Linux smoke test (scripts/check-linux): built with the
// toolchain's clang for riscv64 Linux, with no C library (system calls by number, the generic table
// RISC-V Linux uses), and packed into the kernel's initramfs as /init.
//
// It checks what a kernel needs from the machine once it is up: page faults and copy-on-write
// (fork, then every child touches pages of its own), the FPU's state kept per process across
// context switches, atomics on memory shared between harts (children pinned to every CPU), the
// timer (a sleep), and /proc. With a virtio-blk disk attached (/dev/vda) it also reads the test
// pattern scripts/check-linux wrote on it and writes a sector back, flushed, for the script to find
// in the file; with virtio-net cards (eth0...) it sends Ethernet frames from each and waits until
// each has heard one from another card; with a virtio-rng it draws entropy (/dev/hwrng), with a
// virtio-console it writes a line through it (/dev/hvc1); told to on the kernel command line, it
// reads a line from the console. It prints what it finds, then powers the machine off (vmlab exits
// 0) or, when a check failed, restarts it (vmlab exits 1: "the guest reset the machine").
typedef unsigned long u64;
typedef long i64;

enum {
    SYS_dup3 = 24, SYS_ioctl = 29, SYS_mount = 40, SYS_openat = 56, SYS_close = 57, SYS_read = 63,
    SYS_write = 64, SYS_pread64 = 67, SYS_pwrite64 = 68, SYS_fsync = 82, SYS_exit = 93,
    SYS_nanosleep = 101, SYS_clock_gettime = 113, SYS_sched_setaffinity = 122, SYS_sched_yield = 124,
    SYS_reboot = 142, SYS_getpid = 172, SYS_socket = 198, SYS_bind = 200, SYS_sendto = 206,
    SYS_recvfrom = 207, SYS_munmap = 215, SYS_clone = 220, SYS_mmap = 222, SYS_wait4 = 260,
};

static i64 syscall6(i64 n, i64 a, i64 b, i64 c, i64 d, i64 e, i64 f) {
    register i64 a0 __asm__("a0") = a;
    register i64 a1 __asm__("a1") = b;
    register i64 a2 __asm__("a2") = c;
    register i64 a3 __asm__("a3") = d;
    register i64 a4 __asm__("a4") = e;
    register i64 a5 __asm__("a5") = f;
    register i64 a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7) : "memory");
    return a0;
}
#define SYS(n, ...) syscall6_args(n, __VA_ARGS__, 0, 0, 0, 0, 0, 0)
#define syscall6_args(n, a, b, c, d, e, f, ...) syscall6(n, (i64)(a), (i64)(b), (i64)(c), (i64)(d), (i64)(e), (i64)(f))

// clang zeroes a large local (the network check's) with a call to memset, even freestanding. The
// volatile store keeps it from turning this loop into that call.
void *memset(void *destination, int value, unsigned long count) {
    volatile unsigned char *p = destination;
    while (count--) *p++ = (unsigned char)value;
    return destination;
}

static u64 length(const char *s) { u64 n = 0; while (s[n]) n++; return n; }
static void print(const char *s) { SYS(SYS_write, 1, s, length(s)); }
static void print_number(u64 v) {
    char digits[24];
    int i = 23;
    digits[i] = 0;
    do { digits[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    print(digits + i);
}
static void print_hex(u64 v) {
    char digits[19] = "0x";
    for (int i = 0; i < 16; i++) digits[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
    digits[18] = 0;
    print(digits);
}

static int failures;
static void check(int ok, const char *what) {
    print(ok ? "init: ok   " : "init: FAIL ");
    print(what);
    print("\n");
    if (!ok) failures++;
}

static char file_buffer[8192];
/// The whole of a small file (/proc), NUL-terminated; its length, or -1.
static i64 read_file(const char *path) {
    i64 fd = SYS(SYS_openat, -100, path, 0, 0);
    if (fd < 0) return -1;
    i64 total = 0, n;
    while (total < (i64)sizeof file_buffer - 1 &&
           (n = SYS(SYS_read, fd, file_buffer + total, sizeof file_buffer - 1 - total)) > 0) total += n;
    SYS(SYS_close, fd);
    file_buffer[total] = 0;
    return total;
}
static int equal(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}
static int starts_with(const char *s, const char *prefix) {
    while (*prefix) if (*s++ != *prefix++) return 0;
    return 1;
}
/// Lines of file_buffer that start with `prefix`.
static int count_lines(const char *prefix) {
    int count = 0;
    for (const char *line = file_buffer; *line;) {
        if (starts_with(line, prefix)) count++;
        while (*line && *line != '\n') line++;
        if (*line) line++;
    }
    return count;
}

// What each child computes, and the parent again to check it: a hash over pages the child touched
// (each a fresh page fault, in a copy-on-write bss after fork), and a floating-point sum whose
// partial results stay in FPU registers across the yields between its steps.
#define PAGES 64
static unsigned char pages[PAGES * 4096];

static u64 page_hash(u64 seed) {
    u64 hash = 0xcbf29ce484222325ull ^ seed;
    for (u64 i = 0; i < sizeof pages; i += 4096) {
        pages[i] = (unsigned char)(seed + i / 4096);
        pages[i + 4095] = (unsigned char)(seed * 7 + i / 4096);
    }
    for (u64 i = 0; i < sizeof pages; i += 4096) {
        hash = (hash ^ pages[i]) * 0x100000001b3ull;
        hash = (hash ^ pages[i + 4095]) * 0x100000001b3ull;
    }
    return hash;
}

static u64 fp_sum(u64 seed, int yield) {
    double sum = 0, product = 1;
    for (u64 k = 1; k <= 2000; k++) {
        sum += 1.0 / (double)(k + seed);
        product *= 1.0 + 1.0 / (double)(k * k + seed);
        if (yield && k % 200 == 0) SYS(SYS_sched_yield, 0);
    }
    union { double d; u64 u; } a = { sum }, b = { product };
    return a.u ^ (b.u << 1);
}

struct shared {
    unsigned counter;
    u64 results[16];
};

#define CHILDREN 8
#define INCREMENTS 2000

static void child(struct shared *shared, int index, int cpus) {
    u64 mask = 1ull << (index % cpus);
    SYS(SYS_sched_setaffinity, 0, sizeof mask, &mask);
    u64 result = page_hash((u64)index) ^ fp_sum((u64)index, 1);
    for (int i = 0; i < INCREMENTS; i++) __atomic_fetch_add(&shared->counter, 1, __ATOMIC_RELAXED);
    shared->results[index] = result;
    SYS(SYS_exit, 0);
}

static void finish(void) {
    if (failures == 0) {
        print("init: all checks passed; powering off\n");
        SYS(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc /* LINUX_REBOOT_CMD_POWER_OFF */, 0);
    } else {
        print("init: ");
        print_number((u64)failures);
        print(" check(s) failed; restarting\n");
        SYS(SYS_reboot, 0xfee1dead, 672274793, 0x01234567 /* LINUX_REBOOT_CMD_RESTART */, 0);
    }
    for (;;) {}
}

// The disk scripts/check-linux makes: DISK_BYTES bytes, byte i = disk_pattern(i), but for the
// signature at offset 0; /init writes DISK_REPLY at DISK_REPLY_AT.
#define DISK_BYTES (64 * 1024)
#define DISK_SIGNATURE "vmlab disk for Linux\n"
#define DISK_REPLY "written by Linux through virtio-blk\n"
#define DISK_REPLY_AT 8192
static unsigned char disk_pattern(u64 i) { return (unsigned char)(i * 7 + 3); }
static unsigned char sectors[DISK_BYTES];

/// Reads the whole test disk through the block layer (every byte from the device: nothing but
/// the kernel's partition scan has read it before), then writes a sector and flushes it
/// (VIRTIO_BLK_T_OUT, then _FLUSH). A disk without the signature is someone else's: it is left
/// alone, neither checked nor written.
static void disk(void) {
    i64 fd = SYS(SYS_openat, -100 /* AT_FDCWD */, "/dev/vda", 2 /* O_RDWR */, 0);
    if (fd < 0) {
        print("init: no disk (/dev/vda)\n");
        return;
    }
    i64 got = SYS(SYS_pread64, fd, sectors, DISK_BYTES, 0);
    u64 signature = length(DISK_SIGNATURE), wrong = 0;
    for (u64 i = 0; i < signature; i++) wrong += got < (i64)signature || sectors[i] != (unsigned char)DISK_SIGNATURE[i];
    if (wrong) {
        print("init: /dev/vda is not the test disk (no signature): left alone\n");
        SYS(SYS_close, fd);
        return;
    }
    for (u64 i = 0; i < DISK_BYTES; i++) {
        unsigned char expected = i < signature ? (unsigned char)DISK_SIGNATURE[i] : disk_pattern(i);
        wrong += sectors[i] != expected;
    }
    check(got == DISK_BYTES && wrong == 0, "/dev/vda: 128 sectors read, the test pattern in each");
    unsigned char reply[512];
    for (u64 i = 0; i < sizeof reply; i++) reply[i] = i < length(DISK_REPLY) ? (unsigned char)DISK_REPLY[i] : 0;
    i64 wrote = SYS(SYS_pwrite64, fd, reply, sizeof reply, DISK_REPLY_AT);
    check(wrote == (i64)sizeof reply && SYS(SYS_fsync, fd) == 0, "/dev/vda: a sector written and flushed");
    SYS(SYS_close, fd);
}

// Every virtio-net card (eth0, eth1...) is brought up and gets a packet socket for the test's
// ethertype (0x88B5, IEEE's local experimental one, as labs/guests/devices/virtio_net.c uses). Each
// round, every card broadcasts a frame naming its address, then takes what has arrived; a card
// passes once it has heard a frame from another address: a second card of this machine on the same
// switch, or another VM's. After every card has heard one, a few more rounds go out so that a
// slower peer hears this machine too. A card that hears nothing in NET_ROUNDS rounds of 10 ms
// (about two seconds of guest time) fails. Without INET in the kernel there is no other traffic.
#define MAX_CARDS 4
#define NET_ROUNDS 200
#define NET_EXTRA_ROUNDS 10
#define ETHERTYPE 0x88B5
enum {
    AF_PACKET = 17, SOCK_RAW = 3, MSG_DONTWAIT = 0x40, IFF_UP = 1,
    SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914, SIOCGIFHWADDR = 0x8927, SIOCGIFINDEX = 0x8933,
};
struct ifreq {                            // <linux/if.h>: a name, then a 24-byte union
    char name[16];
    union {
        struct { unsigned short family; unsigned char data[14]; } hwaddr;
        short flags;
        int index;
        char size[24];
    } u;
};
struct sockaddr_ll {                      // <linux/if_packet.h>
    unsigned short family, protocol;      // protocol in network byte order
    int ifindex;
    unsigned short hatype;
    unsigned char pkttype, halen, addr[8];
};
struct card {
    i64 socket;
    unsigned char mac[6], peer[6];
    int heard;
    u64 sent, received;
};
static unsigned short network_order(unsigned short v) { return (unsigned short)(v >> 8 | v << 8); }
static int same_mac(const unsigned char *a, const unsigned char *b) {
    for (int i = 0; i < 6; i++) if (a[i] != b[i]) return 0;
    return 1;
}
static void print_mac(const unsigned char *mac) {
    char text[18];
    for (int i = 0; i < 6; i++) {
        text[3 * i] = "0123456789abcdef"[mac[i] >> 4];
        text[3 * i + 1] = "0123456789abcdef"[mac[i] & 15];
        text[3 * i + 2] = i < 5 ? ':' : 0;
    }
    print(text);
}

/// Opens card `n` (eth<n>): up, its address read, a packet socket bound to it. 0 when there is no
/// such card.
static int open_card(i64 control, int n, struct card *card) {
    struct ifreq request = { .name = { 'e', 't', 'h', (char)('0' + n) } };
    if (SYS(SYS_ioctl, control, SIOCGIFINDEX, &request) < 0) return 0;
    int index = request.u.index;
    check(SYS(SYS_ioctl, control, SIOCGIFHWADDR, &request) == 0, "read a card's address (SIOCGIFHWADDR)");
    for (int i = 0; i < 6; i++) card->mac[i] = request.u.hwaddr.data[i];
    check(SYS(SYS_ioctl, control, SIOCGIFFLAGS, &request) == 0, "read a card's flags");
    request.u.flags |= IFF_UP;
    check(SYS(SYS_ioctl, control, SIOCSIFFLAGS, &request) == 0, "bring a card up");
    card->socket = SYS(SYS_socket, AF_PACKET, SOCK_RAW, network_order(ETHERTYPE));
    struct sockaddr_ll address = { .family = AF_PACKET, .protocol = network_order(ETHERTYPE), .ifindex = index };
    check(card->socket >= 0 && SYS(SYS_bind, card->socket, &address, sizeof address) == 0,
          "a packet socket bound to the card");
    return 1;
}

static void network(void) {
    struct card cards[MAX_CARDS] = { 0 };
    i64 control = SYS(SYS_socket, AF_PACKET, SOCK_RAW, 0);    // protocol 0: receives nothing
    if (control < 0) {
        print("init: no packet sockets (a kernel without networking)\n");
        return;
    }
    int count = 0;
    while (count < MAX_CARDS && open_card(control, count, &cards[count])) count++;
    SYS(SYS_close, control);
    if (count == 0) {
        print("init: no network card\n");
        return;
    }
    unsigned char frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };   // broadcast; 60: the minimum
    frame[12] = ETHERTYPE >> 8;
    frame[13] = ETHERTYPE & 0xff;
    const char *greeting = "hello from Linux on vmlab";
    for (u64 i = 0; i < length(greeting); i++) frame[14 + i] = (unsigned char)greeting[i];
    int rounds = 0, extra = 0;
    for (; rounds < NET_ROUNDS && extra < NET_EXTRA_ROUNDS; rounds++) {
        for (int c = 0; c < count; c++) {
            for (int i = 0; i < 6; i++) frame[6 + i] = cards[c].mac[i];
            if (SYS(SYS_sendto, cards[c].socket, frame, sizeof frame, 0, 0, 0) == (i64)sizeof frame) cards[c].sent++;
        }
        int all = 1;
        for (int c = 0; c < count; c++) {
            unsigned char got[1514];
            i64 n;
            while ((n = SYS(SYS_recvfrom, cards[c].socket, got, sizeof got, MSG_DONTWAIT, 0, 0)) >= 14) {
                if (same_mac(got + 6, cards[c].mac)) continue;
                cards[c].received++;
                if (!cards[c].heard) for (int i = 0; i < 6; i++) cards[c].peer[i] = got[6 + i];
                cards[c].heard = 1;
            }
            all &= cards[c].heard;
        }
        if (all) extra++;
        i64 pause[2] = { 0, 10 * 1000 * 1000 };
        SYS(SYS_nanosleep, pause, 0);
    }
    for (int c = 0; c < count; c++) {
        print("init: eth");
        print_number((u64)c);
        print(" (");
        print_mac(cards[c].mac);
        print(") sent ");
        print_number(cards[c].sent);
        print(" frames, received ");
        print_number(cards[c].received);
        if (cards[c].heard) {
            print(", the first from ");
            print_mac(cards[c].peer);
        }
        print("\n");
        char what[] = "ethN: a frame from another card, through virtio-net";
        what[3] = (char)('0' + c);
        check(cards[c].heard, what);
        SYS(SYS_close, cards[c].socket);
    }
}

// The virtio-rng, through the hw_random core: two draws of 64 bytes, which must differ and not be
// all zero (vmlab's stream is seeded, so the bytes are the same in every run with that seed). The
// core's /dev/hwrng exists without a device too; reading it then fails with ENODEV.
static void entropy(void) {
    i64 fd = SYS(SYS_openat, -100, "/dev/hwrng", 0 /* O_RDONLY */, 0);
    unsigned char draws[2][64];
    i64 first = fd < 0 ? fd : SYS(SYS_read, fd, draws[0], 64);
    if (first == -19 /* ENODEV */ || fd < 0) {
        print("init: no hardware RNG (/dev/hwrng)\n");
        if (fd >= 0) SYS(SYS_close, fd);
        return;
    }
    int full = 1, zero = 1, same = 1;
    for (int d = 0; d < 2; d++) {
        i64 got = d == 0 && first > 0 ? first : 0, n;
        while (got < 64 && (n = SYS(SYS_read, fd, draws[d] + got, 64 - got)) > 0) got += n;
        full &= got == 64;
    }
    for (int i = 0; i < 64; i++) {
        zero &= draws[0][i] == 0 && draws[1][i] == 0;
        same &= draws[0][i] == draws[1][i];
    }
    SYS(SYS_close, fd);
    check(full && !zero && !same, "/dev/hwrng: two draws of 64 bytes from virtio-rng, different, not zero");
}

// The virtio-console's port 0 is an hvc console after the SBI's (hvc0): /dev/hvc1 exists only when
// the machine has one. The line goes to vmlab's console capture like the UART's output;
// scripts/check-linux looks for it.
#define VIRTIO_CONSOLE_LINE "init: this line went through virtio-console\n"
static void virtio_console(void) {
    i64 fd = SYS(SYS_openat, -100, "/dev/hvc1", 1 /* O_WRONLY */ | 0x100 /* O_NOCTTY */, 0);
    if (fd < 0) {
        print("init: no virtio-console (/dev/hvc1)\n");
        return;
    }
    i64 wrote = SYS(SYS_write, fd, VIRTIO_CONSOLE_LINE, length(VIRTIO_CONSOLE_LINE));
    SYS(SYS_close, fd);
    check(wrote == (i64)length(VIRTIO_CONSOLE_LINE), "/dev/hvc1: a line written to virtio-console");
}

// With `read-console` on the kernel command line (the kernel hands init the words it does not
// know as arguments), /init reads one line from its console, the 16550 through Linux's 8250
// driver and tty layer, and checks it is CONSOLE_LINE, whole: scripts/check-linux feeds it on
// vmlab's standard input before the kernel has started, so no byte may be lost on the way.
#define CONSOLE_LINE "a line typed at the console\n"
static void console_line(void) {
    char line[128];
    u64 got = 0;
    print("init: reading a line from the console\n");
    while (got < sizeof line - 1) {
        i64 n = SYS(SYS_read, 0, line + got, sizeof line - 1 - got);
        if (n <= 0) break;
        got += (u64)n;
        if (line[got - 1] == '\n') break;
    }
    line[got] = 0;
    print("init: the console said: ");
    print(line);
    if (got == 0 || line[got - 1] != '\n') print("\n");
    check(got == length(CONSOLE_LINE) && equal(line, CONSOLE_LINE),
          "console input: the line fed on standard input, every byte");
}

static int has_argument(int argc, char **argv, const char *word) {
    for (int i = 1; i < argc; i++) if (equal(argv[i], word)) return 1;
    return 0;
}

void start(i64 *stack) {
    int argc = (int)stack[0];
    char **argv = (char **)(stack + 1);
    print("init: hello from user space, pid ");
    print_number((u64)SYS(SYS_getpid, 0));
    print("\n");

    check(SYS(SYS_mount, "proc", "/proc", "proc", 0, 0) == 0, "mount /proc");
    int cpus = 0;
    if (read_file("/proc/cpuinfo") > 0) {
        cpus = count_lines("processor");
        print(file_buffer);
    }
    check(cpus >= 1 && cpus <= 64, "/proc/cpuinfo lists the harts");
    if (cpus < 1) cpus = 1;
    if (read_file("/proc/version") > 0) print(file_buffer);

    struct shared *shared = (struct shared *)SYS(SYS_mmap, 0, 4096, 3 /* read, write */,
                                                 0x21 /* MAP_SHARED | MAP_ANONYMOUS */, -1, 0);
    check((i64)shared > 0 || (i64)shared < -4096, "mmap a shared page");

    i64 pids[CHILDREN];
    for (int i = 0; i < CHILDREN; i++) {
        pids[i] = SYS(SYS_clone, 17 /* SIGCHLD */, 0, 0, 0, 0);
        if (pids[i] == 0) child(shared, i, cpus);
    }
    // The parent's own FP work runs while the children run theirs.
    u64 parent_fp = fp_sum(100, 1);
    int exited = 0;
    for (int i = 0; i < CHILDREN; i++) {
        int status = -1;
        if (SYS(SYS_wait4, pids[i], &status, 0, 0) == pids[i] && status == 0) exited++;
    }
    check(exited == CHILDREN, "fork: every child ran and exited with 0");
    int right = 0;
    for (int i = 0; i < CHILDREN; i++) right += shared->results[i] == (page_hash((u64)i) ^ fp_sum((u64)i, 0));
    check(right == CHILDREN, "each child's page hash and FP sum, as the parent computes them");
    check(parent_fp == fp_sum(100, 0), "the parent's FP state survived the context switches");
    check(shared->counter == CHILDREN * INCREMENTS, "atomic increments from every hart add up");
    print("init: ");
    print_number(shared->counter);
    print(" increments from ");
    print_number(CHILDREN);
    print(" children on ");
    print_number((u64)cpus);
    print(" hart(s); result of child 0: ");
    print_hex(shared->results[0]);
    print("\n");
    SYS(SYS_munmap, shared, 4096);

    i64 before[2], after[2];
    i64 request[2] = { 0, 20 * 1000 * 1000 };   // 20 ms
    SYS(SYS_clock_gettime, 1 /* CLOCK_MONOTONIC */, before);
    i64 slept = SYS(SYS_nanosleep, request, 0);
    SYS(SYS_clock_gettime, 1, after);
    u64 elapsed = (u64)((after[0] - before[0]) * 1000000000 + (after[1] - before[1]));
    check(slept == 0 && elapsed >= 20 * 1000 * 1000, "nanosleep 20 ms (the timer wakes the sleeper)");
    print("init: slept ");
    print_number(elapsed / 1000);
    print(" us of guest time\n");

    // devtmpfs names the disk (the initramfs has /dev, holding only the console).
    if (SYS(SYS_mount, "devtmpfs", "/dev", "devtmpfs", 0, 0) == 0) {
        disk();
        entropy();
        virtio_console();
    } else {
        print("init: no devtmpfs\n");
    }
    network();

    if (has_argument(argc, argv, "read-console")) console_line();

    if (read_file("/proc/interrupts") > 0) print(file_buffer);
    finish();
}

// The kernel enters with sp at argc (then argv); start gets that address, on a 16-byte aligned
// stack for the C code.
__asm__(".globl _start\n_start:\n  mv a0, sp\n  andi sp, sp, -16\n  call start\n  j .\n");
