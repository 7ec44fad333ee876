#!/bin/bash
# Cross-check a ROM's expected output on the host CPU: assemble the part of
# NAME.asm between ";@native-begin" and ";@native-end" (plus the lines between
# "; @defs-begin" and "; @defs-end") as a 32-bit Linux program, run it, and
# compare its output with the matching lines of NAME.expected.
# Needs nasm, ld and a kernel that runs i386 ELF binaries. Usage: native_check.sh real_arith
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
roms=$(dirname "$here")
name=${1:-real_arith}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  echo '%include "native.inc"'
  sed -n '/^; @defs-begin/,/^; @defs-end/p' "$roms/$name.asm"
  echo 'section .text'
  echo 'global _start'
  echo '_start:'
  sed -n '/^;@native-begin/,/^;@native-end/p' "$roms/$name.asm"
  echo '    jmp n_exit'
  echo '%include "native_rt.inc"'
} > "$tmp/n.asm"
nasm -f elf32 -I "$here/" -o "$tmp/n.o" "$tmp/n.asm"
ld -m elf_i386 -o "$tmp/n" "$tmp/n.o"
"$tmp/n" > "$tmp/native.out"
n=$(wc -l < "$tmp/native.out")
# the native part starts right after the first line of the ROM's output
sed -n "2,$((n + 1))p" "$roms/$name.expected" > "$tmp/expected.part"
if diff -u "$tmp/expected.part" "$tmp/native.out" > "$tmp/diff"; then
  echo "$name: $n native lines match"
else
  cat "$tmp/diff"
  echo "$name: native output differs"
  exit 1
fi
