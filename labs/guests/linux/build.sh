#!/usr/bin/env bash
# build-guests: its own
# Builds Linux into OUTDIR: OUTDIR/Image, the kernel as QEMU's -kernel takes it (a raw image,
# entered at its first byte on a 2 MiB boundary), and OUTDIR/linux.elf, the same bytes as an ELF
# for 0x80200000 whose memory size is the image's own (the `image_size` of its header: code, data
# and bss), for `vmlab.guest "linux"`. The kernel is tinyconfig plus vmlab.config; its initramfs
# holds init.c, built for riscv64 Linux without a C library, as /init.
#
# The source is Debian's linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz, installed by
# scripts/setup --with-test-tools), unpacked into OUTDIR/src, or the tree LINUX_SOURCE names (not
# written to: the build is out of tree, in OUTDIR/build). The build is reproducible (no date, user
# or host in the image) and redone only when this folder, the source or the compiler changed:
# about four minutes on two cores the first time. JOBS sets make's parallelism.
#
# The first line marks the folder for scripts/build-guests: it is built only when named, and this
# script decides itself what is stale. Run it directly or through scripts/build-guests linux.
set -uo pipefail
out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "linux/build.sh: $*" >&2; exit 1; }
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)

# Everything from the Swift toolchain's LLVM, named one by one (LLVM=1 alone would also look for
# llvm-readelf and llvm-strip, which the toolchain does not ship and this build does not need).
# CC (scripts/build-guests sets it) names the clang; run directly, the toolchain's (lib/toolchain.sh).
if [[ -n ${CC:-} ]]; then
    compiler=$CC
    tools=$(dirname "$(readlink -f "$compiler")")
else
    # shellcheck source=../../../scripts/lib/toolchain.sh
    source "$here/../../../scripts/lib/toolchain.sh"
    tools=$(toolchain_bin linux/build.sh) || exit 1
    compiler=$tools/clang
fi
for tool in clang ld.lld llvm-ar llvm-nm llvm-objcopy llvm-objdump; do
    [[ -x $tools/$tool ]] || fail "$tool not found beside $compiler (it ships with the Swift toolchain)"
done
for tool in make flex bison bc perl; do
    command -v $tool >/dev/null || fail "needs $tool (scripts/setup --with-test-tools installs it)"
done
export KBUILD_BUILD_TIMESTAMP="1970-01-01 00:00:00 UTC" KBUILD_BUILD_USER=vmlab KBUILD_BUILD_HOST=vmlab KBUILD_BUILD_VERSION=1
kmake=(make -s ARCH=riscv LLVM=1 CC="$tools/clang" LD="$tools/ld.lld" AR="$tools/llvm-ar"
       NM="$tools/llvm-nm" OBJCOPY="$tools/llvm-objcopy" OBJDUMP="$tools/llvm-objdump"
       HOSTCC="$tools/clang" HOSTLD="$tools/ld.lld" HOSTAR="$tools/llvm-ar")

source_dir=${LINUX_SOURCE:-}
if [[ -z $source_dir ]]; then
    tarball=/usr/src/linux-source-6.1.tar.xz
    [[ -f $tarball ]] || fail "$tarball not found: apt-get install linux-source-6.1 (scripts/setup --with-test-tools), or set LINUX_SOURCE to a Linux tree"
    source_id="$tarball $(stat -c '%s %Y' "$tarball")"
    if [[ ! -f $out/src/.unpacked || $(cat "$out/src/.unpacked") != "$source_id" ]]; then
        echo "unpacking $tarball" >&2
        rm -rf "$out/src" && mkdir -p "$out/src" || exit 1
        tar -xf "$tarball" -C "$out/src" --strip-components=1 || fail "cannot unpack $tarball"
        echo "$source_id" >"$out/src/.unpacked"
    fi
    source_dir="$out/src"
fi
[[ -f $source_dir/Makefile && -d $source_dir/arch/riscv ]] || fail "$source_dir is not a Linux source tree"
source_dir=$(cd "$source_dir" && pwd)
version=$(cd "$source_dir" && make -s kernelversion 2>/dev/null)

