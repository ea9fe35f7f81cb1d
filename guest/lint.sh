#!/usr/bin/env bash
# Lints the kernel workspace (host-buildable crates) and guest/apps with
# clippy, warnings as errors. Where clippy is not installed (Debian's cargo
# comes without it) it says so and falls back to `cargo check`.
set -euo pipefail
cd "$(dirname "$0")"
kernel=(--workspace --exclude hello --exclude fbtest --exclude linux-exec --exclude torus --exclude paint)
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy "${kernel[@]}" -q -- -D warnings
  (cd apps && cargo clippy --all-targets -q -- -D warnings)
else
  echo "lint: cargo clippy is not installed; running cargo check only" >&2
  cargo check "${kernel[@]}" -q
  (cd apps && cargo check --all-targets -q)
fi
