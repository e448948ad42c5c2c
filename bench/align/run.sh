#!/usr/bin/env bash
# about: DTW token alignment of 1k x 1k-token real tokenizer pairs: ms per pair per core (goal <= 1 ms), vs full-matrix DTW
# Usage: bench/run align [--pairs=N] [--rounds=N] [--profile=SECONDS]   (--pairs: at most N distinct windows; default all;
# --profile: only the cold single-thread product loop for about SECONDS, nothing else, for perf record, over the
# windows of --kind=prose|stress|all)
# Builds bench/Align in Release and prints cold (cost cache cleared each round, every distinct window aligned once)
# and labelled warm single-thread and all-core figures (medians of several rounds), the
# full-matrix DTW peer with the speedup and identical=yes/no, and a worst-case random-pair line. Needs
# tests/fixtures/fetch-npm.sh (the tokenizer.json files).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/.artifacts/bench/align"
"$root/tests/fixtures/fetch-npm.sh" >/dev/null   # the tokenizer.json files the windows are tokenized with
"$root/bench/quiet-build.sh" "$root/bench/Align/FuseChat.Bench.Align.csproj" -c Release -o "$out"
dotnet "$out/FuseChat.Bench.Align.dll" "$@"
