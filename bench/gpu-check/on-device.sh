#!/usr/bin/env bash
# Runs on a GPU machine with PyTorch (CUDA), CMake and g++ but no .NET, from the checkout's root, with the kit that
# `bench/run gpu-check` packed in .artifacts/gpu-kit. In one go, each step under its own time limit:
#   1. builds the native shim against that python's libtorch with FUSECHAT_CUDA=ON (CMake; plain g++ if the
#      libtorch's CMake config cannot find its CUDA toolkit);
#   2. `fusechat info`: libtorch's version and the CUDA devices it sees (none is a failure);
#   2b. the model families against transformers: tests/fixtures/parity/make_fixtures.py writes a tiny random model of
#      each family (Llama and its RoPE variants, Mistral, Qwen2, Mixtral, Gemma2, Qwen3, Phi3) with transformers' CPU logits
#      and greedy decoding, and the family-parity program loads each onto the device in f32 (logits within 1e-4,
#      greedy decoding equal, the loss's gradient norm the CPU's) and bf16 (errors like transformers' own bf16);
#   3. the train-step bench against its PyTorch peer on the GPU, f32 and bf16 (fp32 master weights; the peer uses
#      autocast), for a small and a medium model: tokens/s medians, the ratio, and the first step's loss against the
#      same step on the CPU in fp32 (the check of the GPU's arithmetic);
#   3b. (only when named in FUSECHAT_GPU_CHECK_STEPS: "memory") the gradient-checkpointing bench in bf16, peak GPU
#      memory and step time with the layers recomputed or not, ours against torch.utils.checkpoint; and one training
#      step with AdamW's state on the GPU and in host memory (optimiser offload): peaks, times, the same loss ("offload"
#      alone runs only that half);
#   3d. (only when named: "head") Stage 3 through FusionTrainer at a 128256 vocabulary, the output head whole against in
#      chunks: peaks, step times, the same loss;
#   3c. (only when named: "represent") the represent bench, Stage 1's batches, forward, top-K and CE, f32 and bf16,
#      ours against PyTorch on the same batches and weights (mean metric_ce must agree in f32);
#   4. `fusechat demo` in f32 and in bf16: the whole fusion through the grains, which take the GPU when libtorch
#      sees one.
# Writes $OUT/gpu-check.log (everything), $OUT/summary.txt (one line per figure or verdict) and the demos'
# report.json files; exits non-zero when a step failed. Environment: OUT (default .artifacts/gpu-check-out),
# FUSECHAT_GPU_DEVICE (default cuda:0; cpu rehearses the script on a machine without a GPU),
# FUSECHAT_TORCH_PREFIX (libtorch's CMake prefix; default torch.utils.cmake_prefix_path of python3),
# FUSECHAT_GPU_CHECK_STEPS (default "build info families train demo"), FUSECHAT_GPU_CHECK_SIZES (train-step models, default
# "small medium"), FUSECHAT_GPU_CHECK_TRAIN_ARGS (default "--rounds=3 --steps=20 --warmup=5"),
# FUSECHAT_GPU_CHECK_MEMORY_ARGS (options appended to the memory and represent steps' bench options, e.g. a smaller
# model; each bench ignores the options of the other). A CPU rehearsal:
#   FUSECHAT_GPU_DEVICE=cpu FUSECHAT_GPU_CHECK_SIZES=small FUSECHAT_GPU_CHECK_TRAIN_ARGS="--rounds=1 --steps=2 --warmup=1"
set -uo pipefail
repo="$(pwd)"
kit="$repo/.artifacts/gpu-kit"
out="${OUT:-$repo/.artifacts/gpu-check-out}"
device="${FUSECHAT_GPU_DEVICE:-cuda:0}"
steps="${FUSECHAT_GPU_CHECK_STEPS:-build info families train demo}"
sizes="${FUSECHAT_GPU_CHECK_SIZES:-small medium}"
read -r -a train_args <<<"${FUSECHAT_GPU_CHECK_TRAIN_ARGS:---rounds=3 --steps=20 --warmup=5}"
read -r -a memory_args <<<"${FUSECHAT_GPU_CHECK_MEMORY_ARGS:-}"
work=/tmp/fusechat-gpu-check
mkdir -p "$out"
exec > >(tee "$out/gpu-check.log") 2>&1
summary="$out/summary.txt"
: > "$summary"
failed=0
note() { echo "$*" | tee -a "$summary"; }
fail() { note "FAILED: $*"; failed=1; }
wants() { [[ " $steps " == *" $1 "* ]]; }
value() { grep -o "\"$1\":[0-9.]*" <<<"$2" | head -1 | cut -d: -f2; }   # a JSON line's numeric field

