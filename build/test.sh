#!/usr/bin/env bash
# Runs every test project of the solution (Release) and ends with a plain "N passed, N failed" line,
# summed over the test assemblies' result lines ("Passed!  - Failed: F, Passed: P, ...").
# Exit code: non-zero when a test failed or the build failed. Extra arguments go to `dotnet test`.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log="$(mktemp "${TMPDIR:-/tmp}/tfpga-test.XXXXXX.log")"
trap 'rm -f "$log"' EXIT

dotnet test "$repo/TransformerFpga.Build.sln" -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=0
failed=0
while IFS= read -r line; do
  f="$(printf '%s\n' "$line" | sed -n 's/.*Failed:[[:space:]]*\([0-9][0-9]*\).*/\1/p')"
  p="$(printf '%s\n' "$line" | sed -n 's/.*Passed:[[:space:]]*\([0-9][0-9]*\).*/\1/p')"
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done < <(grep -E '^(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+' "$log")

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or a test host failed before the results were counted.
  failed=1
fi
echo "$passed passed, $failed failed"
exit "$status"
