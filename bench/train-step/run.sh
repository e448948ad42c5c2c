#!/usr/bin/env bash
# about: one training step of a small Llama (4 layers, width 256, vocab 32000, 4x256 tokens), C# vs PyTorch
# Usage: bench/run train-step [--threads=N] [--rounds=N] [--steps=N] [--device=cuda:0] [--dtype=bf16] [--layers=N ...]
# Runs the C# program (src/Torch) and the PyTorch peer (Debian python3-torch, the same libtorch 1.13)
# alternately for several rounds with the same thread count, prints each round, the median tokens/s
# of each, and last `ratio(csharp/pytorch)=X`.
# Environment: FUSECHAT_TRAIN_STEP_BUILT=DIR uses a program published there (no install, no build: the GPU
# machine of bench/gpu-check has no .NET SDK); FUSECHAT_PYTHON picks the peer's python (default /usr/bin/python3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pass=()
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh" && bench_setup TrainStep train-step FUSECHAT_TRAIN_STEP_BUILT "$@"
cs=(); pt=()
for ((r = 1; r <= rounds; r++)); do
  c="$(dotnet "$out/FuseChat.Bench.TrainStep.dll" "${pass[@]}")"
  p="$("$py" "$here/train_step.py" "${pass[@]}")"
  echo "round $r: $c"
  echo "round $r: $p"
  cs+=("$(sed -E 's/.*"tokens_per_s":([0-9.]+).*/\1/' <<<"$c")")
  pt+=("$(sed -E 's/.*"tokens_per_s":([0-9.]+).*/\1/' <<<"$p")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mc="$(median "${cs[@]}")"; mp="$(median "${pt[@]}")"
echo "csharp tokens/s (median of $rounds) = $mc"
echo "pytorch tokens/s (median of $rounds) = $mp"
awk -v c="$mc" -v p="$mp" 'BEGIN { printf "ratio(csharp/pytorch)=%.3f\n", c / p }'
