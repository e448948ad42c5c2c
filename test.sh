#!/usr/bin/env bash
# Runs every test of the solution. Installs missing system packages and test fixtures first.
# Extra arguments go to `dotnet test` (e.g. --filter FullyQualifiedName~Tokeniz).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

scripts/ensure-deps.sh
results="$root/.artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"
log="$results/dotnet-test.log"

# pyarrow and transformers, the references for the shard-reading and model-parity tests (a Debian sid root, needs
# root; minutes the first time): built in the background while the npm fixtures come and the solution builds.
reference_log="$results/reference-python.log"
tests/fixtures/fetch-reference-python.sh >"$reference_log" 2>&1 &
reference=$!
tests/fixtures/fetch-npm.sh
if ! dotnet build FuseChat.Orleans.sln -c Release --nologo -v quiet; then
  wait "$reference" || true
  exit 1
fi
if ! wait "$reference"; then
  cat "$reference_log" >&2
  echo "error: the reference python could not be built (tests/fixtures/fetch-reference-python.sh)" >&2
  exit 1
fi
cat "$reference_log"

set +e
dotnet test FuseChat.Orleans.sln -c Release --no-build --nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One closing line summed over all test projects.
# `dotnet test` prints "Total tests: N" then "     Passed: N" / "     Failed: N" / "    Skipped: N" per project.
count() { awk -v key="$1:" '$1 == key && NF == 2 { s += $2 } END { print s + 0 }' "$log"; }
passed=$(count Passed)
failed=$(count Failed)
skipped=$(count Skipped)
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
if [[ $status -ne 0 || ${passed:-0} -eq 0 ]]; then exit 1; fi
