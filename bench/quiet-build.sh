#!/usr/bin/env bash
# Runs `dotnet build ARGS...` (or `dotnet publish ARGS...` when the first argument is `publish`) quietly for the
# benchmarks' run.sh: nothing on success, and on failure the build's errors, so that a benchmark never stops without
# saying why.
set -uo pipefail
verb=build
if [[ "${1:-}" == publish ]]; then verb=publish; shift; fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! dotnet "$verb" "$@" -nologo -v quiet >"$log" 2>&1; then
  echo "error: the benchmark's build failed (dotnet $verb $*):" >&2
  grep -E 'error|Error' "$log" | sort -u | tail -20 >&2
  echo "(scripts/ensure-deps.sh installs the system packages the build needs)" >&2
  exit 1
fi
