# Sourced by the scripts that run guests under QEMU and hold what they print to a recorded file
# (labs/guests/devices/run-under-qemu.sh, labs/guests/differential/check-qemu.sh).
#
# expect_output LABEL GOT EXPECTED [--update]
#   compares file GOT with the recorded file EXPECTED and prints "pass", or "FAIL" after the
#   diff (status 1); with --update, records GOT as EXPECTED instead.
expect_output() {
    local label=$1 got=$2 expected=$3 shown
    shown="expected/$(basename "$expected")"
    if [[ ${4:-} == --update ]]; then
        cp "$got" "$expected"
        echo "updated $shown"
    elif diff -u "$expected" "$got"; then
        echo "pass $label matches $shown"
    else
        echo "FAIL $label differs from $shown"
        return 1
    fi
}
