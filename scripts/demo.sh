#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and runs the offline demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
exec bash scripts/demo-run.sh build
