#!/usr/bin/env bash
# about: kill -9 of the silo training a pairwise fusion in a 3-process cluster (Redis, Azurite); completed/identical/lost_steps
# Usage: bench/run failover [--epochs=N] [--checkpoint-every=N] [--kill-at=N]
# Builds bench/Failover (with the fusechat CLI it starts as silo processes) in Release, fetches the npm fixtures
# (tokenizers, Azurite) and runs the scenario. Last line: failover: completed=yes|no identical=yes|no lost_steps=N.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/.artifacts/bench/failover"
"$root/scripts/ensure-deps.sh"
"$root/tests/fixtures/fetch-npm.sh"
"$root/bench/quiet-build.sh" "$root/bench/Failover/FuseChat.Bench.Failover.csproj" -c Release -o "$out"
cd "$root"
exec dotnet "$out/FuseChat.Bench.Failover.dll" "--repo=$root" "--client=$out/fusechat.dll" "$@"
