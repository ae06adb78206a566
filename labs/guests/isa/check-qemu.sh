#!/usr/bin/env bash
# Runs every ISA test program (or the ones named) under QEMU and reports per program.
# QEMU's sifive_test finisher makes QEMU exit with status 0 on pass (0x5555) and with the failure
# code (value >> 16, here the check number, mod 256) on fail; a program that never reaches the
# finisher is killed by the time-out and reported as such.
#
# Usage: labs/guests/isa/check-qemu.sh [NAME...]     (builds first; exit status 1 if any failed)
# Environment: QEMU (default qemu-system-riscv64), TIMEOUT seconds per program (default 10),
#              QEMU_ARGS extra arguments (e.g. "-icount shift=0" for time driven by instructions,
#              as in vmlab; "-smp 2" to check that other harts park),
#              VMLAB_GUESTS_OUT (default .build/guests, as scripts/build-guests).
set -uo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
out="${VMLAB_GUESTS_OUT:-$root/.build/guests}/isa"
qemu=${QEMU:-qemu-system-riscv64}
timeout_s=${TIMEOUT:-10}
"$root/scripts/build-guests" isa || exit 2

names=("$@")
if ((${#names[@]} == 0)); then
    for f in "$root"/labs/guests/isa/*.S "$root"/labs/guests/isa/*.c; do
        [[ -e $f ]] || continue
        b=$(basename "$f"); names+=("${b%.*}")
    done
fi

failed=0
for name in "${names[@]}"; do
    elf="$out/$name.elf"
    if [[ ! -f $elf ]]; then echo "MISSING $name"; failed=1; continue; fi
    log=$(mktemp)
    # shellcheck disable=SC2086
    timeout "$timeout_s" "$qemu" -M virt -m 128M -nographic -bios none ${QEMU_ARGS:-} -kernel "$elf" \
        >"$log" 2>&1 </dev/null
    rc=$?
    case $rc in
        0)   echo "pass    $name" ;;
        124) echo "TIMEOUT $name (no finisher write within ${timeout_s}s)"; failed=1 ;;
        *)   echo "FAIL    $name: check $rc  $(tr -d '\r' <"$log" | tr '\n' ' ' | cut -c1-200)"; failed=1 ;;
    esac
    rm -f "$log"
done
exit $failed
