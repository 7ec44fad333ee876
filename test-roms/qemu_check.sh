#!/usr/bin/env bash
# Run every ROM that has a NAME.expected under qemu-system-i386 and compare its
# debug-console output with NAME.expected. Usage: ./qemu_check.sh [NAME...]
set -uo pipefail
cd "$(dirname "$0")"
./build.sh >/dev/null || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ $# -gt 0 ]; then names=("$@"); else
    names=(); for e in *.expected; do names+=("${e%.expected}"); done
fi
pass=0; fail=0
for n in "${names[@]}"; do
    timeout 60 qemu-system-i386 -bios "$n.bin" -debugcon "file:$tmp/$n.out" \
        -device isa-debug-exit,iobase=0xf4,iosize=1 -display none -no-reboot -nodefaults
    rc=$?
    if [ $rc -eq 1 ] && cmp -s "$tmp/$n.out" "$n.expected"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $n (qemu exit $rc)"
        diff "$n.expected" "$tmp/$n.out" | head -20
    fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
