#!/usr/bin/env bats
# check-health.sh with curl shadowed.

load helpers

setup() {
  common_setup
  export SSM_AppPort=8080 HEALTH_RETRY_SLEEP=0
}

teardown() { common_teardown; }

@test "passes at the first 200 of http://127.0.0.1:<AppPort>/check.txt" {
  run bash "$SCRIPTS/check-health.sh"
  [ "$status" -eq 0 ]
  [[ $(calls_of curl) == "curl -sS --max-time 5 -o /"*" -w %{http_code} http://127.0.0.1:8080/check.txt" ]]
  [[ $output == *"answers 200 (attempt 1/10)"* ]]
}

@test "a 503 is not a pass: retries, and names the health check's reason when it never passes" {
  plan_failures curl-503 2
  run bash "$SCRIPTS/check-health.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of curl | wc -l)" -eq 3 ]
  [[ $output == *"does not answer 200 yet (attempt 1/10): HTTP 503: UNHEALTHY: data volume /mnt/pydio-data: not mounted"* ]]
  plan_failures curl-503 100
  HEALTH_ATTEMPTS=3 run bash "$SCRIPTS/check-health.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"never answered 200 after 3 attempts (last: HTTP 503: UNHEALTHY: data volume /mnt/pydio-data: not mounted"* ]]
}

@test "retries until the node answers" {
  plan_failures curl-failures 3
  run bash "$SCRIPTS/check-health.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of curl | wc -l)" -eq 4 ]
  [[ $output == *"answers 200 (attempt 4/10)"* ]]
}

@test "fails with the last error after HEALTH_ATTEMPTS" {
  plan_failures curl-failures 100
  HEALTH_ATTEMPTS=4 run bash "$SCRIPTS/check-health.sh"
  [ "$status" -ne 0 ]
  [ "$(calls_of curl | wc -l)" -eq 4 ]
  [[ $output == *"never answered 200 after 4 attempts (last: curl: (7) Failed to connect"* ]]
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
