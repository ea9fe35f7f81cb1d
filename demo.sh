#!/usr/bin/env bash
# Command 1 of the README: install what is missing, build, run the main demo.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec pnpm --silent --filter cli start hello "$@"
