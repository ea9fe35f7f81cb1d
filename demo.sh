#!/usr/bin/env bash
# Command 1 of the README: install what is missing, build, then show the
# spinning torus. With a display (DISPLAY or WAYLAND_DISPLAY) it opens a
# window: drag to orbit, wheel to zoom, space stops the spin, Q or closing
# the window quits. Without one it runs headless and saves a recording:
# demo-output/torus/frame-*.png (3 seconds at 60 frames/s) and
# demo-output/torus.png (the last frame). Extra arguments go to kvmos.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec pnpm --silent --filter cli start torus "$@"
fi

out=$PWD/demo-output
rm -rf "$out/torus"
printf 'demo: no display (DISPLAY is not set): recording the torus headless into %s\n' "$out" >&2
pnpm --silent --filter cli start torus --headless --fixed-time --frames 180 \
  --record "$out/torus" --screenshot "$out/torus.png" "$@"
printf 'demo: 180 frames in %s/torus/, the last one in %s/torus.png\n' "$out" "$out" >&2
printf 'demo: with a display, the same command opens a window you can drag and zoom\n' >&2
