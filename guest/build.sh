#!/usr/bin/env bash
# Builds every kvmos kernel image (the workspace's bins) soft-float for
# x86_64-unknown-none and copies each ELF to target/kvmos/<name>, where the
# host loads it from. Then checks that no ring-0 code contains an SSE/x87
# instruction: on PVM ring 0 is emulated and SSE arithmetic kills the guest
# (docs/platform.md). Only the `.user` section (ring-3 code) may have them.
# FXSAVE/FXRSTOR are allowed: they only move the user's SSE state to and
# from memory (signal frames, process/deliver.rs).
#
# Toolchain: Debian's rustc + library sources (packages rustc-web,
# cargo-web, rust-web-src; crates.io is not needed, the std library's own
# dependencies are vendored in the sources), or else rustup nightly with
# the rust-src component.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD

say() { printf 'guest: %s\n' "$*"; }
die() { printf 'guest: error: %s\n' "$*" >&2; exit 1; }

target=x86_64-unknown-none
rustflags="['-C','linker=ld','-C','linker-flavor=ld','-C','link-arg=-T$here/kernel/link.ld','-C','relocation-model=static','-C','code-model=kernel']"
build_std=(-Zbuild-std=core,compiler_builtins,alloc -Zbuild-std-features=compiler-builtins-mem)

command -v ld >/dev/null && command -v objdump >/dev/null \
  || die "ld and objdump are missing: install binutils (apt-get install binutils)"

# Debian's toolchain: its rustc version names its library sources.
vendor=""
if [[ -x /usr/bin/rustc && -x /usr/bin/cargo ]]; then
  version=$(/usr/bin/rustc --version | awk '{print $2}')
  if [[ -d /usr/src/rustc-$version/library/vendor ]]; then
    vendor=/usr/src/rustc-$version/library/vendor
  fi
fi

if [[ -n $vendor ]]; then
  say "building kernel images with Debian's rustc $version (soft-float, $target)"
  cargo=(env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo)
  config=(--config 'source.crates-io.replace-with="std-vendor"' --config "source.std-vendor.directory=\"$vendor\"")
elif command -v rustup >/dev/null && rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
  say "building kernel images with rustup nightly + rust-src (soft-float, $target)"
  cargo=(rustup run nightly cargo)
  config=()
else
  die "no toolchain that can build core for $target. On Debian/Ubuntu: apt-get install rustc-web cargo-web rust-web-src (provides /usr/bin/rustc and /usr/src/rustc-<version>/library/vendor). Elsewhere: rustup toolchain install nightly --component rust-src"
fi

# The ring-3 demo programs first (their own workspace, host target):
# apps/build.sh writes target/kvmos/apps/<name>, which the host puts in the
# initramfs of the torus and paint images.
if [[ -f apps/build.sh ]]; then
  say "building the ring-3 apps (apps/build.sh)"
  bash apps/build.sh || die "apps/build.sh failed"
fi

# Cargo's JSON messages name every executable it produced (diagnostics
# are still rendered for people, on stderr).
elfs=$("${cargo[@]}" build --release --bins --target "$target" "${build_std[@]}" "${config[@]}" \
  --config "target.$target.rustflags=$rustflags" --quiet --message-format=json-render-diagnostics \
  | grep -o '"executable":"[^"]*"' | cut -d'"' -f4) || die "cargo build failed"
[[ -n $elfs ]] || die "cargo built no kernel image (no bin in the workspace?)"

out=target/kvmos
mkdir -p "$out"
for elf in $elfs; do
  name=$(basename "$elf")
  rm -f "$out/$name"
  sections=$(objdump -h -w "$elf" | awk '$0 ~ /CODE/ && $2 !~ /^\.user/ {print $2}' | tr '\n' ' ')
  bad=""
  for s in $sections; do
    found=$(objdump -d -M intel -j "$s" --no-show-raw-insn "$elf" \
      | grep -Ei '^\s*[0-9a-f]+:\s+((f[a-z0-9]+|emms)\b|.*\b[xyz]?mm[0-9]+\b)' \
      | grep -Eiv '^\s*[0-9a-f]+:\s+fx(save|rstor)(64)?\s' || true)
    [[ -z $found ]] || bad+="$found"$'\n'
  done
  if [[ -n $bad ]]; then
    printf '%s\n' "$bad" | head -20 >&2
    die "$name: SSE/x87 instructions in ring-0 code (sections: ${sections% }); PVM's emulated ring 0 cannot run them; only .user (ring-3) code may use SSE"
  fi
  cp "$elf" "$out/$name"
  say "$out/$name ($(stat -c %s "$out/$name") bytes; no SSE/x87 in ring-0 sections: ${sections% })"
done
