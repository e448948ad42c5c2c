#!/usr/bin/env bash
# about: fusion loss memory and time, K-sparse target (gather) vs dense [batch, length, vocab] target
# Usage: bench/run fusion-loss [BATCH LENGTH VOCAB [HIDDEN]]   (default 2 1024 32000 1024)
# Each mode runs in its own process; peak_extra_mb is the resident memory added during forward+backward
# (VmHWM minus VmRSS after the inputs exist). Then memory_ratio(dense/sparse)=X, and the output head from the last
# layer's output: the whole [batch, length, vocab] logits against the trainer's chunks of positions (about 2^26 logits
# each, so one chunk at 2x1024x32000; try 1 2048 128256 or 1 2048 256000), memory_ratio(head whole/chunked)=Y and
# time_ratio(head chunked/whole)=Z.
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
hw="$(dotnet "$bin/FuseChat.Bench.FusionLoss.dll" head-whole "$@")"
hc="$(dotnet "$bin/FuseChat.Bench.FusionLoss.dll" head-chunked "$@")"
echo "$hw"
echo "$hc"
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/" <<<"$2"; }
awk -v w="$(field peak_extra_mb "$hw")" -v c="$(field peak_extra_mb "$hc")" 'BEGIN { printf "memory_ratio(head whole/chunked)=%.2f\n", w / c }'
awk -v w="$(field seconds "$hw")" -v c="$(field seconds "$hc")" 'BEGIN { printf "time_ratio(head chunked/whole)=%.2f\n", c / w }'
