#!/usr/bin/env bash
# Runs every device-proving guest of this folder under QEMU's `virt` board, the reference our
# machine must match, and checks each passes (exit status 0 through the test finisher) and that the
# virtio-blk fixture is unchanged after a read-only run and changed after a writable one.
# It also records what guests see in every device register (regdump) and compares it with
# expected/regdump.out, the file vmlab's own machine is compared with too.
# Usage: labs/guests/devices/run-under-qemu.sh [--update]   (needs qemu-system-riscv64)
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
source "$root/scripts/lib/expected-output.sh"
"$root/scripts/build-guests" devices
out="$root/.build/guests/devices"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
q() { timeout 60 qemu-system-riscv64 -M virt -nographic -bios none -global virtio-mmio.force-legacy=false "$@"; }
fail=0
run() { local name=$1; shift; if "$@" > "$tmp/$name.log" 2>&1; then echo "pass $name"; else echo "FAIL $name"; cat "$tmp/$name.log"; fail=1; fi; }

run clint_timer q -kernel "$out/clint_timer.elf" </dev/null
run plic_external q -kernel "$out/plic_external.elf" </dev/null
run mmio_access_fault q -kernel "$out/mmio_access_fault.elf" </dev/null
run uart_echo bash -c "(sleep 1; printf 'hello\n') | timeout 60 qemu-system-riscv64 -M virt -nographic -bios none -kernel '$out/uart_echo.elf'"

"$root/labs/guests/devices/make-blk-fixture.sh" "$tmp/disk.img"
cp "$tmp/disk.img" "$tmp/orig.img"
run virtio_blk_ro q -kernel "$out/virtio_blk.elf" -drive "file=$tmp/disk.img,if=none,format=raw,id=d0,readonly=on" \
    -device virtio-blk-device,drive=d0 </dev/null
cmp -s "$tmp/disk.img" "$tmp/orig.img" && echo "pass image unchanged after read-only run" || { echo "FAIL image changed"; fail=1; }
run virtio_blk_rw q -kernel "$out/virtio_blk.elf" -drive "file=$tmp/disk.img,if=none,format=raw,id=d0" \
    -device virtio-blk-device,drive=d0 </dev/null
cmp -s "$tmp/disk.img" "$tmp/orig.img" && { echo "FAIL image not written"; fail=1; } || echo "pass image written by writable run"

run virtio_net_two_nics q -kernel "$out/virtio_net.elf" \
    -netdev hubport,id=n0,hubid=0 -device virtio-net-device,netdev=n0,mac=52:54:00:00:00:0a \
    -netdev hubport,id=n1,hubid=0 -device virtio-net-device,netdev=n1,mac=52:54:00:00:00:0b </dev/null
run virtio_rng_console q -kernel "$out/virtio_rng_console.elf" -device virtio-rng-device \
    -chardev "file,id=c0,path=$tmp/vc.txt" -device virtio-serial-device -device virtconsole,chardev=c0 </dev/null
grep -q "hello from virtio-console" "$tmp/vc.txt" && echo "pass virtio-console output arrived" || { echo "FAIL virtio-console output"; fail=1; }

run htif_console timeout 60 qemu-system-riscv64 -M spike -nographic -bios none -kernel "$out/htif_console.elf" </dev/null

# The register dump must match the recorded one (expected/regdump.out; refresh it with --update).
head -c 65536 /dev/zero > "$tmp/zero.img"
q -kernel "$out/regdump.elf" -drive "file=$tmp/zero.img,if=none,format=raw,id=d0" -device virtio-blk-device,drive=d0 \
    </dev/null 2>&1 | tr -d '\r' > "$tmp/regdump.out" || true
expect_output regdump "$tmp/regdump.out" "$root/labs/guests/devices/expected/regdump.out" "${1:-}" || fail=1
exit $fail
