#!/usr/bin/env bash
# Builds the S-mode programs entered where OpenSBI's fw_jump (FW_JUMP_ADDR) and vmlab's built-in SBI
# enter a kernel, 0x80200000: `payload` (the boot hand-over check) and `sbitest` (SBI calls through
# real interrupts). Called by scripts/build-guests as `build.sh OUTDIR` with CC, LD, OBJCOPY and
# GUEST_CFLAGS exported; writes OUTDIR/<name>.elf and OUTDIR/<name>.bin.
set -euo pipefail
out=$1
build() { # name sources...
    local name=$1; shift
    # shellcheck disable=SC2086
    "$CC" $GUEST_CFLAGS -I../common -fuse-ld=lld -Wl,-T,payload.ld -Wl,--no-relax -o "$out/$name.elf" "$@"
    "$OBJCOPY" -O binary "$out/$name.elf" "$out/$name.bin"
}
build payload start.S payload.c
build sbitest start.S trap.S sbitest.c
