#!/usr/bin/env bash
# Writes the virtio_blk guest's fixture: SECTORS (default 64) 512-byte sectors, sector s filled with
# the letter 'A' + s % 26. Usage: make-blk-fixture.sh OUT.img [SECTORS]
set -euo pipefail
out=$1; sectors=${2:-64}
letters=ABCDEFGHIJKLMNOPQRSTUVWXYZ
: > "$out"
for ((s = 0; s < sectors; s++)); do
    head -c 512 /dev/zero | tr '\0' "${letters:s%26:1}" >> "$out"
done
