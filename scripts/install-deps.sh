#!/usr/bin/env bash
# Installs every Debian 12 package that tvkit's build, tests, fuzzing, demo and benchmarks need,
# plus the npm packages the interoperability tests and benchmarks use (into tests/node/node_modules).
# Idempotent: packages already present are not reinstalled; apt-get update runs at most once.
# Run as root (or with sudo available). Nothing else is installed by hand anywhere.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: run as root (or install sudo)" >&2; exit 1; fi
fi

pkgs=(
  build-essential cmake pkg-config git ca-certificates
  libwslay-dev libssl-dev zlib1g-dev libcmocka-dev
  clang-14 libclang-rt-14-dev llvm-14
  python3 python3-websockets openssl
  valgrind procps
)
# Node.js and npm: the interop tests (ws, @mathieuc/tradingview) and the peer benchmark.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# npm packages, pinned in tests/node/package.json, installed next to the test scripts.
if [ -f "$here/tests/node/package.json" ] && command -v npm >/dev/null 2>&1; then
  if [ ! -d "$here/tests/node/node_modules/ws" ] || [ ! -d "$here/tests/node/node_modules/@mathieuc/tradingview" ]; then
    echo "install-deps: npm install in tests/node"
    (cd "$here/tests/node" && npm install --no-audit --no-fund --loglevel=error) ||
      echo "install-deps: warning: npm install failed; Node interop tests will be skipped" >&2
  fi
fi
echo "install-deps: done"
