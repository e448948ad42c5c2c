#!/usr/bin/env bash
# about: streaming SCE merge of a pivot + 3 bf16 targets (4-layer Llama, width 1024), C# vs PyTorch
# Usage: bench/run merge [--hidden=N] [--rounds=N]
# Makes the models once (cached under .artifacts/bench/merge/models-HIDDEN), then alternates the C# merge
# (CheckpointMerger, src/Torch) and the PyTorch peer (Debian python3-torch, same libtorch 1.13) over the same
# files, one thread each. Prints each run, medians, and last `ratio(csharp/pytorch gb_per_s)=X`
# (goal >= 2), the peak-memory ratio and the C# merge's own peak over its bound, (targets + 2) x the largest
# tensor as float32 (1.0 = exactly the bound; the runtime's resident memory before the merge is left out).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
hidden=1024; rounds=3
for a in "$@"; do
  case "$a" in
    --hidden=*) hidden="${a#--hidden=}" ;;
    --rounds=*) rounds="${a#--rounds=}" ;;
    *) echo "unknown argument $a" >&2; exit 2 ;;
  esac
done
"$root/scripts/ensure-deps.sh"
out="$root/.artifacts/bench/merge"
bin="$out/bin"
models="$out/models-$hidden"
"$root/bench/quiet-build.sh" "$root/bench/Merge/FuseChat.Bench.Merge.csproj" -c Release -o "$bin"
if [[ ! -f "$models/.complete" ]]; then
  rm -rf "$models"
  echo "making models in $models ..." >&2
  dotnet "$bin/FuseChat.Bench.Merge.dll" make "$models" "$hidden"
  touch "$models/.complete"
fi
cat > "$models/recipe.yaml" <<YAML
merge_method: sce
base_model: pivot
models:
  - model: target0
  - model: target1
  - model: target2
parameters:
  select_topk: 0.1
dtype: bfloat16
YAML
cs=(); pt=(); csm=(); ptm=(); csb=()
for ((r = 1; r <= rounds; r++)); do
  c="$(dotnet "$bin/FuseChat.Bench.Merge.dll" merge "$models/recipe.yaml" "$out/merged-cs")"
  p="$(/usr/bin/python3 "$here/sce_merge.py" "$models" "$out/merged-py")"
  echo "round $r: $c"
  echo "round $r: $p"
  cs+=("$(sed -E 's/.*"gb_per_s":([0-9.]+).*/\1/' <<<"$c")"); csm+=("$(sed -E 's/.*"peak_rss_mb":([0-9.]+).*/\1/' <<<"$c")")
  csb+=("$(sed -E 's/.*"merge_peak_over_bound":([0-9.]+).*/\1/' <<<"$c")"); bound="$(sed -E 's/.*"bound_mb":([0-9.]+).*/\1/' <<<"$c")"
  pt+=("$(sed -E 's/.*"gb_per_s":([0-9.]+).*/\1/' <<<"$p")"); ptm+=("$(sed -E 's/.*"peak_rss_mb":([0-9.]+).*/\1/' <<<"$p")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mc="$(median "${cs[@]}")"; mp="$(median "${pt[@]}")"; mcm="$(median "${csm[@]}")"; mpm="$(median "${ptm[@]}")"
echo "csharp: $mc GB/s, peak $mcm MB (medians of $rounds)"
echo "pytorch: $mp GB/s, peak $mpm MB (medians of $rounds)"
awk -v a="$mcm" -v b="$mpm" 'BEGIN { printf "peak_memory_ratio(csharp/pytorch)=%.3f\n", a / b }'
echo "peak_over_bound(csharp merge peak - rss before / (targets+2) x largest tensor f32 = $bound MB)=$(median "${csb[@]}")"
awk -v c="$mc" -v p="$mp" 'BEGIN { printf "ratio(csharp/pytorch gb_per_s)=%.3f\n", c / p }'
