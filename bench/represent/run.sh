#!/usr/bin/env bash
# about: Stage 1 (representations: sorted batches, forward, top-K and CE at trained positions), C# vs PyTorch
# Usage: bench/run represent [--rounds=N] [--threads=N] [--device=cuda:0] [--dtype=bf16] [--layers=N --width=N ...]
#        [--conversations=N --min-length=N --max-length=N --batch-tokens=N --top-k=N]
#        [--experts=N --experts-per-token=K --expert-intermediate=W]  (a Qwen-MoE-style sparse MLP in every layer)
# Runs the C# program (RepresentationComputer) and its PyTorch peer, which batches the same synthetic corpus the
# same way, alternately for several rounds; prints each round, the median tokens/s of each and last
# `ratio(csharp/pytorch)=X`. Both draw the same weights from the same seed, so their mean metric_ce must agree
# (`same_ce=yes|no`, within 1e-3 relative, f32 only: bf16 sums in other orders).
# On a GPU it also prints `memory: peak GPU csharp X MiB, pytorch Y MiB, memory(csharp/pytorch)=R`, each the allocator's
# peak over its timed passes, weights included.
# Environment: FUSECHAT_REPRESENT_BUILT=DIR uses a program published there (the GPU machine has no .NET SDK);
# FUSECHAT_PYTHON picks the peer's python (default /usr/bin/python3, Debian's python3-torch).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pass=()
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh" && bench_setup Represent represent FUSECHAT_REPRESENT_BUILT "$@"
field() { sed -nE "s/.*\"$1\":([0-9.]+).*/\1/p" <<<"$2"; }
cs=(); pt=(); c=""; p=""
for ((r = 1; r <= rounds; r++)); do
  c="$(dotnet "$out/FuseChat.Bench.Represent.dll" "${pass[@]}")"
  p="$("$py" "$here/represent.py" "${pass[@]}")"
  echo "round $r: $c"
  echo "round $r: $p"
  cs+=("$(field tokens_per_s "$c")")
  pt+=("$(field tokens_per_s "$p")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mc="$(median "${cs[@]}")"; mp="$(median "${pt[@]}")"
echo "csharp tokens/s (median of $rounds) = $mc"
echo "pytorch tokens/s (median of $rounds) = $mp"
awk -v a="$(field mean_metric_ce "$c")" -v b="$(field mean_metric_ce "$p")" \
  'BEGIN { d = a - b; if (d < 0) d = -d; printf "mean metric_ce csharp %s, pytorch %s: same_ce=%s\n", a, b, (d <= 1e-3 * b) ? "yes" : "no" }'
awk -v c="$mc" -v p="$mp" 'BEGIN { printf "ratio(csharp/pytorch)=%.3f\n", c / p }'
# On a GPU both report the allocator's peak over their timed passes (the peak is deterministic: the last round's).
if [[ -n "$(field peak_gpu_bytes "$c")" && -n "$(field peak_gpu_bytes "$p")" ]]; then
  awk -v c="$(field peak_gpu_bytes "$c")" -v p="$(field peak_gpu_bytes "$p")" \
    'BEGIN { printf "memory: peak GPU csharp %.1f MiB, pytorch %.1f MiB, memory(csharp/pytorch)=%.3f\n", c / 1048576, p / 1048576, c / p }'
fi
