#!/usr/bin/env bash
# Installs whatever kvmos needs and is missing on this machine, then builds.
# Idempotent: on a machine that has everything it only checks and builds.
# Needs root (or sudo) for Debian packages; every install step lives here so
# a fresh machine needs no hand work.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# Debian packages, each with the reason it is here.
debs=(
  rustc-web cargo-web rust-web-src   # soft-float kernel: Debian's rustc + library sources for -Zbuild-std
  binutils                           # ld links the kernel; objdump checks it has no SSE arithmetic
  gcc libc6-dev linux-libc-dev       # tests compile <linux/kvm.h> offsetof checks
  libsdl2-dev xvfb                   # the window (@kmamal/sdl builds against SDL 2.26) and a display for tests
  busybox-static musl-tools          # real Linux programs to run in the guest
  qemu-system-x86                    # the TCG back end: QEMU's software CPU where /dev/kvm is missing (--accel tcg)
  util-linux                         # setpriv --pdeathsig: QEMU never outlives the host
  qemu-user-static runsc             # peers to measure against (pnpm bench)
  cpio                               # tests check our initramfs against GNU cpio
  bubblewrap                         # the native oracle for host-directory tests: the same --ro-bind/--bind/--tmpfs view, run natively
  x11-apps xdotool python3           # display tests: xwd screenshots the SDL window, xdotool types and clicks, python3 (ctypes libX11) closes it and reads PNGs
  chromium                           # the web view's browser test: Playwright (playwright-core) drives it headless; it cannot download its own
)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root to install Debian packages: ${missing[*]}"
    sudo=sudo
  fi
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Host-side Rust (cargo test of guest logic) uses rustup's toolchain when
# present, else Debian's cargo installed above.
command -v cargo >/dev/null || die "no cargo on PATH even after installing cargo-web"

command -v node >/dev/null || die "Node.js 20 or newer is needed (https://nodejs.org)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || die "Node.js $(node --version) is too old: kvmos needs 20 or newer"

pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "$pnpm_version" ]; then
  say "installing pnpm $pnpm_version from npm"
  npm install -g --silent "pnpm@$pnpm_version" >/dev/null
fi

say "installing npm packages"
pnpm install --frozen-lockfile --reporter=silent

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
  if [ -e /dev/kvm ]; then
    say "warning: /dev/kvm is not readable and writable by $(id -un): add yourself to the kvm group (sudo usermod -aG kvm \$USER) and log in again"
  else
    say "note: /dev/kvm does not exist: guests run on QEMU's software CPU (TCG), slower; for KVM enable virtualization in your firmware or load kvm_intel / kvm_amd"
  fi
fi

say "building (turbo caches this)"
pnpm exec turbo run build --output-logs=errors-only
