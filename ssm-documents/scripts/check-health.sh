#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# pydio-configure-app (step checkHealth): the node passes its own health check, i.e.
# what the load balancer polls, http://127.0.0.1:<AppPort>/check.txt, answers 200
# (install-health-check.sh: PHP runs and both volumes are mounted, answer and take a write).
#
# Inputs (SSM parameters, interpolationType ENV_VAR): SSM_AppPort
# Knobs: HEALTH_ATTEMPTS (10), HEALTH_RETRY_SLEEP (3 s), HEALTH_TIMEOUT (5 s per request)
# Exit 0 at the first 200; non-zero with the last status and its reason (or curl's error) otherwise.

HEALTH_ATTEMPTS=${HEALTH_ATTEMPTS:-10}
HEALTH_RETRY_SLEEP=${HEALTH_RETRY_SLEEP:-3}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-5}

step=validate
log() { printf 'check-health[%s]: %s\n' "$step" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

PORT_RE='^([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$'
[[ -n ${SSM_AppPort+set} ]] || die "SSM_AppPort is not set (parameter AppPort missing; SSM Agent 3.3.2746.0+ with interpolationType ENV_VAR is required)"
[[ $SSM_AppPort =~ $PORT_RE ]] || die "SSM_AppPort must be a TCP port number (1-65535), got '$SSM_AppPort'"
for knob in HEALTH_ATTEMPTS HEALTH_RETRY_SLEEP HEALTH_TIMEOUT; do
  [[ ${!knob} =~ ^[0-9]{1,4}$ ]] || die "$knob must be a whole number, got '${!knob}'"
done
((HEALTH_ATTEMPTS >= 1 && HEALTH_TIMEOUT >= 1)) || die "HEALTH_ATTEMPTS and HEALTH_TIMEOUT must be at least 1"

step=check
url="http://127.0.0.1:$SSM_AppPort/check.txt"
body=$(mktemp)
errors=$(mktemp)
trap 'rm -f "$body" "$errors"' EXIT
last_error=''
for ((attempt = 1; attempt <= HEALTH_ATTEMPTS; attempt++)); do
  # The health check answers 503 and one line naming what is broken: keep that line.
  if code=$(curl -sS --max-time "$HEALTH_TIMEOUT" -o "$body" -w '%{http_code}' "$url" 2>"$errors"); then
    if [[ $code == 200 ]]; then
      log "$url answers 200 (attempt $attempt/$HEALTH_ATTEMPTS)"
      exit 0
    fi
    last_error="HTTP $code: $(head -c 500 "$body" | tr -s '\n' ' ')"
  else
    last_error=$(tr -s '\n' ' ' <"$errors")
  fi
  log "$url does not answer 200 yet (attempt $attempt/$HEALTH_ATTEMPTS): ${last_error:-no error text}"
  ((attempt == HEALTH_ATTEMPTS)) || sleep "$HEALTH_RETRY_SLEEP"
done
die "$url never answered 200 after $HEALTH_ATTEMPTS attempts (last: ${last_error:-none}); is Apache running on port $SSM_AppPort, and are both volumes mounted and writable?"
