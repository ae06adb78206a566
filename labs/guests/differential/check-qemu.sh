#!/usr/bin/env bash
# Runs the differential programs under QEMU's `virt` board and compares what they print with
# expected/<program>.out, the file vmlab is held to (Tests/lua/differential_test.lua): so the
# recorded output is QEMU's, and stays so when a program changes (refresh with --update).
# Usage: labs/guests/differential/check-qemu.sh [--update]   (needs qemu-system-riscv64)
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
source "$root/scripts/lib/expected-output.sh"
"$root/scripts/build-guests" differential
out="${VMLAB_GUESTS_OUT:-$root/.build/guests}/differential"
expected="$root/labs/guests/differential/expected"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for program in fp_random int_random; do
    timeout 120 qemu-system-riscv64 -M virt -m 128M -nographic -bios none -kernel "$out/$program.elf" \
        </dev/null 2>&1 | tr -d '\r' > "$tmp/$program.out" || { echo "FAIL $program: QEMU did not finish"; fail=1; continue; }
    expect_output "$program" "$tmp/$program.out" "$expected/$program.out" "${1:-}" || fail=1
done
exit $fail
