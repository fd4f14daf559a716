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

# One jest run: its JSON report's counts join the totals; a run that ends badly with no failed
# test to show for it (a crash, a config error) counts as one failure.
run_jest() {
  local report rc p f s
  report=$(mktemp)
  set +o errexit
  npx --no-install jest --ci --json --outputFile="$report" "$@"
  rc=$?
  set -o errexit
  if [[ -s $report ]]; then
    read -r p f s <<<"$(node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites, r.numPendingTests + r.numTodoTests);
    ' "$report")"
    count "$p" "$f" "$s"
    ((rc == 0 || f > 0)) || count 0 1
  else
    count 0 1
  fi
  rm -f "$report"
}

echo "== jest" >&2
if (($# > 0)); then
  run_jest "$@"
else
  # unit and integration one file at a time (jest's default here: cores - 1).
  run_jest --selectProjects unit integration
  # The sandbox files two at a time: each boots its own network (its own octet, bridge, state
  # dir), and most of their time is spent waiting on hosts, not on the CPU. Jest starts the
  # largest files first (partition, expand), so the long ones do not end up last.
  echo "== jest: e2e, two files at a time" >&2
  run_jest --selectProjects e2e --maxWorkers=2 --testPathIgnorePatterns 'test/e2e/storage/(large|partition)\.test\.ts$'
  # Two files alone, one after the other. The 8-member storage file: beside the expansion file
  # it lost a race between its status read and the group's states (see NOTES in test/e2e/storage).
  # The partition file: beside another sandbox, its member-loss replacement once found the
  # survivor's self-heal daemon not yet running through all of heal-full's retries (27 s); alone,
  # it has passed every run (see NOTES in test/e2e/storage).
  echo "== jest: e2e, the partition and 8-member storage files alone" >&2
  run_jest test/e2e/storage/partition.test.ts test/e2e/storage/large.test.ts --selectProjects e2e --maxWorkers=1
fi

echo "${passed} passed, ${failed} failed, ${skipped} skipped"
((failed == 0))
