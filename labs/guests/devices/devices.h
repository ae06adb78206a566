/* Shared helpers for the device-proving guests in labs/guests/devices: QEMU-virt addresses of the
   CLINT, PLIC, RTC, a polled console print, and a minimal virtio-mmio (version 2) split-queue driver
   following the virtio v1.2 initialisation sequence (§3.1.1). Programs run in M-mode on hart 0. */
#ifndef VMLAB_DEVICES_H
#define VMLAB_DEVICES_H
#include "baremetal.h"

#define CLINT_BASE      0x02000000UL
#define CLINT_MSIP(h)   (CLINT_BASE + 4UL * (h))
#define CLINT_MTIMECMP(h) (CLINT_BASE + 0x4000UL + 8UL * (h))
#define CLINT_MTIME     (CLINT_BASE + 0xBFF8UL)
#define PLIC_BASE       0x0C000000UL
#define PLIC_PRIORITY(s) (PLIC_BASE + 4UL * (s))
#define PLIC_PENDING    (PLIC_BASE + 0x1000UL)
#define PLIC_ENABLE(c)  (PLIC_BASE + 0x2000UL + 0x80UL * (c))
#define PLIC_THRESHOLD(c) (PLIC_BASE + 0x200000UL + 0x1000UL * (c))
#define PLIC_CLAIM(c)   (PLIC_BASE + 0x200004UL + 0x1000UL * (c))
#define RTC_BASE        0x00101000UL
#define UART_IRQ        10
#define RTC_IRQ         11
#define VIRTIO_BASE(n)  (0x10001000UL + 0x1000UL * (n))
#define VIRTIO_SLOTS    8
#define TIMEBASE_HZ     10000000UL

static inline uint64_t mmio_read64(uintptr_t a) { return *(volatile uint64_t *)a; }
static inline void mmio_write64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }
static inline uint64_t mtime(void) { return mmio_read64(CLINT_MTIME); }
/* Interrupt handlers compiled for rv64gc save FP registers, so the FPU must be on (mstatus.FS is Off
   at reset, and crt0 leaves it so). */
static inline void enable_fpu(void) { __asm__ volatile("csrs mstatus, %0" :: "r"(1UL << 13)); }
static inline void fence(void) { __asm__ volatile("fence" ::: "memory"); }

