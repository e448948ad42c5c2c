#!/usr/bin/env bash
# Installs the system packages FuseChat needs on Debian when they are missing:
# libtorch (headers + CMake config), OpenBLAS with threads (without it matrix products run ~25x slower),
# CMake and g++ for the native shim, Node.js/npm for test fixtures, python3-torch (the same libtorch)
# for cross-checks in tests and the PyTorch peers of benchmarks; redis-server (cluster-mode silo tests start a throwaway
# one) and prometheus for promtool, which lints the silo's /metrics in tests (19 MB download, 96 MB installed, ~10 s).
# Debian has no promtool-only package. On a machine with systemd both packages enable and start their services
# (Prometheus on :9090, Redis on :6379); containers without systemd start nothing. The tests use neither service.
# Usage: scripts/ensure-deps.sh
set -euo pipefail

packages=(libtorch-dev libopenblas0-pthread cmake g++ python3-torch redis-server prometheus)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v dotnet >/dev/null 2>&1 || { echo "error: the .NET 10 SDK (dotnet) is not on PATH; install it first" >&2; exit 1; }

if ((${#missing[@]})); then
  echo "installing system packages: ${missing[*]}" >&2
  if [[ $(id -u) -ne 0 ]]; then
    SUDO=sudo
    command -v sudo >/dev/null 2>&1 || { echo "error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  else
    SUDO=
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
