# Sourced by the benchmarks that run the train-step program (bench/train-step, bench/gradient-checkpointing):
# splits their arguments and finds or builds the program. Expects $root (the checkout) to be set.

# train_step_args ARGS...: sets rounds (from --rounds=N, else its current value) and appends every other argument
# to the array pass, which the caller may have seeded with its defaults (later ones override earlier ones).
train_step_args() {
  local a
  for a in "$@"; do
    case "$a" in
      --rounds=*) rounds="${a#--rounds=}" ;;
      *) pass+=("$a") ;;
    esac
  done
}

# train_step_program: prints the folder of the built program. FUSECHAT_TRAIN_STEP_BUILT=DIR uses one published
# there (the GPU machine of bench/gpu-check has no .NET SDK); otherwise installs what the build needs and builds.
train_step_program() {
  if [[ -n "${FUSECHAT_TRAIN_STEP_BUILT:-}" ]]; then
    echo "$FUSECHAT_TRAIN_STEP_BUILT"
    return
  fi
  "$root/scripts/ensure-deps.sh" >&2
  "$root/bench/quiet-build.sh" "$root/bench/TrainStep/FuseChat.Bench.TrainStep.csproj" -c Release -o "$root/.artifacts/bench/train-step" >&2
  echo "$root/.artifacts/bench/train-step"
}
