#!/usr/bin/env bash
# Command 2 of the README: install what is missing, then build, lint,
# typecheck and run every test (ava: unit, property and real-KVM tests;
# cargo test for guest logic).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
# One task at a time: guests on TCG take whole cores, and timing-sensitive
# tests (window close, web pacing) must not share them with another package's guests.
exec pnpm exec turbo run build lint typecheck test --output-logs=new-only --continue=never --concurrency=1 "$@"
