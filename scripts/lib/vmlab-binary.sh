# Sourced by the scripts that boot guests with `vmlab boot` (check-riscv-tests, check-linux).
#
# vmlab_binary ROOT
#   prints the vmlab to run: $VMLAB when set, else the checkout's release build, which
#   scripts/vmlab brings up to date (installing what the build needs); status 1 when that fails.
vmlab_binary() {
    if [[ -n ${VMLAB:-} ]]; then echo "$VMLAB"; return 0; fi
    "$1/scripts/vmlab" --version >/dev/null || return 1
    echo "$(cd "$1" && swift build -c release --show-bin-path)/vmlab"
}