build="$out/build"
stamp=$({ cat "$here/build.sh" "$here/vmlab.config" "$here/init.c"; "$tools/clang" --version
          echo "$source_dir $version"; cat "$source_dir/.unpacked" 2>/dev/null; } | sha256sum | cut -d' ' -f1)
[[ -f $out/Image && -f $out/linux.elf && -f $out/.kernel-stamp && $(cat "$out/.kernel-stamp") == "$stamp" ]] && exit 0

echo "building Linux $version in $build" >&2
mkdir -p "$build" || exit 1
rm -f "$out/.kernel-stamp"
"$tools/clang" --target=riscv64-unknown-linux-gnu -march=rv64gc -mabi=lp64d -O2 -static -nostdlib \
    -ffreestanding -fno-builtin -fno-stack-protector -fuse-ld=lld -Wall -Wextra -Werror \
    -o "$out/init" "$here/init.c" || fail "init.c did not build"
# The initramfs records /init's modification time: make it the epoch, for a reproducible image, and
# have make build the archive again (with its input's time fixed, make cannot tell it changed).
touch -d @0 "$out/init" && rm -f "$build/usr/initramfs_data.cpio" || exit 1
printf '%s\n' 'dir /dev 0755 0 0' 'nod /dev/console 0600 0 0 c 5 1' 'dir /proc 0755 0 0' \
    "file /init $out/init 0755 0 0" >"$out/initramfs.list"
# The fragment, with the initramfs list, whose path only this script knows.
{ cat "$here/vmlab.config"; echo "CONFIG_INITRAMFS_SOURCE=\"$out/initramfs.list\""; } >"$out/fragment.config"
"${kmake[@]}" -C "$source_dir" O="$build" tinyconfig >"$out/build.log" 2>&1 &&
    (cd "$build" && "$source_dir/scripts/kconfig/merge_config.sh" -m .config "$out/fragment.config") >>"$out/build.log" 2>&1 &&
    "${kmake[@]}" -C "$source_dir" O="$build" olddefconfig >>"$out/build.log" 2>&1 ||
    fail "configuring the kernel failed; see $out/build.log"
# Every line of the fragment must have survived olddefconfig (a dependency it lacks would drop it).
missing=()
while IFS= read -r line; do
    [[ $line =~ ^CONFIG_ ]] || continue
    grep -qxF -- "$line" "$build/.config" || missing+=("$line")
done <"$out/fragment.config"
((${#missing[@]} == 0)) || fail "the kernel configuration dropped: ${missing[*]}"
"${kmake[@]}" -C "$source_dir" O="$build" -j"${JOBS:-$(nproc)}" Image >>"$out/build.log" 2>&1 ||
    fail "the kernel did not build; see $out/build.log"
cp "$build/arch/riscv/boot/Image" "$out/Image" || exit 1

# linux.elf: the image at 0x80200000, its bss after it (the header's image_size, bytes 16-23).
image_size=$(od -An -t u8 -j 16 -N 8 "$out/Image" | tr -d ' ')
file_size=$(stat -c %s "$out/Image")
((image_size >= file_size)) || fail "Image header: image_size $image_size is below the file's $file_size bytes"
cat >"$out/linux.S" <<EOF
    .section .kernel, "awx", @progbits
    .globl _start
_start:
    .incbin "$out/Image"
    .section .kernel.bss, "aw", @nobits
    .zero $((image_size - file_size))
EOF
printf '%s\n' 'ENTRY(_start)' 'SECTIONS {' '  . = 0x80200000;' '  .kernel : { *(.kernel) }' \
    '  .kernel.bss (NOLOAD) : { *(.kernel.bss) }' '}' >"$out/linux.ld"
"$tools/clang" --target=riscv64-unknown-elf -c -o "$out/linux.o" "$out/linux.S" &&
    "$tools/ld.lld" -T "$out/linux.ld" -o "$out/linux.elf" "$out/linux.o" || fail "linux.elf did not link"
echo "$stamp" >"$out/.kernel-stamp"
