#!/usr/bin/env bash
# Builds the S-mode boot payload: linked at 0x80200000, where OpenSBI's fw_jump (FW_JUMP_ADDR) and
# vmlab's built-in SBI enter the kernel. Called by scripts/build-guests as `build.sh OUTDIR` with
# CC, LD, OBJCOPY and GUEST_CFLAGS exported; writes OUTDIR/payload.elf and OUTDIR/payload.bin.
set -euo pipefail
out=$1
# shellcheck disable=SC2086
"$CC" $GUEST_CFLAGS -I../common -fuse-ld=lld -Wl,-T,payload.ld -Wl,--no-relax \
    -o "$out/payload.elf" start.S payload.c
"$OBJCOPY" -O binary "$out/payload.elf" "$out/payload.bin"
