#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs, then
#   1. TypeScript type check
#   2. shellcheck + bats on the SSM document scripts
#   3. jest: unit (incl. adapter tests), integration (moto), e2e (sandbox, root)
# and ends with one line: "N passed, N failed, N skipped".
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/.."

bash test/setup.sh

passed=0 failed=0 skipped=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + ${3:-0})); }

echo "== type check" >&2
if npx --no-install tsc --noEmit -p tsconfig.json; then count 1 0; else count 0 1; fi

echo "== scripts: shellcheck + bats" >&2
if [[ -x test/scripts/run.sh ]]; then
  set +o errexit
  out=$(bash test/scripts/run.sh 2>&1); rc=$?
  set -o errexit
  printf '%s\n' "$out" >&2
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [[ -n $line ]]; then
    read -r p f <<<"$(sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\1 \2/' <<<"$line")"
    count "$p" "$f"
  fi
  ((rc == 0)) || [[ -n $line ]] || count 0 1
fi

echo "== jest" >&2
report=$(mktemp)
trap 'rm -f "$report"' EXIT
set +o errexit
# Two workers: the sandbox files wait on hosts far more than they compute, and each has its own
# network (10.<octet>.0.0/16), state dir and ports, so two run side by side (jest's default here
# is one worker: cores - 1).
npx --no-install jest --ci --maxWorkers=2 --json --outputFile="$report" "$@"
jest_rc=$?
set -o errexit
if [[ -s $report ]]; then
  read -r p f s <<<"$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites, r.numPendingTests + r.numTodoTests);
  ' "$report")"
  count "$p" "$f" "$s"
  ((jest_rc == 0 || f > 0)) || count 0 1
else
  count 0 1
fi

echo "${passed} passed, ${failed} failed, ${skipped} skipped"
((failed == 0))
