/* Proves virtio-net: every NIC this machine has (one or two) broadcasts "hello" frames (ethertype
   0x88B5, local experimental) every millisecond and succeeds once it has received such a frame from
   a different MAC address — from the other NIC of this VM, or from another VM on the same switch.
   After success it keeps sending a few more rounds so a slower peer hears it too. Exit 0 on success,
   1 after two seconds of guest time without.
   Run (two NICs, one VM):
     qemu-system-riscv64 -M virt -nographic -bios none -kernel virtio_net.elf \
       -global virtio-mmio.force-legacy=false \
       -netdev hubport,id=n0,hubid=0 -device virtio-net-device,netdev=n0,mac=52:54:00:00:00:0a \
       -netdev hubport,id=n1,hubid=0 -device virtio-net-device,netdev=n1,mac=52:54:00:00:00:0b
   or two VMs, each with one NIC: -netdev socket,id=n0,listen=:PORT / -netdev socket,id=n0,connect=:PORT */
#include "devices.h"

#define NET_F_MAC (1u << 5)
#define HDR 12                       /* virtio_net_hdr with num_buffers (VERSION_1) */
#define FRAME_MAX 1514
#define ETHERTYPE 0x88B5
#define MAX_NICS 2

struct nic {
    struct virtio_dev dev;
    struct virtq rx __attribute__((aligned(4096)));
    struct virtq tx __attribute__((aligned(4096)));
    uint8_t rxbuf[VQ_SIZE][HDR + FRAME_MAX] __attribute__((aligned(16)));
    uint8_t txbuf[HDR + 64] __attribute__((aligned(16)));
    uint8_t mac[6];
    int heard;
};
static struct nic nics[MAX_NICS];

static int take_used(struct virtq *q, uint32_t *id) {
    if (!virtq_has_used(q)) return -1;
    fence();
    struct vq_used_elem e = q->used.ring[q->last_used % VQ_SIZE];
    q->last_used++;
    *id = e.id;
    return (int)e.len;
}

static void repost(struct virtq *q, uint16_t head) {
    q->avail.ring[q->avail.idx % VQ_SIZE] = head;
    fence();
    q->avail.idx++;
    fence();
}

static int nic_init(struct nic *n, int nth) {
    if (!virtio_find(1, nth, &n->dev)) return 0;
    if (virtio_begin(&n->dev, NET_F_MAC) < 0) return 0;
    if (!virtio_queue(&n->dev, 0, &n->rx) || !virtio_queue(&n->dev, 1, &n->tx)) return 0;
    for (int i = 0; i < 6; i++) n->mac[i] = mmio_read8(n->dev.base + VIRTIO_CONFIG + i);
    virtio_ready(&n->dev);
    for (int i = 0; i < VQ_SIZE; i++) {
        void *b[1] = { n->rxbuf[i] };
        uint32_t l[1] = { HDR + FRAME_MAX };
        uint16_t f[1] = { VQ_F_WRITE };
        virtq_submit(&n->rx, 1, b, l, f);
    }
    vio_w(&n->dev, VIRTIO_QUEUE_NOTIFY, 0);
    return 1;
}

static void send_hello(struct nic *n) {
    uint8_t *p = n->txbuf;
    for (int i = 0; i < HDR; i++) p[i] = 0;
    uint8_t *f = p + HDR;
    for (int i = 0; i < 6; i++) { f[i] = 0xFF; f[6 + i] = n->mac[i]; }
    f[12] = ETHERTYPE >> 8; f[13] = ETHERTYPE & 0xFF;
    const char *msg = "vmlab hello";
    int len = 14;
    while (*msg) f[len++] = (uint8_t)*msg++;
    while (len < 60) f[len++] = 0;           /* minimum Ethernet frame */
    void *b[1] = { p };
    uint32_t l[1] = { (uint32_t)(HDR + len) };
    uint16_t fl[1] = { 0 };
    virtq_submit(&n->tx, 1, b, l, fl);
    vio_w(&n->dev, VIRTIO_QUEUE_NOTIFY, 1);
    (void)virtq_wait(&n->tx, TIMEBASE_HZ / 10);
}

static void poll_rx(struct nic *n) {
    uint32_t id;
    int len;
    while ((len = take_used(&n->rx, &id)) >= 0) {
        const uint8_t *f = n->rxbuf[id % VQ_SIZE] + HDR;
        int other = 0;
        for (int i = 0; i < 6; i++) if (f[6 + i] != n->mac[i]) other = 1;
        if (len >= HDR + 14 && other && f[12] == (ETHERTYPE >> 8) && f[13] == (ETHERTYPE & 0xFF)) {
            if (!n->heard) {
                uart_puts("  nic "); put_hex(n->mac[5], 2); uart_puts(" heard ");
                for (int i = 0; i < 6; i++) { put_hex(f[6 + i], 2); if (i < 5) uart_putc(':'); }
                uart_putc('\n');
            }
            n->heard = 1;
        }
        repost(&n->rx, (uint16_t)id);
        vio_w(&n->dev, VIRTIO_QUEUE_NOTIFY, 0);
    }
}

int main(void) {
    uart_puts("virtio_net: virtio-net checks\n");
    int count = 0;
    while (count < MAX_NICS && nic_init(&nics[count], count)) count++;
    if (count == 0) { uart_puts("  FAIL no virtio-net device\n"); return 1; }
    uart_puts("  NICs: "); put_dec((uint64_t)count); uart_putc('\n');
    uint64_t start = mtime();
    int extra = -1;
    while (mtime() - start < 2 * TIMEBASE_HZ) {
        for (int i = 0; i < count; i++) send_hello(&nics[i]);
        uint64_t t = mtime();
        while (mtime() - t < TIMEBASE_HZ / 1000) for (int i = 0; i < count; i++) poll_rx(&nics[i]);
        int all = 1;
        for (int i = 0; i < count; i++) if (!nics[i].heard) all = 0;
        if (all && extra < 0) extra = 5;
        if (extra > 0 && --extra == 0) break;
    }
    int failures = 0;
    for (int i = 0; i < count; i++) {
        check(nics[i].heard, "frame received from a peer", &failures);
        check(!(vio_r(&nics[i].dev, VIRTIO_STATUS) & VIRTIO_S_NEEDS_RESET), "device healthy", &failures);
    }
    uart_puts(failures ? "virtio_net: FAILED\n" : "virtio_net: PASS\n");
    return failures;
}
