# Sourced by the benchmarks that run a C# program against a Python peer (train-step, gradient-checkpointing,
# represent): splits their arguments and finds or builds the program. Expects $root (the checkout) to be set.

# bench_setup PROJECT NAME BUILT ARGS...: the usual start of such a benchmark. Sets rounds (default 3) and pass as
# rounds_and_pass does (pass may be seeded with defaults before), out as bench_program prints it, and py, the peer's
# python (FUSECHAT_PYTHON, default /usr/bin/python3: Debian's python3-torch lives there, not in a pyenv).
bench_setup() {
  local project="$1" name="$2" built="$3"
  shift 3
  rounds="${rounds:-3}"
  rounds_and_pass "$@"
  out="$(bench_program "$project" "$name" "$built")"
  py="${FUSECHAT_PYTHON:-/usr/bin/python3}"
}

# rounds_and_pass ARGS...: sets rounds (from --rounds=N, else its current value) and appends every other argument
# to the array pass, which the caller may have seeded with its defaults (later ones override earlier ones).
rounds_and_pass() {
  local a
  for a in "$@"; do
    case "$a" in
      --rounds=*) rounds="${a#--rounds=}" ;;
      *) pass+=("$a") ;;
    esac
  done
}

# bench_program PROJECT NAME BUILT: prints the folder of bench/PROJECT's program. When the variable named BUILT
# is set, it names a folder the program was published to (the GPU machine of bench/gpu-check has no .NET SDK);
# otherwise this installs what the build needs and builds into .artifacts/bench/NAME.
bench_program() {
  local project="$1" name="$2" built="${!3:-}"
  if [[ -n "$built" ]]; then
    echo "$built"
    return
  fi
  "$root/scripts/ensure-deps.sh" >&2
  "$root/bench/quiet-build.sh" "$root/bench/$project/FuseChat.Bench.$project.csproj" -c Release -o "$root/.artifacts/bench/$name" >&2
  echo "$root/.artifacts/bench/$name"
}
