#!/usr/bin/env bash
# Writes the disk fixture the disk benchmark reads: OUT, 1 MiB = 2048 sectors of 512 bytes.
# Sectors 0..1023 hold a pattern the benchmark checks: the sector number as a little-endian
# 64-bit integer, then byte j (8 <= j < 512) = (sector*7 + j) mod 256 (user/bench.c, fill()).
# Sectors 1024..2047 are zero: scratch space the benchmark writes and reads back.
# Deterministic, so it is generated on demand rather than committed.
set -euo pipefail
out=${1:?usage: mkdisk.sh OUT}
perl -e '
    for my $s (0 .. 1023) {
        print pack("Q<", $s), pack("C*", map { ($s * 7 + $_) & 0xff } 8 .. 511);
    }
    print "\0" x (1024 * 512);
' > "$out"
