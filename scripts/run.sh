#!/usr/bin/env bash
# Command 1 of the README: install what is missing, build, and run alertbridge with the
# example config on its embedded SQLite under ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh build
exec ./build/alertbridge serve --config config-examples/alertbridge.yml
