#!/usr/bin/env bash
# Builds the ring-3 demo programs `torus` and `paint`: static Linux x86-64
# ELF executables without libc (target x86_64-unknown-linux-gnu, rustup's
# stable toolchain, release: opt-level 3, LTO, panic=abort), checks them
# (ELF64, x86-64, ET_EXEC, no PT_INTERP, no PT_DYNAMIC) and copies them to
# ../target/kvmos/apps/{torus,paint}. Then builds the native benchmark
# `torus-bench` (std, host). Prints one line.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf 'apps: %s\n' "$*"; }
die() { printf 'apps: error: %s\n' "$*" >&2; exit 1; }

# Flags from the caller's environment would replace .cargo/config.toml's.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS RUSTC RUSTC_WRAPPER

if command -v rustup >/dev/null 2>&1 && rustup run stable cargo --version >/dev/null 2>&1; then
  cargo=(rustup run stable cargo)
elif command -v cargo >/dev/null 2>&1; then
  cargo=(cargo)
else
  die "cargo is missing: install Rust's stable toolchain for x86_64-unknown-linux-gnu (https://rustup.rs: rustup toolchain install stable)"
fi

target=x86_64-unknown-linux-gnu
out=../target/kvmos/apps

# Cargo's JSON messages name the executables (diagnostics still go to
# stderr for people).
elfs=$("${cargo[@]}" build --release --target "$target" -p torus -p paint --bins \
  --quiet --message-format=json-render-diagnostics \
  | grep -o '"executable":"[^"]*"' | cut -d'"' -f4) || die "cargo build of torus and paint failed"

# u16/u32/u64 little-endian at an offset of a file.
field() { od -An -t "u$3" -j "$2" -N "$3" "$1" | tr -d ' '; }

check_elf() {
  local elf=$1 name
  name=$(basename "$elf")
  [[ $(head -c 4 "$elf" | od -An -t x1 | tr -d ' ') == 7f454c46 ]] || die "$name: not an ELF file"
  [[ $(field "$elf" 4 1) == 2 && $(field "$elf" 5 1) == 1 ]] || die "$name: not a little-endian ELF64 file"
  [[ $(field "$elf" 18 2) == 62 ]] || die "$name: not x86-64 (e_machine $(field "$elf" 18 2))"
  [[ $(field "$elf" 16 2) == 2 ]] || die "$name: not a position-dependent executable (ET_EXEC); e_type $(field "$elf" 16 2)"
  local phoff phentsize phnum i type
  phoff=$(field "$elf" 32 8); phentsize=$(field "$elf" 54 2); phnum=$(field "$elf" 56 2)
  for ((i = 0; i < phnum; i++)); do
    type=$(field "$elf" $((phoff + i * phentsize)) 4)
    [[ $type != 3 ]] || die "$name: has PT_INTERP (dynamically linked); it must be static"
    [[ $type != 2 ]] || die "$name: has PT_DYNAMIC; it must be a static executable"
  done
}

mkdir -p "$out"
report=()
for name in torus paint; do
  elf=$(grep "/$name\$" <<<"$elfs" || true)
  [[ -n $elf && -f $elf ]] || die "cargo built no $name executable"
  check_elf "$elf"
  rm -f "$out/$name"
  cp "$elf" "$out/$name"
  report+=("$name $(stat -c %s "$out/$name") bytes")
done

bench=$("${cargo[@]}" build --release -p torus-bench --quiet --message-format=json-render-diagnostics \
  | grep -o '"executable":"[^"]*"' | cut -d'"' -f4) || die "cargo build of torus-bench failed"
[[ -x $bench ]] || die "cargo built no torus-bench executable"

say "$(cd "$out" && pwd) {${report[0]}, ${report[1]}} (static x86-64 ET_EXEC, no PT_INTERP); native benchmark $bench"
