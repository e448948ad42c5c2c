#!/usr/bin/env bash
# about: training-step memory and time with and without gradient checkpointing (recomputed layers), C# vs PyTorch
# Usage: bench/run gradient-checkpointing [--rounds=N] [--device=cuda:0] [--dtype=bf16] [train-step options...]
# Runs the train-step program (C#, CheckpointedForward) and its PyTorch peer (torch.utils.checkpoint, non-reentrant)
# with checkpointing off and on, alternately for several rounds, on a model whose activations outweigh its output
# layer (8 layers, width 512, vocab 4096, 2x1024 tokens; the train-step options override it). Memory is what the
# step took: on the CPU the resident high-water mark above the resident size before the first step, on a GPU the
# allocator's peak (parameters, gradients and AdamW state included). Prints each run, then the medians and
# `memory_saving(csharp)=X` (1 - on/off), `memory_saving(pytorch)=X`, `memory(csharp/pytorch, on)=X` and
# `time(on/off, csharp)=X`.
# Environment: FUSECHAT_TRAIN_STEP_BUILT and FUSECHAT_PYTHON as for bench/run train-step.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pass=(--layers=8 --width=512 --heads=8 --intermediate=1376 --vocab=4096 --length=1024 --batch=2 --steps=3 --warmup=1 --threads=2)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh" && bench_setup TrainStep train-step FUSECHAT_TRAIN_STEP_BUILT "$@"
field() { sed -nE "s/.*\"$1\":([0-9.]+).*/\1/p" <<<"$2"; }
declare -A memory time
for ((r = 1; r <= rounds; r++)); do
  for c in 0 1; do
    for impl in csharp pytorch; do
      if [[ $impl == csharp ]]; then line="$(dotnet "$out/FuseChat.Bench.TrainStep.dll" "${pass[@]}" --checkpointing=$c)"
      else line="$("$py" "$here/../train-step/train_step.py" "${pass[@]}" --checkpointing=$c)"; fi
      echo "round $r: $line"
      bytes="$(field peak_gpu_bytes "$line")"
      [[ -n "$bytes" ]] || bytes="$(field peak_rss_delta_bytes "$line")"
      [[ -n "$bytes" ]] || { echo "error: no memory figure in: $line" >&2; exit 1; }
      memory[$impl,$c]+="$bytes "
      time[$impl,$c]+="$(field median_step_s "$line") "
    done
  done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
for impl in csharp pytorch; do
  for c in 0 1; do
    printf '%s checkpointing=%s: memory %.1f MiB, step %.3f s (medians of %d)\n' "$impl" "$c" \
      "$(awk -v b="$(median "${memory[$impl,$c]}")" 'BEGIN { print b / 1048576 }')" "$(median "${time[$impl,$c]}")" "$rounds"
  done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
for impl in csharp pytorch; do
  awk -v on="$(median "${memory[$impl,1]}")" -v off="$(median "${memory[$impl,0]}")" -v i="$impl" 'BEGIN { printf "memory_saving(%s)=%.3f\n", i, 1 - on / off }'
done
echo "memory(csharp/pytorch, on)=$(ratio "$(median "${memory[csharp,1]}")" "$(median "${memory[pytorch,1]}")")"
echo "time(on/off, csharp)=$(ratio "$(median "${time[csharp,1]}")" "$(median "${time[csharp,0]}")")"
echo "time(on/off, pytorch)=$(ratio "$(median "${time[pytorch,1]}")" "$(median "${time[pytorch,0]}")")"
