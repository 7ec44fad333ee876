#!/usr/bin/env bash
# Times the automated Debian boot (kernel + busybox initramfs, /init prints
# RX86-BOOT-OK and powers off) under rx86 and under qemu-system-i386 (TCG) in the
# same run, and prints the ratio. The machines are shared and noisy: compare the
# ratio, not the seconds.
#
# Usage: scripts/boot-time.sh [RUNS] [-- extra rx86 run arguments]
#   RUNS defaults to 1. Needs guests/ from scripts/debian-guest.sh and
#   qemu-system-i386 (Debian package qemu-system-x86).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${1:-1}"
shift || true
[ "${1:-}" = "--" ] && shift
EXTRA=("$@")

for f in guests/vmlinuz guests/initrd.gz; do
    [ -f "$f" ] || { echo "error: $f missing; run scripts/debian-guest.sh first" >&2; exit 2; }
done
command -v qemu-system-i386 >/dev/null || { echo "error: qemu-system-i386 not found (apt-get install qemu-system-x86)" >&2; exit 2; }
cargo build --release --quiet

APPEND="console=ttyS0 rx86.auto"
now() { date +%s.%N; }

time_one() { # name command...
    local name="$1"; shift
    local log; log="$(mktemp)"
    local t0 t1
    t0="$(now)"
    "$@" >"$log" 2>&1 || true
    t1="$(now)"
    if ! grep -q RX86-BOOT-OK "$log"; then
        echo "error: $name did not reach the marker; log in $log" >&2
        exit 1
    fi
    rm -f "$log"
    python3 -c "print($t1 - $t0)"
}

printf '%-4s %12s %12s %8s\n' run "rx86 (s)" "qemu (s)" ratio
for i in $(seq 1 "$RUNS"); do
    r="$(time_one rx86 target/release/rx86 run --kernel guests/vmlinuz --initrd guests/initrd.gz \
        --append "$APPEND" --memory 256 --serial stdio "${EXTRA[@]}" </dev/null)"
    q="$(time_one qemu qemu-system-i386 -accel tcg -m 256 -kernel guests/vmlinuz \
        -initrd guests/initrd.gz -append "$APPEND" -nographic -no-reboot -monitor none </dev/null)"
    printf '%-4s %12.1f %12.1f %8.1f\n' "$i" "$r" "$q" "$(python3 -c "print($r / $q)")"
done