static inline void put_hex(uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; i--) uart_putc("0123456789abcdef"[(v >> (4 * i)) & 15]);
}
static inline void put_dec(uint64_t v) {
    char buf[21]; int n = 0;
    do { buf[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) uart_putc(buf[--n]);
}
static inline void check(int ok, const char *what, int *failures) {
    uart_puts(ok ? "  ok   " : "  FAIL "); uart_puts(what); uart_putc('\n');
    if (!ok) (*failures)++;
}

/* ---- virtio-mmio, version 2 (virtio v1.2 §4.2.2) ---- */
#define VIRTIO_MAGIC        0x000
#define VIRTIO_VERSION      0x004
#define VIRTIO_DEVICE_ID    0x008
#define VIRTIO_DEV_FEATURES 0x010
#define VIRTIO_DEV_FEAT_SEL 0x014
#define VIRTIO_DRV_FEATURES 0x020
#define VIRTIO_DRV_FEAT_SEL 0x024
#define VIRTIO_QUEUE_SEL    0x030
#define VIRTIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_QUEUE_NUM    0x038
#define VIRTIO_QUEUE_READY  0x044
#define VIRTIO_QUEUE_NOTIFY 0x050
#define VIRTIO_INT_STATUS   0x060
#define VIRTIO_INT_ACK      0x064
#define VIRTIO_STATUS       0x070
#define VIRTIO_QUEUE_DESC   0x080
#define VIRTIO_QUEUE_DRIVER 0x090
#define VIRTIO_QUEUE_DEVICE 0x0a0
#define VIRTIO_CONFIG       0x100

#define VIRTIO_S_ACK 1
#define VIRTIO_S_DRIVER 2
#define VIRTIO_S_DRIVER_OK 4
#define VIRTIO_S_FEATURES_OK 8
#define VIRTIO_S_NEEDS_RESET 64

#define VQ_SIZE 8
#define VQ_F_NEXT 1
#define VQ_F_WRITE 2

struct vq_desc { uint64_t addr; uint32_t len; uint16_t flags; uint16_t next; };
struct vq_avail { uint16_t flags; uint16_t idx; uint16_t ring[VQ_SIZE]; uint16_t used_event; };
struct vq_used_elem { uint32_t id; uint32_t len; };
struct vq_used { uint16_t flags; uint16_t idx; struct vq_used_elem ring[VQ_SIZE]; uint16_t avail_event; };

struct virtq {
    struct vq_desc desc[VQ_SIZE] __attribute__((aligned(16)));
    struct vq_avail avail __attribute__((aligned(2)));
    struct vq_used used __attribute__((aligned(4)));
    uint16_t last_used;
    uint16_t next_desc;
};

struct virtio_dev { uintptr_t base; uint32_t device_id; };

static inline uint32_t vio_r(struct virtio_dev *d, uint32_t off) { return mmio_read32(d->base + off); }
static inline void vio_w(struct virtio_dev *d, uint32_t off, uint32_t v) { mmio_write32(d->base + off, v); }

/* Finds the `nth` (0-based) virtio-mmio slot holding a device of type `id`; returns 0 if none. */
static inline int virtio_find(uint32_t id, int nth, struct virtio_dev *d) {
    for (int s = 0; s < VIRTIO_SLOTS; s++) {
        uintptr_t b = VIRTIO_BASE(s);
        if (mmio_read32(b + VIRTIO_MAGIC) != 0x74726976 || mmio_read32(b + VIRTIO_VERSION) != 2) continue;
        if (mmio_read32(b + VIRTIO_DEVICE_ID) != id) continue;
        if (nth-- == 0) { d->base = b; d->device_id = id; return 1; }
    }
    return 0;
}

/* Reset, acknowledge, negotiate VERSION_1 plus `want` (low 32 feature bits the driver can use).
   Returns the accepted low feature bits, or -1 if the device refused FEATURES_OK. */
static inline int64_t virtio_begin(struct virtio_dev *d, uint32_t want) {
    vio_w(d, VIRTIO_STATUS, 0);
    vio_w(d, VIRTIO_STATUS, VIRTIO_S_ACK);
    vio_w(d, VIRTIO_STATUS, VIRTIO_S_ACK | VIRTIO_S_DRIVER);
    vio_w(d, VIRTIO_DEV_FEAT_SEL, 0);
    uint32_t low = vio_r(d, VIRTIO_DEV_FEATURES) & want;
    vio_w(d, VIRTIO_DEV_FEAT_SEL, 1);
    uint32_t high = vio_r(d, VIRTIO_DEV_FEATURES) & 1;          /* VERSION_1 is bit 32 */
    vio_w(d, VIRTIO_DRV_FEAT_SEL, 0); vio_w(d, VIRTIO_DRV_FEATURES, low);
    vio_w(d, VIRTIO_DRV_FEAT_SEL, 1); vio_w(d, VIRTIO_DRV_FEATURES, high);
    vio_w(d, VIRTIO_STATUS, VIRTIO_S_ACK | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
    if (!(vio_r(d, VIRTIO_STATUS) & VIRTIO_S_FEATURES_OK)) return -1;
    return low;
}

static inline int virtio_queue(struct virtio_dev *d, uint32_t index, struct virtq *q) {
    vio_w(d, VIRTIO_QUEUE_SEL, index);
    if (vio_r(d, VIRTIO_QUEUE_READY) != 0 || vio_r(d, VIRTIO_QUEUE_NUM_MAX) < VQ_SIZE) return 0;
    q->last_used = 0; q->next_desc = 0;
    q->avail.idx = 0; q->avail.flags = 1;           /* polled: no interrupts wanted */
    vio_w(d, VIRTIO_QUEUE_NUM, VQ_SIZE);
    uint64_t a;
    a = (uintptr_t)q->desc;   vio_w(d, VIRTIO_QUEUE_DESC, (uint32_t)a);   vio_w(d, VIRTIO_QUEUE_DESC + 4, (uint32_t)(a >> 32));
    a = (uintptr_t)&q->avail; vio_w(d, VIRTIO_QUEUE_DRIVER, (uint32_t)a); vio_w(d, VIRTIO_QUEUE_DRIVER + 4, (uint32_t)(a >> 32));
    a = (uintptr_t)&q->used;  vio_w(d, VIRTIO_QUEUE_DEVICE, (uint32_t)a); vio_w(d, VIRTIO_QUEUE_DEVICE + 4, (uint32_t)(a >> 32));
    vio_w(d, VIRTIO_QUEUE_READY, 1);
    return 1;
}

static inline void virtio_ready(struct virtio_dev *d) {
    vio_w(d, VIRTIO_STATUS, VIRTIO_S_ACK | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK);
}

/* Queues a chain of `n` buffers (flags: VQ_F_WRITE for device-writable ones); returns its head. */
static inline uint16_t virtq_submit(struct virtq *q, int n, void *const *bufs, const uint32_t *lens, const uint16_t *flags) {
    uint16_t head = q->next_desc;
    for (int i = 0; i < n; i++) {
        uint16_t idx = q->next_desc;
        q->next_desc = (uint16_t)((q->next_desc + 1) % VQ_SIZE);
        q->desc[idx].addr = (uintptr_t)bufs[i];
        q->desc[idx].len = lens[i];
        q->desc[idx].flags = (uint16_t)(flags[i] | (i + 1 < n ? VQ_F_NEXT : 0));
        q->desc[idx].next = q->next_desc;
    }
    q->avail.ring[q->avail.idx % VQ_SIZE] = head;
    fence();
    q->avail.idx++;
    fence();
    return head;
}

/* Waits (up to `timeout` mtime ticks) for a used entry; returns its length, or -1 on timeout. */
static inline int64_t virtq_wait(struct virtq *q, uint64_t timeout) {
    uint64_t start = mtime();
    while (*(volatile uint16_t *)&q->used.idx == q->last_used) {
        if (mtime() - start > timeout) return -1;
    }
    fence();
    struct vq_used_elem e = q->used.ring[q->last_used % VQ_SIZE];
    q->last_used++;
    return e.len;
}
static inline int virtq_has_used(struct virtq *q) { return *(volatile uint16_t *)&q->used.idx != q->last_used; }
#endif
