#!/usr/bin/env bash
# Runs every ISA test program (or the ones named) under a peer, QEMU or (with --spike) Spike, the
# reference interpreter, through scripts/spike, and reports per program. The sifive_test finisher
# makes the peer exit with status 0 on pass (0x5555) and with the failure code (value >> 16, here
# the check number, mod 256) on fail; a program that never reaches the finisher is killed by the
# time-out and reported as such.
#
# Usage: labs/guests/isa/check-peer.sh [--spike] [NAME...]   (builds first; exit status 1 if any failed)
# Environment: QEMU (default qemu-system-riscv64), SPIKE (scripts/spike), TIMEOUT seconds per program (default 10),
#              QEMU_ARGS extra arguments (e.g. "-icount shift=0" for time driven by instructions,
#              as in vmlab; "-smp 2" to check that other harts park),
#              VMLAB_GUESTS_OUT (default .build/guests, as scripts/build-guests).
set -uo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
out="${VMLAB_GUESTS_OUT:-$root/.build/guests}/isa"
qemu=${QEMU:-qemu-system-riscv64}
timeout_s=${TIMEOUT:-10}
# the peer's command line, to which the program's ELF is appended
read -ra qemu_args <<<"${QEMU_ARGS:-}"
peer=("$qemu" -M virt -m 128M -nographic -bios none "${qemu_args[@]}" -kernel)
if [[ ${1:-} == --spike ]]; then peer=("$root/scripts/spike"); shift; fi
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
    # The guest's UART (its explanation of a failure) first, then what the peer said on stderr.
    timeout "$timeout_s" "${peer[@]}" "$elf" >"$log" 2>"$log.stderr" </dev/null
    rc=$?
    cat "$log.stderr" >>"$log"
    case $rc in
        0)   echo "pass    $name" ;;
        124) echo "TIMEOUT $name (no finisher write within ${timeout_s}s)"; failed=1 ;;
        *)   echo "FAIL    $name: check $rc  $(tr -d '\r' <"$log" | tr '\n' ' ' | cut -c1-200)"; failed=1 ;;
    esac
    rm -f "$log" "$log.stderr"
done
exit $failed
