/* The para-virtual flavour's disk: the front-end of vmlab's split block driver (HypercallABI.md,
   "Grants and the split block driver"), built instead of virtio_blk.c when TINYOS_ARCH=pv and
   offering the same interface (kernel.h). No device registers: the request goes into a ring in
   a page this kernel granted to the VMM's back-end, the data into a second granted page, and one
   event-channel notification hands the batch over. vmlab's back-end serves a notification before
   the hypercall returns, so the response is in the ring when the notify returns and the caller
   never sleeps; the completion event is masked in the shared info page, since nothing waits
   for it. Memory is identity-mapped, so the pages' addresses are their guest-physical ones. */
#include "kernel.h"
#include "hypercall.h"

#define RING_SLOTS 16
#define REQUESTS 64     /* ring offsets (BlockBackend.swift) */
#define RESPONSES 576

struct blkfront_request { uint64_t id; uint32_t op, sectors; uint64_t sector; uint32_t grant, pad; };
struct blkfront_response { uint64_t id; int64_t status; };

static uint8_t ring[4096] __attribute__((aligned(4096)));
static uint8_t data[4096] __attribute__((aligned(4096)));

static struct {
    int connected;
    uint64_t capacity, data_grant, next_id;
    unsigned port;
    uint32_t req_prod, rsp_cons;
    struct vmlab_shared_info *shared;
} fe;

void virtio_blk_init(void) {
    struct hcret ring_grant = hypercall(HC_GRANT_ACCESS, (uintptr_t)ring, 0);
    if (ring_grant.error) return;
    struct hcret connect = hypercall(HC_BLOCK_CONNECT, ring_grant.value, 0);
    if (connect.error) {   /* no disk behind the VMM */
        hypercall(HC_GRANT_REVOKE, ring_grant.value, 0);
        return;
    }
    struct hcret data_grant = hypercall(HC_GRANT_ACCESS, (uintptr_t)data, 0);
    struct hcret port = hypercall(HC_EVTCHN_ALLOC, 0, 0);
    if (data_grant.error || port.error || hypercall(HC_EVTCHN_BIND, port.value, EVTSRC_BLOCK).error) {
        kprintf("# tinyos: split block front-end: set-up failed\n");
        return;
    }
    fe.shared = (struct vmlab_shared_info *)(uintptr_t)hypercall(HC_DOMAIN_INFO, DI_SHARED_INFO, 0).value;
    if (fe.shared) fe.shared->mask |= 1UL << port.value;
    fe.capacity = connect.value;
    fe.data_grant = data_grant.value;
    fe.port = (unsigned)port.value;
    fe.connected = 1;
    kprintf("# tinyos: split block front-end, ring grant %lu, event channel %u, %lu sectors\n",
            ring_grant.value, fe.port, fe.capacity);
}

/* Not a device interrupt source: the PLIC never names it. */
int virtio_blk_irq(void) { return fe.connected ? 0 : -1; }
uint64_t virtio_blk_capacity(void) { return fe.connected ? fe.capacity : 0; }
void virtio_blk_interrupt(void) {}

int virtio_blk_rw(uint64_t sector, void *buf, int write) {
    if (!fe.connected || sector >= fe.capacity) return -1;
    if (write) memcpy(data, buf, SECTOR_SIZE);
    struct blkfront_request *rq = (struct blkfront_request *)(ring + REQUESTS) + fe.req_prod % RING_SLOTS;
    *rq = (struct blkfront_request){ ++fe.next_id, write ? 1u : 0u, 1, sector, (uint32_t)fe.data_grant, 0 };
    /* The back-end must see the request before the index that publishes it. */
    __asm__ volatile("fence w, w" ::: "memory");
    fe.req_prod++;
    *(volatile uint32_t *)ring = fe.req_prod;
    hypercall(HC_EVTCHN_NOTIFY, fe.port, 0);
    if (*(volatile uint32_t *)(ring + 8) == fe.rsp_cons) return -1;   /* no response: not served */
    struct blkfront_response *rs = (struct blkfront_response *)(ring + RESPONSES) + fe.rsp_cons % RING_SLOTS;
    fe.rsp_cons++;
    if (fe.shared) fe.shared->pending &= ~(1UL << fe.port);
    if (rs->id != fe.next_id || rs->status != 0) return -1;
    if (!write) memcpy(buf, data, SECTOR_SIZE);
    return 0;
}
