#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# Lints and tests the SSM document scripts and the reference cluster's user data script:
#   1. shellcheck -x on every ssm-documents/scripts/*.sh and ssm-documents/user-data/*.sh (one result per script) and on
#      the test fakes;
#   2. bats on test/scripts/*.bats (TAP; one result per test case).
# Ends with one line "N passed, N failed"; exits non-zero when anything failed.
cd "$(dirname "$0")/../.."

passed=0 failed=0

echo "== shellcheck" >&2
for script in ssm-documents/scripts/*.sh ssm-documents/user-data/*.sh test/scripts/fake.sh test/scripts/helpers.bash; do
  if shellcheck -x "$script" >&2; then
    echo "ok shellcheck $script" >&2
    passed=$((passed + 1))
  else
    echo "not ok shellcheck $script" >&2
    failed=$((failed + 1))
  fi
done

echo "== bats" >&2
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
set +o errexit
bats --tap test/scripts/*.bats >"$tap" 2>&1
bats_rc=$?
set -o errexit
cat "$tap" >&2
plan=$(grep -Em1 '^1\.\.[0-9]+$' "$tap" | cut -d. -f3 || true)
ok=$(grep -Ec '^ok [0-9]+' "$tap" || true)
not_ok=$(grep -Ec '^not ok [0-9]+' "$tap" || true)
passed=$((passed + ok))
failed=$((failed + not_ok))
# Tests that never reported (bats crashed, plan not met) count as failed.
if [[ -z $plan ]]; then
  echo "bats printed no plan (exit $bats_rc)" >&2
  failed=$((failed + 1))
elif ((ok + not_ok < plan)); then
  echo "bats reported $((ok + not_ok)) of $plan planned tests" >&2
  failed=$((failed + plan - ok - not_ok))
elif ((bats_rc != 0 && not_ok == 0)); then
  echo "bats exited $bats_rc without a failing test" >&2
  failed=$((failed + 1))
fi

echo "${passed} passed, ${failed} failed"
((failed == 0))
