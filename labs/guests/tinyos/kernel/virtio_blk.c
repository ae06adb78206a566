/* A virtio block device driver over the virtio-mmio transport, version 2 ("modern"), as in the
   Virtual I/O Device specification 1.1: 4.2 (MMIO transport), 2.6 (split virtqueues), 5.2 (block
   device). QEMU virt has eight virtio-mmio slots at 0x10001000 + n*0x1000, wired to PLIC
   sources 1..8; the driver uses the first slot that holds a block device.

   One request is in flight at a time, described by a chain of three descriptors: the request
   header (device reads), the 512-byte data buffer (device reads for a write, writes for a read)
   and a status byte (device writes). The submitting process sleeps; the device's interrupt
   marks the request done and wakes it. Memory is identity-mapped, so addresses given to the
   device are the kernel's own pointers. */
#include "kernel.h"
#include "arch.h"

#define VIRTIO_MMIO_BASE 0x10001000UL
#define VIRTIO_MMIO_SLOTS 8

/* Transport registers (4.2.2), 32 bits each. */
#define VIRTIO_MAGIC          0x000   /* "virt" */
#define VIRTIO_VERSION        0x004
#define VIRTIO_DEVICE_ID      0x008   /* 2: block device */
#define VIRTIO_DEVICE_FEATURES 0x010
#define VIRTIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_DRIVER_FEATURES 0x020
#define VIRTIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_QUEUE_SEL      0x030
#define VIRTIO_QUEUE_NUM_MAX  0x034
#define VIRTIO_QUEUE_NUM      0x038
#define VIRTIO_QUEUE_READY    0x044
#define VIRTIO_QUEUE_NOTIFY   0x050
#define VIRTIO_INTERRUPT_STATUS 0x060
#define VIRTIO_INTERRUPT_ACK  0x064
#define VIRTIO_STATUS         0x070
#define VIRTIO_QUEUE_DESC     0x080   /* low word; the high word follows at +4 */
#define VIRTIO_QUEUE_DRIVER   0x090   /* the available ring */
#define VIRTIO_QUEUE_DEVICE   0x0a0   /* the used ring */
#define VIRTIO_CONFIG         0x100   /* block config: capacity in sectors, 64 bits */

/* Device status bits (2.1). */
#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8

#define VIRTIO_F_VERSION_1 32         /* feature bit: a modern device */

#define QUEUE_SIZE 8
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2                /* the device writes this buffer */

struct virtq_desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct virtq_avail { uint16_t flags, idx, ring[QUEUE_SIZE], used_event; };
struct virtq_used_elem { uint32_t id, len; };
struct virtq_used { uint16_t flags, idx; struct virtq_used_elem ring[QUEUE_SIZE]; uint16_t avail_event; };

struct blk_req_header { uint32_t type, reserved; uint64_t sector; };
#define BLK_T_IN 0                    /* read from the disk */
#define BLK_T_OUT 1                   /* write to the disk */
#define BLK_S_OK 0

static struct {
    uintptr_t base;                   /* 0: no disk */
    int irq;
    uint64_t capacity;
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint16_t used_seen;               /* used->idx as far as the driver has processed it */
    int busy;                         /* a request is in flight */
    int done;
    struct blk_req_header header;
    volatile uint8_t status;
    uint8_t data[SECTOR_SIZE] __attribute__((aligned(16)));
} blk;

static volatile uint32_t *reg(uintptr_t base, uint64_t offset) { return (volatile uint32_t *)(base + offset); }

static void set_address(uintptr_t base, uint64_t offset, const void *p) {
    uint64_t a = (uint64_t)(uintptr_t)p;
    *reg(base, offset) = (uint32_t)a;
    *reg(base, offset + 4) = (uint32_t)(a >> 32);
}