[[ -f "$kit/apps.tar.xz" ]] || { echo "error: no kit in $kit: run bench/run gpu-check on a machine with .NET and carry that folder" >&2; exit 2; }
[[ -f "$repo/FuseChat.Orleans.sln" ]] || { echo "error: run this from the checkout's root" >&2; exit 2; }
note "kit commit $(cat "$kit/commit"), device $device, $(date -u +%FT%TZ)"
command -v nvidia-smi >/dev/null && nvidia-smi -L | tee -a "$summary"
note "$(python3 -c 'import torch; print("python torch", torch.__version__, "cuda", torch.version.cuda, "devices", torch.cuda.device_count())' 2>&1)"

rm -rf "$work"
mkdir -p "$work/dotnet" "$work/apps" "$repo/.artifacts/demo/npm"
# Python's tarfile rather than tar -J: the image need not have xz, but it has python3.
extract() {
  python3 -c 'import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    t.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))' "$1" "$2"
}
extract "$kit/dotnet.tar.xz" "$work/dotnet"
extract "$kit/apps.tar.xz" "$work/apps"
extract "$kit/tokenizers.tar.xz" "$repo/.artifacts/demo/npm"
export DOTNET_ROOT="$work/dotnet" PATH="$work/dotnet:$PATH" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# The image may have no ICU; FuseChat formats and parses with the invariant culture throughout.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1

