#!/usr/bin/env bats
# check-health.sh with curl shadowed.

load helpers

setup() {
  common_setup
  export SSM_AppPort=8080 HEALTH_RETRY_SLEEP=0
}

teardown() { common_teardown; }

@test "passes at the first answer of http://127.0.0.1:<AppPort>/check.txt" {
  run bash "$SCRIPTS/check-health.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of curl)" = "curl -fsS --max-time 5 -o /dev/null http://127.0.0.1:8080/check.txt" ]
}

@test "retries until the node answers" {
  plan_failures curl-failures 3
  run bash "$SCRIPTS/check-health.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of curl | wc -l)" -eq 4 ]
  [[ $output == *"answers (attempt 4/10)"* ]]
}

@test "fails with the last error after HEALTH_ATTEMPTS" {
  plan_failures curl-failures 100
  HEALTH_ATTEMPTS=4 run bash "$SCRIPTS/check-health.sh"
  [ "$status" -ne 0 ]
  [ "$(calls_of curl | wc -l)" -eq 4 ]
  [[ $output == *"never answered after 4 attempts (last error: curl: (7) Failed to connect"* ]]
}

@test "refuses bad ports and bad knobs without calling curl" {
  for value in 'x; rm -rf /' '$(id)' '' 0 65536 080 '80 '; do
    SSM_AppPort=$value run bash "$SCRIPTS/check-health.sh"
    [ "$status" -ne 0 ]
    [[ $output == *SSM_AppPort* ]]
  done
  run env -u SSM_AppPort bash "$SCRIPTS/check-health.sh"
  [[ $output == *"SSM_AppPort is not set"* ]]
  HEALTH_ATTEMPTS=many run bash "$SCRIPTS/check-health.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"HEALTH_ATTEMPTS must be a whole number"* ]]
  [ -z "$(calls_of curl)" ]
}
