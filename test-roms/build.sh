#!/usr/bin/env bash
# Assemble every test ROM: test-roms/NAME.asm -> test-roms/NAME.bin (flat 64 KiB).
# Runs nasm from inside test-roms/ so that %include "inc/..." resolves.
# Extra arguments go to nasm (e.g. ./build.sh -DSDM_EXTRA).
set -euo pipefail
cd "$(dirname "$0")"
command -v nasm >/dev/null || { echo "build.sh: nasm not found" >&2; exit 1; }
shopt -s nullglob
n=0
for src in *.asm; do
    nasm -f bin "$@" -o "${src%.asm}.bin" "$src"
    n=$((n + 1))
done
echo "build.sh: assembled $n ROMs"
