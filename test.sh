#!/usr/bin/env bash
# Runs every test of the solution. Installs missing system packages and test fixtures first.
# Extra arguments go to `dotnet test` (e.g. --filter FullyQualifiedName~Tokeniz).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

scripts/ensure-deps.sh
if [[ -x tests/fixtures/fetch-npm.sh ]]; then tests/fixtures/fetch-npm.sh; fi
# pyarrow and transformers, the references for the shard-reading and model-parity tests (Debian sid root, needs root).
if [[ -x tests/fixtures/fetch-reference-python.sh ]]; then tests/fixtures/fetch-reference-python.sh; fi

results="$root/.artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"
log="$results/dotnet-test.log"
set +e
dotnet test FuseChat.Orleans.sln -c Release --nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
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