# 1. The shim.
shim="$work/shim/libfusechat_torch.so"
if wants build; then
  prefix="${FUSECHAT_TORCH_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}"
  cuda=OFF
  [[ "$device" == cuda* ]] && cuda=ON
  start=$SECONDS
  if timeout 300 cmake -S "$repo/src/Torch/native" -B "$work/shim" -DCMAKE_BUILD_TYPE=Release -DFUSECHAT_CUDA="$cuda" \
       -DCMAKE_PREFIX_PATH="$prefix" > "$work/cmake.log" 2>&1 &&
     timeout 300 cmake --build "$work/shim" -j"$(nproc)" >> "$work/cmake.log" 2>&1; then
    note "shim: built with CMake in $((SECONDS - start)) s ($(grep -h 'fusechat_torch:' "$work/cmake.log" | sed 's/^-- //'))"
  else
    tail -30 "$work/cmake.log"
    note "shim: the CMake build failed (log above); trying g++ against the python's libtorch directly"
    torch_dir="$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
    abi="$(python3 -c 'import torch; print(int(torch.compiled_with_cxx11_abi()))')"
    libs=(-ltorch -ltorch_cpu -lc10)
    [[ $cuda == ON ]] && libs+=(-ltorch_cuda -lc10_cuda)
    mkdir -p "$work/shim"
    # shellcheck disable=SC2046
    if timeout 300 g++ -O3 -std=c++20 -shared -fPIC -fvisibility=hidden -D_GLIBCXX_USE_CXX11_ABI="$abi" \
         $([[ $cuda == ON ]] && echo -DFUSECHAT_CUDA=1) -I"$torch_dir/include" -I"$torch_dir/include/torch/csrc/api/include" \
         "$repo"/src/Torch/native/*.cpp -o "$shim" -L"$torch_dir/lib" -Wl,--no-as-needed "${libs[@]}" -Wl,-rpath,"$torch_dir/lib" \
         >> "$work/cmake.log" 2>&1; then
      note "shim: built with g++ in $((SECONDS - start)) s"
    else
      tail -30 "$work/cmake.log"
      fail "shim: neither CMake nor g++ built it"
    fi
  fi
fi
[[ -f "$shim" ]] || { fail "no shim at $shim"; exit 1; }
export FUSECHAT_TORCH_LIB="$shim"

# 2. What libtorch sees.
if wants info; then
  info="$(timeout 120 dotnet "$work/apps/cli/fusechat.dll" info --json)"
  cuda_devices="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["cuda_devices"])' "$info" 2>/dev/null)"
  note "fusechat info: $info"
  if [[ "$device" == cuda* && "${cuda_devices:-0}" -lt 1 ]]; then fail "the shim's libtorch sees no CUDA device"; fi
fi

# 2b. Every model family on the device against transformers (which computes its reference on the CPU).
if wants families; then
  if timeout 300 python3 "$repo/tests/fixtures/parity/make_fixtures.py" "$work/parity" --skip-unsupported > "$work/parity.log" 2>&1; then
    # An older transformers may lack a family (Qwen3, say): that family is left out, and the summary says so.
    grep ' skipped: ' "$work/parity.log" | while read -r line; do note "families: $line"; done
    result="$(timeout 300 dotnet "$work/apps/family-parity/FuseChat.Bench.FamilyParity.dll" --fixtures="$work/parity" \
                --device="$device" --threads="$(nproc)" 2>&1)"
    status=$?
    echo "$result"
    note "$(tail -1 <<<"$result")"
    [[ $status -eq 0 ]] || fail "families (exit $status): $(grep -o '"family":"[^"]*"[^}]*"ok":false' <<<"$result" | tr '\n' ' ')"
  else
    tail -20 "$work/parity.log"
    fail "families: make_fixtures.py failed with this transformers ($(python3 -c 'import transformers; print(transformers.__version__)' 2>&1))"
  fi
fi

# 3. One training step, ours against PyTorch's, on the device.
if wants train; then
  export FUSECHAT_TRAIN_STEP_BUILT="$work/apps/train-step" FUSECHAT_PYTHON=python3
  small=(--layers=4 --width=256 --heads=4 --intermediate=688 --batch=4 --length=256)
  medium=(--layers=12 --width=1024 --heads=16 --intermediate=2816 --batch=8 --length=512)
  for size in $sizes; do
    declare -n shape="$size"
    for dtype in f32 bf16; do
      result="$(timeout 400 "$repo/bench/train-step/run.sh" "${train_args[@]}" --threads="$(nproc)" \
                  --device="$device" --dtype="$dtype" "${shape[@]}" 2>&1)"
      status=$?
      echo "$result"
      if [[ $status -ne 0 ]]; then fail "train-step $size $dtype (exit $status)"; continue; fi
      ratio="$(sed -n 's/^ratio(csharp\/pytorch)=//p' <<<"$result")"
      ours="$(sed -n 's/^csharp tokens\/s (median of [0-9]*) = //p' <<<"$result")"
      theirs="$(sed -n 's/^pytorch tokens\/s (median of [0-9]*) = //p' <<<"$result")"
      first="$(value first_loss "$result")"
      cpu="$(value cpu_loss "$result")"
      peak_cs="$(value peak_gpu_bytes "$(grep '"impl":"csharp"' <<<"$result")")"
      peak_pt="$(value peak_gpu_bytes "$(grep '"impl":"pytorch"' <<<"$result")")"
      note "train-step $size $dtype: csharp ${ours} tok/s, pytorch ${theirs} tok/s, ratio ${ratio}; first loss ${first:-?} vs cpu f32 ${cpu:-?}; peak GPU bytes csharp ${peak_cs:-?}, pytorch ${peak_pt:-?}"
      # bf16 carries 8 significant bits: a loss near 10.4 may be off by a few hundredths; f32 must agree closely.
      tolerance=$([[ $dtype == bf16 ]] && echo 0.08 || echo 0.002)
      if [[ -n "$first" && -n "$cpu" ]] && ! awk -v a="$first" -v b="$cpu" -v t="$tolerance" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t * b) }'; then
        fail "train-step $size $dtype: the first loss on $device ($first) differs from the CPU's ($cpu) by more than ${tolerance} relative"
      fi
    done
  done
fi

# 3b. Memory savers on the device (not in the default steps: with them it would not fit one 10-minute call; run it as
# FUSECHAT_GPU_CHECK_STEPS="build memory"): gradient checkpointing against torch.utils.checkpoint, and the optimiser
# offload against our own step with the state on the GPU.
if wants memory; then
  export FUSECHAT_TRAIN_STEP_BUILT="$work/apps/train-step" FUSECHAT_PYTHON=python3
  result="$(timeout 400 "$repo/bench/gradient-checkpointing/run.sh" --rounds=1 --threads="$(nproc)" --device="$device" --dtype=bf16 \
              --layers=12 --width=1024 --heads=16 --intermediate=2816 --vocab=32000 --batch=8 --length=1024 --steps=5 --warmup=2 "${memory_args[@]}" 2>&1)"
  status=$?
  echo "$result"
  if [[ $status -ne 0 ]]; then fail "gradient-checkpointing (exit $status)"
  else note "gradient-checkpointing bf16: $(grep -E '^(memory|time)' <<<"$result" | tr '\n' ' ')"; fi
fi
# The offload half of the memory step, also alone as "offload".
if wants memory || wants offload; then
  export FUSECHAT_TRAIN_STEP_BUILT="$work/apps/train-step"
  offload_args=(--threads="$(nproc)" --device="$device" --dtype=bf16 --layers=12 --width=1024 --heads=16 --intermediate=2816
                --batch=8 --length=512 --steps=5 --warmup=2 "${memory_args[@]}")
  on_gpu="$(timeout 200 dotnet "$FUSECHAT_TRAIN_STEP_BUILT/FuseChat.Bench.TrainStep.dll" "${offload_args[@]}" --offload=0 2>&1)"
  on_host="$(timeout 200 dotnet "$FUSECHAT_TRAIN_STEP_BUILT/FuseChat.Bench.TrainStep.dll" "${offload_args[@]}" --offload=1 2>&1)"
  echo "$on_gpu"; echo "$on_host"
  peak() { local p; p="$(value peak_gpu_bytes "$1")"; echo "${p:-?}"; }   # ? without device statistics (CPU, or the g++ build)
  note "offload bf16: state on the GPU: step $(value median_step_s "$on_gpu") s, peak GPU $(peak "$on_gpu") bytes, loss $(value loss "$on_gpu"); in host memory: step $(value median_step_s "$on_host") s, peak GPU $(peak "$on_host") bytes, loss $(value loss "$on_host"); $(value params "$on_gpu") parameters"
  # The same AdamW arithmetic on the host: after 7 steps the bf16 loss may move in its last bits, no more.
  if ! awk -v a="$(value loss "$on_gpu")" -v b="$(value loss "$on_host")" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 0.01 * a) }'; then
    fail "offload: the loss with the optimiser state in host memory differs from the loss with it on the GPU"
  fi
fi

# 3d. (only when named: "head") Stage 3's step through FusionTrainer with gradient checkpointing at Llama 3's vocabulary
# (128256), one 2048-token conversation: the output head and fusion loss over all positions at once against the
# trainer's chunks: peaks, step times, and the same loss.
if wants head; then
  head_args=(--threads="$(nproc)" --device="$device" --dtype=bf16 --layers=12 --width=1024 --heads=16 --intermediate=2816
             --vocab=128256 --batch=1 --length=2048 --steps=5 --warmup=2 --checkpointing=1 "${memory_args[@]}")
  whole="$(timeout 200 dotnet "$work/apps/train-step/FuseChat.Bench.TrainStep.dll" "${head_args[@]}" --trainer=whole 2>&1)"
  chunked="$(timeout 200 dotnet "$work/apps/train-step/FuseChat.Bench.TrainStep.dll" "${head_args[@]}" --trainer=chunked 2>&1)"
  echo "$whole"; echo "$chunked"
  note "head bf16 (fusion trainer, checkpointing, vocab 128256, 2048 tokens): whole: step $(value median_step_s "$whole") s, peak GPU $(value peak_gpu_bytes "$whole") bytes, loss $(value loss "$whole"); chunks of $(value head_chunk "$chunked"): step $(value median_step_s "$chunked") s, peak GPU $(value peak_gpu_bytes "$chunked") bytes, loss $(value loss "$chunked")"
  if ! awk -v a="$(value loss "$whole")" -v b="$(value loss "$chunked")" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 0.01 * a) }'; then
    fail "head: the chunked head's loss differs from the whole head's"
  fi
fi

# 3c. Stage 1 on the device, ours against PyTorch on the same batches (not in the default steps; run it with the
# memory step: FUSECHAT_GPU_CHECK_STEPS="build memory represent").
if wants represent; then
  export FUSECHAT_REPRESENT_BUILT="$work/apps/represent" FUSECHAT_PYTHON=python3
  for dtype in f32 bf16; do
    result="$(timeout 300 "$repo/bench/represent/run.sh" --rounds=3 --threads="$(nproc)" --device="$device" --dtype="$dtype" \
                --layers=12 --width=1024 --heads=16 --intermediate=2816 --vocab=32000 --conversations=256 --max-length=2048 \
                --batch-tokens=16384 "${memory_args[@]}" 2>&1)"
    status=$?
    echo "$result"
    if [[ $status -ne 0 ]]; then fail "represent $dtype (exit $status)"; continue; fi
    note "represent $dtype: $(grep -E '^(csharp|pytorch) tokens|^ratio|same_ce|^memory' <<<"$result" | tr '\n' ' ')"
    if [[ $dtype == f32 ]] && grep -q 'same_ce=no' <<<"$result"; then fail "represent f32: our mean metric_ce differs from PyTorch's on the same weights"; fi
  done
fi

# 4. The whole fusion through the grains.
if wants demo; then
  for dtype in f32 bf16; do
    start=$SECONDS
    if timeout 400 dotnet "$work/apps/cli/fusechat.dll" demo --dtype "$dtype" --workspace "$work/demo-$dtype"; then
      cp "$work/demo-$dtype/run/out/report.json" "$out/demo-$dtype-report.json"
      note "demo $dtype: completed in $((SECONDS - start)) s; perplexity $(python3 -c 'import json, sys; print(", ".join(f"{m["model"]} {m["perplexity"]:.2f}" for m in json.load(open(sys.argv[1]))["models"]))' "$out/demo-$dtype-report.json")"
    else
      fail "demo $dtype (exit code above)"
    fi
  done
fi

if ((failed)); then note "gpu check: FAILED"; else note "gpu check: passed"; fi
exit $failed
