#!/usr/bin/env bash
# about: DTW alignment of this working tree against another git revision, in one process, window by window, alternating (ratio)
# Usage: bench/run align-versus REV [--pairs=N] [--rounds=N]   (REV: any commit, tag or branch; default rounds 15)
# Builds REV's src/Fusion (from `git archive`) and this tree's bench/Align, then times both DTWs on the same
# windows as bench/run align (token ids through each build's CorpusAligner.AlignOne, the product path), in paired
# rounds inside one process, each window by both builds one right after the other: the shared machines drift too much between
# separate runs to show a change of 10 or 20 percent. Prints per kind (prose, stress corpus, all) the median ms of
# each and the median per-round ratio (below 1: this tree is faster), and identical=yes|no (every alignment equal).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rev="${1:?usage: bench/run align-versus REV [--pairs=N] [--rounds=N]}"
shift
commit="$(git -C "$root" rev-parse --verify --quiet "$rev^{commit}")" || { echo "error: '$rev' is not a commit in $root" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git -C "$root" archive "$commit" | tar -x -C "$work"
"$root/tests/fixtures/fetch-npm.sh" >/dev/null   # the tokenizer.json files the windows are tokenized with
"$root/bench/quiet-build.sh" "$work/src/Fusion/FuseChat.Fusion.csproj" -c Release -o "$work/lib"
out="$root/.artifacts/bench/align"
"$root/bench/quiet-build.sh" "$root/bench/Align/FuseChat.Bench.Align.csproj" -c Release -o "$out"
dotnet "$out/FuseChat.Bench.Align.dll" --versus="$work/lib" --versus-name="$rev" "$@"
