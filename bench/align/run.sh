#!/usr/bin/env bash
# about: DTW token alignment of 1k x 1k-token pairs: pairs/s and ms per pair per core (goal <= 1 ms)
# Usage: bench/run align [--pairs=N] [--rounds=N]
# Builds bench/Align in Release and prints single-thread and all-core figures, medians of several rounds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/.artifacts/bench/align"
dotnet build "$root/bench/Align/FuseChat.Bench.Align.csproj" -c Release -o "$out" -nologo -v quiet >/dev/null
dotnet "$out/FuseChat.Bench.Align.dll" "$@"
