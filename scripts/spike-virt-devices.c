/* spike-virt-devices.c — the two QEMU-virt devices vmlab's bare-metal guests talk to, as an MMIO
 * plugin for Spike (riscv-isa-sim), so that scripts/bench can run the same ELF files under Spike,
 * the reference interpreter issue #3 quotes, without a Spike-only build of each guest:
 *
 *   sifive_test  the test finisher: a 32-bit store of 0x5555 (pass) or 0x7777 (reset) ends Spike
 *                with status 0, (code << 16) | 0x3333 with status `code`;
 *   ns16550      the transmit side of a 16550 UART: bytes stored at offset 0 go to stdout, and the
 *                line status register (offset 5) always reads "transmitter empty".
 *
 * Built by scripts/bench (`cc -shared -fPIC`) and loaded with
 *   spike --extlib=spike-virt-devices.so --device=sifive_test,0x100000 --device=ns16550,0x10000000
 * Spike's plugin interface is plain C (riscv/mmio_plugin.h): a table of four functions, registered
 * under a name by a constructor that runs when Spike loads the library. Its declaration is repeated
 * here so that building this file needs no Spike headers. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    void *(*alloc)(const char *arguments);
    bool (*load)(void *device, uint64_t offset, size_t length, uint8_t *bytes);
    bool (*store)(void *device, uint64_t offset, size_t length, const uint8_t *bytes);
    void (*dealloc)(void *device);
} spike_mmio_plugin;

extern void register_mmio_plugin(const char *name, const spike_mmio_plugin *plugin);

/* The size of each device's register window on QEMU's virt board. Spike gives a device every
 * address from its base up to the next device's, so an access past the window must fail here (an
 * access fault for the guest), as it does on virt and in vmlab, rather than reach the device. */
enum { FINISHER_WINDOW = 0x1000, UART_WINDOW = 0x100 };

static bool inside(uint64_t offset, size_t length, uint64_t window) {
    return offset < window && length <= window - offset;
}

/* Neither device keeps state; Spike only needs a non-null handle per instance. */
static int instance;
static void *alloc_device(const char *arguments) { (void)arguments; return &instance; }
static void dealloc_device(void *device) { (void)device; }

/* The finisher reads as zero, as QEMU's does. */
static bool finisher_load(void *device, uint64_t offset, size_t length, uint8_t *bytes) {
    (void)device;
    if (!inside(offset, length, FINISHER_WINDOW)) return false;
    memset(bytes, 0, length);
    return true;
}

static bool finisher_store(void *device, uint64_t offset, size_t length, const uint8_t *bytes) {
    (void)device;
    if (!inside(offset, length, FINISHER_WINDOW)) return false;
    if (offset != 0 || length != 4) return true;
    uint32_t value;
    memcpy(&value, bytes, sizeof value);
    switch (value & 0xffff) {
    case 0x5555: case 0x7777: fflush(stdout); exit(0);
    case 0x3333: fflush(stdout); exit((int)(value >> 16));
    default: return true; /* QEMU ignores other values too */
    }
}

enum { UART_DATA = 0, UART_LINE_STATUS = 5, UART_TRANSMITTER_EMPTY = 0x60 };

static bool uart_load(void *device, uint64_t offset, size_t length, uint8_t *bytes) {
    (void)device;
    if (!inside(offset, length, UART_WINDOW)) return false;
    memset(bytes, 0, length);
    if (offset == UART_LINE_STATUS && length >= 1) bytes[0] = UART_TRANSMITTER_EMPTY;
    return true;
}

static bool uart_store(void *device, uint64_t offset, size_t length, const uint8_t *bytes) {
    (void)device;
    if (!inside(offset, length, UART_WINDOW)) return false;
    if (offset == UART_DATA && length >= 1) putchar(bytes[0]);
    return true;
}

__attribute__((constructor)) static void register_devices(void) {
    static const spike_mmio_plugin finisher = { alloc_device, finisher_load, finisher_store, dealloc_device };
    static const spike_mmio_plugin uart = { alloc_device, uart_load, uart_store, dealloc_device };
    register_mmio_plugin("sifive_test", &finisher);
    register_mmio_plugin("ns16550", &uart);
}
