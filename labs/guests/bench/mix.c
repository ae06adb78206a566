/* mix.c — compiled-C CPU benchmark for scripts/bench: the kind of code a kernel or a compiler
 * runs, in the spirit of CoreMark's three kernels (linked-list walking, a matrix product, a
 * byte-driven state machine) plus a CRC over their results. Unlike cpu.S (a 16-instruction ALU
 * loop that QEMU turns into one chained host-code block), it has loads and stores on every few
 * instructions, calls and returns, indirect-free but data-dependent branches, and a working set
 * of a few KiB — so QEMU's softmmu memory path and block exits count, as in real programs.
 *
 * Deterministic, M-mode, no traps, no paging. ROUNDS rounds; the final CRC is checked against
 * EXPECTED, which was computed by compiling this same file for the host with MIX_HOST defined
 * (`cc -O2 -DMIX_HOST labs/guests/bench/mix.c && ./a.out`), so a wrong simulator cannot pass.
 * Instruction counts come from the simulator's counters (scripts/bench reads them), not from
 * this file. */
#include <stdint.h>

#define ROUNDS 54000
#define EXPECTED 0xe8c9u

#define NODES 64
#define N 12
#define TEXT 256

struct node { struct node *next; uint32_t key; uint32_t value; };

/* All mutable state on pages of its own: data sharing a page with code would make QEMU treat
 * every store as self-modifying code, which real programs do not make it do. */
static struct {
    struct node pool[NODES];
    int32_t ma[N][N], mb[N][N], mc[N][N];
    uint8_t text[TEXT];
    uint32_t seed;
} mem __attribute__((aligned(4096)));
#define pool mem.pool
#define ma mem.ma
#define mb mem.mb
#define mc mem.mc
#define text mem.text

static uint32_t rnd(void) { mem.seed = mem.seed * 1103515245u + 12345u; return mem.seed >> 8; }

static uint16_t crc16(uint16_t crc, uint32_t data) {
    for (int i = 0; i < 32; i++) {
        uint16_t bit = (uint16_t)((crc ^ data) & 1u);
        crc >>= 1;
        data >>= 1;
        if (bit) crc ^= 0xA001u;
    }
    return crc;
}

/* Builds a list over the pool in a scrambled order. */
static struct node *build_list(uint32_t salt) {
    struct node *head = 0;
    for (int i = 0; i < NODES; i++) {
        struct node *n = &pool[(i * 37 + salt) % NODES];
        n->key = (uint32_t)i ^ salt;
        n->value = rnd();
        n->next = head;
        head = n;
    }
    return head;
}

static struct node *reverse(struct node *head) {
    struct node *prev = 0;
    while (head) { struct node *next = head->next; head->next = prev; prev = head; head = next; }
    return prev;
}

static uint32_t find_sum(struct node *head, uint32_t mask) {
    uint32_t sum = 0;
    for (; head; head = head->next)
        if ((head->key & mask) == (mask & 5u)) sum += head->value; else sum ^= head->key;
    return sum;
}

static uint32_t matrix(uint32_t salt) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) { ma[i][j] = (int32_t)(i * 3 + j + salt); mb[i][j] = (int32_t)(j - i * 2 + (salt & 7)); }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int32_t s = 0;
            for (int k = 0; k < N; k++) s += ma[i][k] * mb[k][j];
            mc[i][j] = s;
        }
    uint32_t sum = 0;
    for (int i = 0; i < N; i++) sum += (uint32_t)mc[i][(i + salt) % N];
    return sum;
}

/* A little number scanner: counts integers, decimals and junk in a byte string. */
static uint32_t scan(uint32_t salt) {
    static const char alphabet[] = "0123456789.,+- eE";
    for (int i = 0; i < TEXT; i++) text[i] = (uint8_t)alphabet[(rnd() ^ salt) % (sizeof alphabet - 1)];
    enum { START, INT, FRAC, EXP, JUNK } state = START;
    uint32_t ints = 0, fracs = 0, junk = 0;
    for (int i = 0; i < TEXT; i++) {
        uint8_t c = text[i];
        int digit = c >= '0' && c <= '9';
        switch (state) {
        case START: state = digit ? INT : (c == ',' || c == ' ') ? START : JUNK; break;
        case INT:   if (c == '.') state = FRAC; else if (c == ',') { ints++; state = START; } else if (!digit) state = JUNK; break;
        case FRAC:  if (c == 'e' || c == 'E') state = EXP; else if (c == ',') { fracs++; state = START; } else if (!digit) state = JUNK; break;
        case EXP:   if (c == ',') { fracs++; state = START; } else if (!digit && c != '+' && c != '-') state = JUNK; break;
        case JUNK:  if (c == ',') { junk++; state = START; } break;
        }
    }
    return ints * 65536u + fracs * 256u + junk;
}

static uint16_t run(void) {
    uint16_t crc = 0;
    mem.seed = 0x1234567u;
    for (uint32_t r = 0; r < ROUNDS; r++) {
        struct node *list = build_list(r);
        list = reverse(list);
        crc = crc16(crc, find_sum(list, r & 7u));
        crc = crc16(crc, matrix(r));
        crc = crc16(crc, scan(r));
    }
    return crc;
}

#ifdef MIX_HOST
#include <stdio.h>
int main(void) { printf("0x%04x\n", run()); return 0; }
#else
#include "baremetal.h"
int main(void) {
    uint16_t crc = run();
    if (crc != EXPECTED) return 1;
    return 0;
}
#endif
