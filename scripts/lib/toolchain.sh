# Sourced by the scripts that build guests (build-guests, check-arch-tests, check-riscv-tests,
# labs/guests/linux/build.sh).
#
# toolchain_bin CALLER
#   prints the directory of the Swift toolchain's LLVM tools (clang, ld.lld, llvm-objcopy...):
#   the one `swift` lives in, symlinks resolved; status 1 with a message on stderr, headed CALLER,
#   when neither it nor the fallback below holds clang and ld.lld.
#
# Why beside `swift` and not the first `clang` on PATH: guests are built by the toolchain's own
# clang, and the labs' recorded counters hold for the code it generates. A distribution's clang
# (apt's, often first on PATH) compiles the same sources to other instructions, so every count
# would move. Only when no Swift toolchain is on PATH (a checker run with VMLAB set, say) does a
# `clang` on PATH serve, from its own directory, so that ld.lld and the rest come from the same
# LLVM.
toolchain_bin() {
    local tool found dir
    for tool in swift clang; do
        found=$(command -v "$tool") || continue
        dir=$(dirname "$(readlink -f "$found")")
        if [[ -x $dir/clang && -x $dir/ld.lld ]]; then echo "$dir"; return 0; fi
    done
    echo "$1: the Swift toolchain's clang and ld.lld were not found (looked beside 'swift' and 'clang' on PATH);" \
         "install the Swift toolchain (swift.org), which ships them" >&2
    return 1
}
