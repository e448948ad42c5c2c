#!/usr/bin/env bash
# Runs every test of the solution. Installs missing system packages and test fixtures first.
# Then builds the native shim against libtorch 2.x (what GPU silos run) and runs the libtorch-facing tests on it
# (tests/fixtures/check-libtorch2.sh, about a minute).
# Extra arguments go to `dotnet test` (e.g. --filter FullyQualifiedName~Tokeniz) and skip the libtorch 2.x run.
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
libtorch2="skipped (arguments given)"
if (($# == 0)); then
  echo "the shim on libtorch 2.x (tests/fixtures/check-libtorch2.sh)"
  tests/fixtures/check-libtorch2.sh --logger "console;verbosity=normal" 2>&1 | tee "$results/libtorch2.log" | tee -a "$log"
  if [[ ${PIPESTATUS[0]} -eq 0 ]]; then libtorch2=passed; else libtorch2=failed; status=1; fi
fi
set -e

# One closing line summed over all test projects.
# `dotnet test` prints "Total tests: N" then "     Passed: N" / "     Failed: N" / "    Skipped: N" per project.
count() { awk -v key="$1:" '$1 == key && NF == 2 { s += $2 } END { print s + 0 }' "$log"; }
passed=$(count Passed)
failed=$(count Failed)
skipped=$(count Skipped)
# The failed tests and their messages again, last: a CI record keeps only the end of the output.
if ((${failed:-0} > 0)); then
  echo "failed tests (full output: $log):"
  awk '/^ *Failed [A-Za-z_].* \[[^]]*\] *$/ { show = 1; lines = 0 } /^ *Stack Trace:/ { show = 0 }
       show && lines++ < 25 { print "  " $0 }' "$log"
fi
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped (libtorch 2.x run: $libtorch2)"
if [[ $status -ne 0 || ${passed:-0} -eq 0 ]]; then exit 1; fi
