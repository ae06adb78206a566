/* Proves virtio-blk over virtio-mmio v2: finds the disk, initialises it (§3.1.1), checks the
   capacity, reads the fixture (sector s is filled with the letter 'A' + s % 26; make one with
   make-blk-fixture.sh), reads the serial with GET_ID, then writes sector 2 and reads it back — or,
   when the device offers VIRTIO_BLK_F_RO, checks that a write fails with IOERR.
   Exit 0 when every check held.
   Run: qemu-system-riscv64 -M virt -nographic -bios none -kernel virtio_blk.elf \
          -global virtio-mmio.force-legacy=false \
          -drive file=fixture.img,if=none,format=raw,id=d0[,readonly=on] -device virtio-blk-device,drive=d0 */
#include "devices.h"

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_GET_ID 8
#define BLK_F_RO (1u << 5)

struct blk_req { uint32_t type; uint32_t reserved; uint64_t sector; };

static struct virtq q __attribute__((aligned(4096)));
static struct virtio_dev dev;
static struct blk_req req;
static uint8_t data[1024] __attribute__((aligned(16)));
static volatile uint8_t status;

/* One request: header, `len` data bytes (device-writable for reads), status. Returns the status,
   or 0xFF when the device did not answer. */
static int blk_request(uint32_t type, uint64_t sector, uint32_t len) {
    req.type = type; req.reserved = 0; req.sector = sector;
    status = 0xEE;
    void *bufs[3] = { &req, data, (void *)&status };
    uint32_t lens[3] = { sizeof req, len, 1 };
    uint16_t flags[3] = { 0, type == BLK_T_OUT ? 0 : VQ_F_WRITE, VQ_F_WRITE };
    virtq_submit(&q, 3, bufs, lens, flags);
    vio_w(&dev, VIRTIO_QUEUE_NOTIFY, 0);
    if (virtq_wait(&q, TIMEBASE_HZ) < 0) return 0xFF;
    return status;
}

static int filled_with(const uint8_t *p, int n, uint8_t c) {
    for (int i = 0; i < n; i++) if (p[i] != c) return 0;
    return 1;
}

int main(void) {
    int failures = 0;
    uart_puts("virtio_blk: virtio-blk checks\n");
    if (!virtio_find(2, 0, &dev)) { uart_puts("  FAIL no virtio-blk device\n"); return 1; }
    int64_t features = virtio_begin(&dev, BLK_F_RO);
    check(features >= 0, "features negotiated (FEATURES_OK)", &failures);
    if (features < 0) return 1;
    check(virtio_queue(&dev, 0, &q), "request queue set up", &failures);
    virtio_ready(&dev);
    uint64_t capacity = mmio_read32(dev.base + VIRTIO_CONFIG) | (uint64_t)mmio_read32(dev.base + VIRTIO_CONFIG + 4) << 32;
    uart_puts("  capacity "); put_dec(capacity); uart_puts(" sectors");
    uart_puts(features & BLK_F_RO ? ", read-only\n" : ", writable\n");
    check(capacity >= 4, "capacity of at least 4 sectors", &failures);

    check(blk_request(BLK_T_IN, 0, 1024) == 0, "read sectors 0-1", &failures);
    check(filled_with(data, 512, 'A') && filled_with(data + 512, 512, 'B'), "fixture content", &failures);
    check(blk_request(BLK_T_IN, capacity, 512) == 1, "read past the end fails with IOERR", &failures);
    check(blk_request(BLK_T_GET_ID, 0, 20) == 0, "GET_ID", &failures);

    for (int i = 0; i < 512; i++) data[i] = (uint8_t)(i * 7);
    int w = blk_request(BLK_T_OUT, 2, 512);
    if (features & BLK_F_RO) {
        check(w == 1, "write to a read-only disk fails with IOERR", &failures);
        check(blk_request(BLK_T_IN, 2, 512) == 0 && filled_with(data, 512, 'C'), "sector 2 unchanged", &failures);
    } else {
        check(w == 0, "write sector 2", &failures);
        for (int i = 0; i < 512; i++) data[i] = 0;
        check(blk_request(BLK_T_IN, 2, 512) == 0, "read sector 2 back", &failures);
        int same = 1;
        for (int i = 0; i < 512; i++) if (data[i] != (uint8_t)(i * 7)) same = 0;
        check(same, "read back what was written", &failures);
    }
    check(!(vio_r(&dev, VIRTIO_STATUS) & VIRTIO_S_NEEDS_RESET), "device healthy", &failures);
    uart_puts(failures ? "virtio_blk: FAILED\n" : "virtio_blk: PASS\n");
    return failures;
}
