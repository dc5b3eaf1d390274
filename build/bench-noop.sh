#!/usr/bin/env bash
# No-op build overhead of TransformerFpga.Build: packs the packages once (as build/run-sample.sh does),
# builds samples/SeattleTemperature once, then times N no-op `dotnet build --no-restore` runs of the
# sample against N no-op builds of an empty Microsoft.NET.Sdk project (a throw-away project with no
# items in a temporary folder), interleaved, in the same run. Prints the median times and their ratio
# (target: at most 1.3x). Figures only, no pass/fail. Works from any directory.
# Environment: N (default 5), CONFIGURATION (default Release); extra arguments go to every timed build.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
configuration="${CONFIGURATION:-Release}"
runs="${N:-5}"
packages="$repo/artifacts/packages"
sample="$repo/samples/SeattleTemperature/SeattleTemperature.csproj"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

echo "== Packing into $packages"
dotnet pack "$repo/TransformerFpga.Build.sln" -c "$configuration" -o "$packages" -nologo -v:q
# Same as run-sample.sh: drop our packages from the samples' cache so that the fresh pack is used.
rm -rf "$repo/samples/.nuget/packages/transformerfpga.build" "$repo/samples/.nuget/packages/transformerfpga.build.sdk"

echo "== Building the sample once"
dotnet build "$sample" -c "$configuration" -nologo -v:q

empty_dir="$(mktemp -d "${TMPDIR:-/tmp}/tfpga-bench-empty.XXXXXX")"
trap 'rm -rf "$empty_dir"' EXIT
# Keep any Directory.Build.* further up (e.g. in /tmp) out of the baseline.
echo '<Project />' > "$empty_dir/Directory.Build.props"
echo '<Project />' > "$empty_dir/Directory.Build.targets"
cat > "$empty_dir/Empty.csproj" <<'EOF'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <EnableDefaultItems>false</EnableDefaultItems>
    <NoWarn>$(NoWarn);CS2008</NoWarn>
  </PropertyGroup>
</Project>
EOF
echo "== Building the empty project once"
dotnet build "$empty_dir/Empty.csproj" -c "$configuration" -nologo -v:q

# Milliseconds of one no-op build; fails loudly if the build fails.
time_build() {
  local project="$1"; shift
  local start end
  start=$(date +%s%N)
  if ! dotnet build "$project" -c "$configuration" --no-restore -nologo -v:q "$@" > "$empty_dir/last.log" 2>&1; then
    cat "$empty_dir/last.log" >&2
    echo "build of $project failed" >&2
    exit 1
  fi
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "== Warm-up (one untimed no-op build each)"
time_build "$sample" "$@" > /dev/null
time_build "$empty_dir/Empty.csproj" "$@" > /dev/null

echo "== Timing $runs no-op builds of each, interleaved"
sample_ms=()
empty_ms=()
for ((i = 1; i <= runs; i++)); do
  s=$(time_build "$sample" "$@")
  e=$(time_build "$empty_dir/Empty.csproj" "$@")
  sample_ms+=("$s")
  empty_ms+=("$e")
  printf '  run %d: sample %6d ms   empty %6d ms\n' "$i" "$s" "$e"
done

sample_median=$(median "${sample_ms[@]}")
empty_median=$(median "${empty_ms[@]}")
echo
printf 'median no-op build, sample (SeattleTemperature): %s ms\n' "$sample_median"
printf 'median no-op build, empty Microsoft.NET.Sdk:     %s ms\n' "$empty_median"
awk -v s="$sample_median" -v e="$empty_median" 'BEGIN { printf "ratio sample / empty: %.2fx (target <= 1.3x)\n", s / e }'
