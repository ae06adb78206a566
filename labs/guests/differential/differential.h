/* Shared by the differential programs: a deterministic random source, hex output over the UART,
   and the FNV-1a hash each program folds its results into. Every program prints a line per
   operation (and rounding mode) with the hash of its results; the same ELF under QEMU must print
   the same lines (check-qemu.sh), and so must vmlab (Tests/lua/differential_test.lua). */
#ifndef DIFFERENTIAL_H
#define DIFFERENTIAL_H
#include <stdint.h>
#include "baremetal.h"

static uint64_t random_state = 0x9E3779B97F4A7C15ull;
/* xorshift64: the same sequence on every machine. */
static inline uint64_t next_random(void) {
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return random_state;
}

static inline void put_hex(uint64_t v) {
    for (int i = 60; i >= 0; i -= 4) uart_putc("0123456789abcdef"[(v >> i) & 15]);
}

#define FNV_OFFSET 0xCBF29CE484222325ull
static inline uint64_t fnv_fold(uint64_t hash, uint64_t value) { return (hash ^ value) * 0x100000001B3ull; }

/* "name[ suffix] hash" */
static inline void put_result(const char *name, const char *suffix, uint64_t hash) {
    uart_puts(name);
    if (suffix) { uart_putc(' '); uart_puts(suffix); }
    uart_putc(' ');
    put_hex(hash);
    uart_putc('\n');
}
#endif
