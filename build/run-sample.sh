#!/usr/bin/env bash
# Packs TransformerFpga.Build(.Sdk) into artifacts/packages and builds the sample hardware project
# samples/SeattleTemperature from that package, as a user would. Works from any directory.
# Extra arguments go to the sample's `dotnet build` (e.g. -p:FpgaDefaultWeightBits=6).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
configuration="${CONFIGURATION:-Release}"
packages="$repo/artifacts/packages"
sample="$repo/samples/SeattleTemperature"

echo "== Packing into $packages"
dotnet pack "$repo/TransformerFpga.Build.sln" -c "$configuration" -o "$packages" -nologo

# The samples have their own package cache (samples/NuGet.config). NuGet never re-extracts a version it
# has cached, so drop our packages from it: a re-pack of the same version is then picked up.
rm -rf "$repo/samples/.nuget/packages/transformerfpga.build" "$repo/samples/.nuget/packages/transformerfpga.build.sdk"

echo "== Building $sample"
dotnet build "$sample/SeattleTemperature.csproj" -c "$configuration" -nologo "$@"

out="$sample/bin/$configuration/net10.0/fpga"
echo
echo "== Outputs in $out"
for f in report/summary.md report/resources.json report/simulation.json report/predictions.csv hdl/sources.txt hdl/run_ghdl.sh yosys/synth.ys vivado/build.tcl; do
  if [ -e "$out/$f" ]; then echo "  $out/$f"; fi
done
