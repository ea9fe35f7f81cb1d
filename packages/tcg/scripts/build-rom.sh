#!/usr/bin/env bash
# Assembles rom/rom.S into dist/rom.bin (64 KiB, linked at 0xFFFF0000):
# QEMU's `-bios` for the TCG back end. Needs GNU as and ld (binutils).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v as >/dev/null && command -v ld >/dev/null \
  || { echo "tcg: error: as and ld are missing: install binutils (apt-get install binutils)" >&2; exit 1; }
mkdir -p dist
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
as --64 -o "$tmp/rom.o" rom/rom.S
ld -m elf_x86_64 -Ttext=0xFFFF0000 -e 0 --oformat binary -o dist/rom.bin "$tmp/rom.o"
size=$(stat -c %s dist/rom.bin)
[ "$size" -eq 65536 ] || { echo "tcg: error: dist/rom.bin is $size bytes; it must be 65536" >&2; exit 1; }
