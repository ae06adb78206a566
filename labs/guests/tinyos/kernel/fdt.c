/* Just enough of the flattened device tree (Devicetree Specification v0.4, chapter 5) to learn
   three things: the RAM range (/memory@.../reg), the timer frequency (/cpus/timebase-frequency)
   and the kernel command line (/chosen/bootargs). Anything missing keeps its default, which is
   QEMU virt's: 128 MiB at 0x80000000, 10 MHz, no arguments.

   The blob is big-endian. A header gives the offsets of the structure block (a stream of 32-bit
   tokens: BEGIN_NODE name, PROP len nameoff value, END_NODE, ... END) and the strings block
   (property names, referenced by offset). */
#include "kernel.h"

#define FDT_MAGIC      0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9

static uint32_t be32(const void *p) {
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* A value of `cells` 32-bit cells (1 or 2), big-endian. */
static uint64_t read_cells(const uint8_t *p, uint32_t cells) {
    uint64_t v = 0;
    for (uint32_t i = 0; i < cells; i++) v = v << 32 | be32(p + 4 * i);
    return v;
}

void fdt_parse(const void *fdt, struct bootinfo *info) {
    info->ram_base = 0x80000000UL;
    info->ram_size = 128UL << 20;
    info->timebase = 10000000;
    info->bootargs[0] = 0;
    if (fdt == NULL || be32(fdt) != FDT_MAGIC) return;

    const uint8_t *base = fdt;
    uint32_t total = be32(base + 4);
    const uint8_t *p = base + be32(base + 8);             /* off_dt_struct  */
    const char *strings = (const char *)base + be32(base + 12); /* off_dt_strings */
    const uint8_t *end = base + total;

    uint32_t address_cells = 2, size_cells = 2;           /* of the root, for /memory's reg */
    int depth = 0;
    enum { OTHER, MEMORY, CHOSEN, CPUS } node = OTHER;    /* the depth-1 node we are inside */

    while (p + 4 <= end) {
        uint32_t token = be32(p);
        p += 4;
        if (token == FDT_BEGIN_NODE) {
            const char *name = (const char *)p;
            if (depth == 1) {
                if (strncmp(name, "memory", 6) == 0 && (name[6] == '@' || name[6] == 0)) node = MEMORY;
                else if (strcmp(name, "chosen") == 0) node = CHOSEN;
                else if (strcmp(name, "cpus") == 0) node = CPUS;
                else node = OTHER;
            }
            depth++;
            p += (strlen(name) + 1 + 3) & ~3UL; /* name, padded to 4 */
        } else if (token == FDT_END_NODE) {
            depth--;
            if (depth == 1) node = OTHER;
        } else if (token == FDT_PROP) {
            if (p + 8 > end) return;
            uint32_t len = be32(p), nameoff = be32(p + 4);
            const uint8_t *value = p + 8;
            const char *pname = strings + nameoff;
            p = value + ((len + 3) & ~3U);
            if (p > end) return;
            if (depth == 1 && strcmp(pname, "#address-cells") == 0 && len == 4) address_cells = be32(value);
            else if (depth == 1 && strcmp(pname, "#size-cells") == 0 && len == 4) size_cells = be32(value);
            else if (depth == 2 && node == MEMORY && strcmp(pname, "reg") == 0 &&
                     len >= 4 * (address_cells + size_cells) && address_cells <= 2 && size_cells <= 2) {
                info->ram_base = read_cells(value, address_cells);
                info->ram_size = read_cells(value + 4 * address_cells, size_cells);
            } else if (depth == 2 && node == CHOSEN && strcmp(pname, "bootargs") == 0 && len > 0) {
                size_t n = len < sizeof info->bootargs ? len : sizeof info->bootargs - 1;
                memcpy(info->bootargs, value, n);
                info->bootargs[n] = 0;
            } else if (depth >= 2 && node == CPUS && strcmp(pname, "timebase-frequency") == 0 &&
                       (len == 4 || len == 8)) {
                /* Usually on /cpus itself, sometimes on each cpu node: either will do. */
                info->timebase = read_cells(value, len / 4);
            }
        } else if (token == FDT_NOP) {
            continue;
        } else {
            return; /* FDT_END, or a token we do not understand */
        }
    }
}
