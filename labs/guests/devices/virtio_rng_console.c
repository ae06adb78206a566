/* Proves virtio-rng and virtio-console: draws entropy twice (64 bytes each; the two draws must
   differ and not be all zero) and writes a line through the console's transmit queue (port 0,
   without VIRTIO_CONSOLE_F_MULTIPORT). Exit 0 when both devices were found and behaved.
   Run: qemu-system-riscv64 -M virt -nographic -bios none -kernel virtio_rng_console.elf \
          -global virtio-mmio.force-legacy=false -device virtio-rng-device \
          -chardev file,id=c0,path=console.txt -device virtio-serial-device -device virtconsole,chardev=c0
   (console.txt then holds "hello from virtio-console"). */
#include "devices.h"

static struct virtq rngq __attribute__((aligned(4096)));
static struct virtq conrx __attribute__((aligned(4096)));
static struct virtq contx __attribute__((aligned(4096)));
static uint8_t pool[2][64] __attribute__((aligned(16)));
static char line[] = "hello from virtio-console\n";

int main(void) {
    int failures = 0;
    uart_puts("virtio_rng_console: checks\n");
    struct virtio_dev rng, con;
    int have_rng = virtio_find(4, 0, &rng), have_con = virtio_find(3, 0, &con);
    check(have_rng, "virtio-rng found", &failures);
    check(have_con, "virtio-console found", &failures);
    if (have_rng) {
        check(virtio_begin(&rng, 0) >= 0 && virtio_queue(&rng, 0, &rngq), "rng initialised", &failures);
        virtio_ready(&rng);
        for (int i = 0; i < 2; i++) {
            void *b[1] = { pool[i] };
            uint32_t l[1] = { sizeof pool[i] };
            uint16_t f[1] = { VQ_F_WRITE };
            virtq_submit(&rngq, 1, b, l, f);
            vio_w(&rng, VIRTIO_QUEUE_NOTIFY, 0);
            check(virtq_wait(&rngq, TIMEBASE_HZ) > 0, "entropy delivered", &failures);
        }
        int zero = 1, same = 1;
        for (int i = 0; i < 64; i++) { if (pool[0][i]) zero = 0; if (pool[0][i] != pool[1][i]) same = 0; }
        check(!zero && !same, "two different, non-zero draws", &failures);
    }
    if (have_con) {
        check(virtio_begin(&con, 0) >= 0 && virtio_queue(&con, 0, &conrx) && virtio_queue(&con, 1, &contx),
              "console initialised", &failures);
        virtio_ready(&con);
        void *b[1] = { line };
        uint32_t l[1] = { sizeof line - 1 };
        uint16_t f[1] = { 0 };
        virtq_submit(&contx, 1, b, l, f);
        vio_w(&con, VIRTIO_QUEUE_NOTIFY, 1);
        check(virtq_wait(&contx, TIMEBASE_HZ) >= 0, "console line transmitted", &failures);
        check(!(vio_r(&con, VIRTIO_STATUS) & VIRTIO_S_NEEDS_RESET), "console healthy", &failures);
    }
    uart_puts(failures ? "virtio_rng_console: FAILED\n" : "virtio_rng_console: PASS\n");
    return failures;
}
