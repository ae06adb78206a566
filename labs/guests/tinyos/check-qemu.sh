#!/usr/bin/env bash
# Boots tinyos under QEMU (the stand-in for vmlab's own QEMU-virt-compatible machine) once per
# case of expected/cases.txt and compares each run's output with expected/CASE.out. Lines
# starting with "# " (cycle counts, boot facts) and the firmware's banner are left out of the
# comparison, exactly as labs do when they compare runs across virtualisation modes.
#
# Usage: labs/guests/tinyos/check-qemu.sh [--update] [CASE...]
#   --update   rewrite the expected files from this run instead of comparing
# TINYOS_QEMU_FLAGS adds QEMU options, e.g. "-icount shift=7" to run the same cases with another
# notion of time; TINYOS_BOOTARGS puts words before each case's bootargs, e.g. "paging=sv48" to run
# them with Sv48 address spaces: either way the compared output must not change.
# Exits 0 when every case matches, 1 otherwise; skips (exit 0) without qemu-system-riscv64.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)

# The cases: NAME|BOOTARGS|DISK lines in expected/cases.txt (comments start with #).
cases=()
while IFS= read -r line; do
    [[ -z $line || $line == \#* ]] || cases+=("$line")
done < "$here/expected/cases.txt"

update=0
if [[ ${1:-} == --update ]]; then update=1; shift; fi
wanted=("$@")

if ! command -v qemu-system-riscv64 >/dev/null; then
    echo "check-qemu: qemu-system-riscv64 not found; skipping the tinyos QEMU checks"
    exit 0
fi

"$root/scripts/build-guests" tinyos
kernel="$root/.build/guests/tinyos/tinyos.elf"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/mkdisk.sh" "$work/disk.img"

failures=0
for entry in "${cases[@]}"; do
    IFS='|' read -r name bootargs disk <<< "$entry"
    # Before the case's own words: init= takes the rest of the line.
    bootargs="${TINYOS_BOOTARGS:+$TINYOS_BOOTARGS }$bootargs"
    if ((${#wanted[@]})); then
        match=0
        for w in "${wanted[@]}"; do [[ $w == "$name" ]] && match=1; done
        ((match)) || continue
    fi
    drive=()
    if [[ $disk == disk ]]; then
        cp "$work/disk.img" "$work/run.img"   # a fresh fixture per run: the benchmark writes
        drive=(-global virtio-mmio.force-legacy=false
               -drive "file=$work/run.img,format=raw,if=none,id=d0" -device virtio-blk-device,drive=d0)
    fi
    status=0
    # shellcheck disable=SC2086  # TINYOS_QEMU_FLAGS is a list of words
    timeout 60 qemu-system-riscv64 -M virt -m 128M -smp 1 -nographic -bios default \
        ${TINYOS_QEMU_FLAGS:-} -kernel "$kernel" -append "$bootargs" "${drive[@]}" < /dev/null > "$work/raw" 2>&1 || status=$?
    # From tinyos's first line on, without carriage returns and "# " lines.
    tr -d '\r' < "$work/raw" | sed -n '/^# tinyos: /,$p' | grep -v '^# ' > "$work/$name.out" || true
    expected="$here/expected/$name.out"
    if ((update)); then
        cp "$work/$name.out" "$expected"
        echo "updated  $name"
    elif ((status != 0)); then
        echo "FAILED   $name: qemu exited with status $status (124: timed out)"
        tail -n 20 "$work/raw" | sed 's/^/    /'
        failures=$((failures + 1))
    elif ! diff -u "$expected" "$work/$name.out" > "$work/diff"; then
        echo "FAILED   $name: output differs from expected/$name.out"
        sed 's/^/    /' "$work/diff"
        failures=$((failures + 1))
    else
        echo "ok       $name${TINYOS_BOOTARGS:+ ($TINYOS_BOOTARGS)}"
    fi
done
if ((failures)); then echo "check-qemu: $failures case(s) failed"; exit 1; fi
echo "check-qemu: all cases passed"
