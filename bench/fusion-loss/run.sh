#!/usr/bin/env bash
# about: fusion loss memory and time, K-sparse target (gather) vs dense [batch, length, vocab] target
# Usage: bench/run fusion-loss [BATCH LENGTH VOCAB]   (default 2 1024 32000)
# Each mode runs in its own process; peak_extra_mb is the resident memory added during forward+backward
# (VmHWM minus VmRSS after the inputs exist). Last line: memory_ratio(dense/sparse)=X.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$root/scripts/ensure-deps.sh"
bin="$root/.artifacts/bench/fusion-loss"
"$root/bench/quiet-build.sh" "$root/bench/FusionLoss/FuseChat.Bench.FusionLoss.csproj" -c Release -o "$bin"
s="$(dotnet "$bin/FuseChat.Bench.FusionLoss.dll" sparse "$@")"
d="$(dotnet "$bin/FuseChat.Bench.FusionLoss.dll" dense "$@")"
echo "$s"
echo "$d"
sm="$(sed -E 's/.*"peak_extra_mb":([0-9.]+).*/\1/' <<<"$s")"
dm="$(sed -E 's/.*"peak_extra_mb":([0-9.]+).*/\1/' <<<"$d")"
awk -v d="$dm" -v s="$sm" 'BEGIN { printf "memory_ratio(dense/sparse)=%.2f\n", d / s }'