/* Device initialisation, in the order of 3.1.1. */
static int setup(uintptr_t base) {
    *reg(base, VIRTIO_STATUS) = 0;                                   /* reset */
    *reg(base, VIRTIO_STATUS) = STATUS_ACKNOWLEDGE;
    *reg(base, VIRTIO_STATUS) = STATUS_ACKNOWLEDGE | STATUS_DRIVER;
    *reg(base, VIRTIO_DEVICE_FEATURES_SEL) = 1;
    if (!(*reg(base, VIRTIO_DEVICE_FEATURES) & (1u << (VIRTIO_F_VERSION_1 - 32)))) return -1;
    /* Accept VERSION_1 and nothing else: no optional block features are needed. */
    *reg(base, VIRTIO_DRIVER_FEATURES_SEL) = 0;
    *reg(base, VIRTIO_DRIVER_FEATURES) = 0;
    *reg(base, VIRTIO_DRIVER_FEATURES_SEL) = 1;
    *reg(base, VIRTIO_DRIVER_FEATURES) = 1u << (VIRTIO_F_VERSION_1 - 32);
    *reg(base, VIRTIO_STATUS) = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK;
    if (!(*reg(base, VIRTIO_STATUS) & STATUS_FEATURES_OK)) return -1;

    *reg(base, VIRTIO_QUEUE_SEL) = 0;
    if (*reg(base, VIRTIO_QUEUE_READY) != 0 || *reg(base, VIRTIO_QUEUE_NUM_MAX) < QUEUE_SIZE) return -1;
    blk.desc = kalloc();
    blk.avail = kalloc();
    blk.used = kalloc();
    if (!blk.desc || !blk.avail || !blk.used) return -1;
    *reg(base, VIRTIO_QUEUE_NUM) = QUEUE_SIZE;
    set_address(base, VIRTIO_QUEUE_DESC, blk.desc);
    set_address(base, VIRTIO_QUEUE_DRIVER, blk.avail);
    set_address(base, VIRTIO_QUEUE_DEVICE, (const void *)blk.used);
    *reg(base, VIRTIO_QUEUE_READY) = 1;
    *reg(base, VIRTIO_STATUS) = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK;
    blk.capacity = *reg(base, VIRTIO_CONFIG) | (uint64_t)*reg(base, VIRTIO_CONFIG + 4) << 32;
    return 0;
}

void virtio_blk_init(void) {
    for (int slot = 0; slot < VIRTIO_MMIO_SLOTS; slot++) {
        uintptr_t base = VIRTIO_MMIO_BASE + 0x1000UL * (uint64_t)slot;
        if (*reg(base, VIRTIO_MAGIC) != 0x74726976 || *reg(base, VIRTIO_DEVICE_ID) != 2) continue;
        if (*reg(base, VIRTIO_VERSION) != 2) {
            kprintf("# tinyos: virtio-blk at %p is legacy (version 1), not supported\n", (void *)base);
            continue;
        }
        if (setup(base) < 0) {
            kprintf("# tinyos: virtio-blk at %p: set-up failed\n", (void *)base);
            continue;
        }
        blk.base = base;
        blk.irq = slot + 1;
        plic_enable(blk.irq);
        kprintf("# tinyos: virtio-blk at %p, irq %d, %lu sectors\n", (void *)base, blk.irq, blk.capacity);
        return;
    }
}

int virtio_blk_irq(void) { return blk.base ? blk.irq : -1; }
uint64_t virtio_blk_capacity(void) { return blk.base ? blk.capacity : 0; }

int virtio_blk_rw(uint64_t sector, void *buf, int write) {
    if (!blk.base || sector >= blk.capacity) return -1;
    while (blk.busy) sleep(&blk.busy);
    blk.busy = 1;

    blk.header = (struct blk_req_header){ write ? BLK_T_OUT : BLK_T_IN, 0, sector };
    if (write) memcpy(blk.data, buf, SECTOR_SIZE);
    blk.status = 0xff;
    blk.done = 0;
    blk.desc[0] = (struct virtq_desc){ (uint64_t)(uintptr_t)&blk.header, sizeof blk.header, DESC_F_NEXT, 1 };
    blk.desc[1] = (struct virtq_desc){ (uint64_t)(uintptr_t)blk.data, SECTOR_SIZE,
                                       (uint16_t)(DESC_F_NEXT | (write ? 0 : DESC_F_WRITE)), 2 };
    blk.desc[2] = (struct virtq_desc){ (uint64_t)(uintptr_t)&blk.status, 1, DESC_F_WRITE, 0 };

    /* Publish the chain's head in the available ring, then the new index (2.6.13). */
    volatile struct virtq_avail *avail = blk.avail;
    avail->ring[avail->idx % QUEUE_SIZE] = 0;
    __asm__ volatile("fence w, w" ::: "memory");
    avail->idx = (uint16_t)(avail->idx + 1);
    arch_blk_submit(blk.base + VIRTIO_QUEUE_NOTIFY, 0);

    while (!blk.done) sleep(&blk);

    int ok = blk.status == BLK_S_OK;
    if (ok && !write) memcpy(buf, blk.data, SECTOR_SIZE);
    blk.busy = 0;
    wakeup(&blk.busy);
    return ok ? 0 : -1;
}

void virtio_blk_interrupt(void) {
    uint32_t status = *reg(blk.base, VIRTIO_INTERRUPT_STATUS);
    *reg(blk.base, VIRTIO_INTERRUPT_ACK) = status;
    __asm__ volatile("fence r, r" ::: "memory"); /* read the used ring after the device wrote it */
    while (blk.used_seen != blk.used->idx) {
        blk.used_seen++;
        blk.done = 1;  /* only one request is ever in flight */
    }
    wakeup(&blk);
}
