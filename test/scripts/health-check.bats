#!/usr/bin/env bats
# install-health-check.sh, then the check.php it installs, run for real by php-cli against a
# fake mountinfo and volume directories in a temp root: one case per reason the check can give.
# (The real-Apache case, mod_php and the access log, is in configure-app.bats.)

load helpers

PHP=/usr/bin/php

setup() {
  common_setup
  export SSM_WebUser=www-data
  export HEALTH_DIR=$ROOT/usr/local/lib/pydio-autoscaler/health HEALTH_RUN_DIR=$ROOT/run/pydio-autoscaler/health TMPFILES_DIR=$ROOT/etc/tmpfiles.d
  CFG=$ROOT/mnt/pydio-config DATA=$ROOT/mnt/pydio-data
  # The settings configure-app.sh's site gives check.php (SetEnv), plus the test's mountinfo and node name.
  export PAS_HEALTH_CONFIG_MOUNT=$CFG PAS_HEALTH_CONFIG_DIRS='appdata cache sessions'
  export PAS_HEALTH_DATA_MOUNT=$DATA PAS_HEALTH_DATA_DIRS='common users'
  export PAS_HEALTH_LOCAL="$ROOT/var/www/pydio/conf/bootstrap_context.php $ROOT/var/cache/pydio"
  export PAS_HEALTH_RUN_DIR=$HEALTH_RUN_DIR PAS_HEALTH_TIMEOUT=2 PAS_HEALTH_MOUNTINFO=$ROOT/mountinfo PAS_HEALTH_NODE=node-a
  mkdir -p "$CFG"/{appdata,cache,sessions,.pydio-autoscaler/health} "$DATA"/{common,users,.pydio-autoscaler/health} \
    "$ROOT/var/www/pydio/conf" "$ROOT/var/cache/pydio"
  printf '<?php\n' >"$ROOT/var/www/pydio/conf/bootstrap_context.php"
  mounted "$CFG" fuse.glusterfs 10.0.1.10:/pydio-config
  mounted "$DATA" fuse.glusterfs 10.0.1.10:/pydio-data
}

teardown() {
  # A probe left blocked by the hung-mount case: end its session (the probe and its dd) by pid.
  local sid pid
  for sid in $(probe_sessions data) $(probe_sessions config); do
    for pid in $(session_pids "$sid"); do kill -9 "$pid" 2>/dev/null || true; done
  done
  [[ -z ${OTHER_ROOT:-} ]] || rm -rf "$OTHER_ROOT"
  common_teardown
}

# The sessions of running probes of volume $1: each probe runs in its own (setsid), led by itself.
probe_sessions() {
  local pid
  for pid in $(pgrep -f -- "$HEALTH_DIR/probe.sh $1 " || true); do
    [[ $(session_of "$pid") != "$pid" ]] || echo "$pid"
  done
}
session_of() { local stat; stat=$(cat "/proc/$1/stat" 2>/dev/null) && read -r _ _ _ sid _ <<<"${stat##*) }" && echo "$sid"; }
session_pids() {
  local dir
  for dir in /proc/[0-9]*; do [[ $(session_of "${dir#/proc/}") != "$1" ]] || echo "${dir#/proc/}"; done
}

# Appends a line to the fake /proc/self/mountinfo: mount point $1, type $2, source $3.
mounted() { printf '%d 22 0:%d / %s rw,relatime shared:1 - %s %s rw\n' "$RANDOM" "$RANDOM" "$1" "$2" "$3" >>"$ROOT/mountinfo"; }

install() {
  run bash "$SCRIPTS/install-health-check.sh"
  [ "$status" -eq 0 ]
}

# Runs the installed check.php with php-cli: exit 0 and "OK" when healthy, 1 and "UNHEALTHY: ..." otherwise.
check() { run "$PHP" "$HEALTH_DIR/check.php"; }

@test "installs check.php, probe.sh and the probes' lock dir (kept by systemd-tmpfiles); a second run changes nothing" {
  install
  [ -f "$HEALTH_DIR/check.php" ] && [ -x "$HEALTH_DIR/probe.sh" ]
  [ "$(stat -c %a "$HEALTH_DIR/check.php")" = 644 ]
  [ "$(stat -c %a "$HEALTH_RUN_DIR")" = 700 ]
  calls_of chown | grep -qx "chown 33:33 $HEALTH_RUN_DIR"
  grep -qx "d $HEALTH_RUN_DIR 0700 www-data www-data -" "$TMPFILES_DIR/pydio-autoscaler-health.conf"
  "$PHP" -l "$HEALTH_DIR/check.php"
  if [ -x /usr/bin/shellcheck ]; then /usr/bin/shellcheck "$HEALTH_DIR/probe.sh"; fi
  before=$(find "$ROOT/usr" "$ROOT/etc" -type f -printf '%p %T@\n' | sort)
  sleep 1
  install
  [[ $output == *"check.php: unchanged"* && $output == *"probe.sh: unchanged"* ]]
  [ "$(find "$ROOT/usr" "$ROOT/etc" -type f -printf '%p %T@\n' | sort)" = "$before" ]
}

@test "install refuses a bad or unknown web user and bad knobs, installing nothing" {
  for value in 'x; id' '$(id)' '' Root; do
    SSM_WebUser=$value run bash "$SCRIPTS/install-health-check.sh"
    [ "$status" -ne 0 ]
    [[ $output == *SSM_WebUser* ]]
  done
  SSM_WebUser=nobody-here run bash "$SCRIPTS/install-health-check.sh"
  [[ $output == *"web user 'nobody-here' does not exist"* ]]
  HEALTH_DIR=relative/dir run bash "$SCRIPTS/install-health-check.sh"
  [[ $output == *"HEALTH_DIR must be an absolute path"* ]]
  [ ! -e "$HEALTH_DIR" ]
}

@test "healthy: 200-style OK, and each volume holds this node's probe file, written and read back" {
  install
  check
  [ "$status" -eq 0 ]
  [ "$output" = OK ]
  for mount in "$CFG" "$DATA"; do [[ $(cat "$mount/.pydio-autoscaler/health/node-a") == "node-a "* ]]; done
  # Several load balancer nodes check at once: a probe waits for a concurrent one, it is not "busy".
  pids=()
  for i in 1 2 3 4; do "$PHP" "$HEALTH_DIR/check.php" >"$BATS_TEST_TMPDIR/concurrent.$i" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid"; done
  [ "$(cat "$BATS_TEST_TMPDIR"/concurrent.* | sort -u)" = OK ]
}

@test "a volume not mounted: 503 naming it (mountinfo, not only a directory that exists)" {
  install
  : >"$ROOT/mountinfo"
  mounted "$CFG" fuse.glusterfs 10.0.1.10:/pydio-config
  check
  [ "$status" -eq 1 ]
  [ "$output" = "UNHEALTHY: data volume $DATA: not mounted" ]
}

@test "a volume mounted as something else, or hidden under another mount: 503 naming the type" {
  install
  mounted "$CFG" tmpfs tmpfs # the topmost mount at the path is what the app sees
  check
  [ "$status" -eq 1 ]
  [ "$output" = "UNHEALTHY: config volume $CFG: mounted as tmpfs, not fuse.glusterfs" ]
}

@test "a directory the app writes to is missing on a volume: 503 naming it" {
  install
  rm -r "$DATA/users" "$CFG/sessions"
  check
  [ "$status" -eq 1 ]
  [ "$output" = "UNHEALTHY: config volume $CFG: $CFG/sessions is missing; data volume $DATA: $DATA/users is missing" ]
}

@test "no probe directory on a volume (configure-app never ran there): 503 naming it" {
  install
  rm -r "$DATA/.pydio-autoscaler"
  check
  [ "$status" -eq 1 ]
  [ "$output" = "UNHEALTHY: data volume $DATA: $DATA/.pydio-autoscaler/health is missing or not writable by root" ]
}

@test "a volume whose root cannot be read (a dead client: ENOTCONN and the like): 503 with the system's words" {
  install
  rm -r "$DATA"
  printf 'not a directory\n' >"$DATA"
  check
  [ "$status" -eq 1 ]
  [[ $output == "UNHEALTHY: data volume $DATA: stat: cannot stat"*"'$DATA/': Not a directory" ]]
}

@test "a directory the web user cannot write to: 503 naming it and the user" {
  install
  [ -x /usr/bin/setpriv ] || skip "setpriv (util-linux) is not installed"
  # A root that the unprivileged user can reach (the bats temp dir is private to root).
  OTHER_ROOT=$(/usr/bin/mktemp -d /tmp/pas-health-XXXXXX)
  chmod 0755 "$OTHER_ROOT"
  cp -a "$ROOT/." "$OTHER_ROOT/"
  for mount in "$OTHER_ROOT/mnt/pydio-config" "$OTHER_ROOT/mnt/pydio-data"; do
    /usr/bin/chown -R 65534:65534 "$mount"/* "$mount/.pydio-autoscaler"
  done
  /usr/bin/chown 65534:65534 "$OTHER_ROOT/run/pydio-autoscaler/health" "$OTHER_ROOT/var/cache/pydio"
  /usr/bin/chown 0:0 "$OTHER_ROOT/mnt/pydio-data/users" # root's, as a directory configure-app never handed over
  sed "s#$ROOT#$OTHER_ROOT#g" "$ROOT/mountinfo" >"$OTHER_ROOT/mountinfo"
  run env PAS_HEALTH_CONFIG_MOUNT="${PAS_HEALTH_CONFIG_MOUNT/$ROOT/$OTHER_ROOT}" PAS_HEALTH_DATA_MOUNT="${PAS_HEALTH_DATA_MOUNT/$ROOT/$OTHER_ROOT}" \
    PAS_HEALTH_LOCAL="${PAS_HEALTH_LOCAL//$ROOT/$OTHER_ROOT}" PAS_HEALTH_RUN_DIR="${PAS_HEALTH_RUN_DIR/$ROOT/$OTHER_ROOT}" \
    PAS_HEALTH_MOUNTINFO="$OTHER_ROOT/mountinfo" \
    /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups "$PHP" "$OTHER_ROOT/usr/local/lib/pydio-autoscaler/health/check.php"
  [ "$status" -eq 1 ]
  [[ $output == "UNHEALTHY: data volume $OTHER_ROOT/mnt/pydio-data: $OTHER_ROOT/mnt/pydio-data/users is not writable by "* ]]
}

@test "the node's own Pydio files missing, or the lock dir gone after a reboot: 503 naming them" {
  install
  rm "$ROOT/var/www/pydio/conf/bootstrap_context.php"
  rm -r "$HEALTH_RUN_DIR"
  check
  [ "$status" -eq 1 ]
  [[ $output == "UNHEALTHY: $ROOT/var/www/pydio/conf/bootstrap_context.php is missing; $HEALTH_RUN_DIR is missing or not writable (re-run pydio-configure-app"* ]]
}

@test "a hung volume: 503 at the deadline, then at once without touching it again; one blocked probe, not one per check" {
  install
  # A FIFO with no reader blocks the probe's write in open(2), as a hung FUSE mount blocks it.
  mkfifo "$DATA/.pydio-autoscaler/health/node-a"
  PAS_HEALTH_TIMEOUT=1
  start=$(date +%s%N)
  check
  took=$((($(date +%s%N) - start) / 1000000))
  [ "$status" -eq 1 ]
  [ "$output" = "UNHEALTHY: data volume $DATA: no answer within 1s (mount hung?)" ]
  ((took < 3000)) # the request ends at the deadline, not when the volume answers
  sleep 1.2
  start=$(date +%s%N)
  check
  took=$((($(date +%s%N) - start) / 1000000))
  [ "$status" -eq 1 ]
  [[ $output =~ ^"UNHEALTHY: data volume $DATA: a probe started "[0-9]+"s ago has not finished (mount hung?)"$ ]]
  ((took < 1000)) # the lock answers: nothing waits on the volume
  [ "$(probe_sessions data | wc -l)" -eq 1 ]
  [ "$(probe_sessions config | wc -l)" -eq 0 ]
  # The volume answers again: the blocked probe's open(2) returns, the probe ends, and the next check passes.
  fifo=$DATA/.pydio-autoscaler/health/node-a
  timeout 5 cat "$fifo" >/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do [ -n "$(probe_sessions data)" ] || break; sleep 0.2; done
  [ -z "$(probe_sessions data)" ]
  rm "$fifo"
  check
  [ "$status" -eq 0 ]
}

@test "missing settings fail closed: 503 'misconfigured', never OK" {
  install
  unset PAS_HEALTH_DATA_MOUNT
  check
  [ "$status" -eq 1 ]
  [ "$output" = "UNHEALTHY: health check misconfigured: PAS_HEALTH_DATA_MOUNT is not set" ]
  PAS_HEALTH_DATA_MOUNT=relative PAS_HEALTH_TIMEOUT=2 check
  [ "$output" = "UNHEALTHY: health check misconfigured: PAS_HEALTH_DATA_MOUNT must be an absolute path, got 'relative'" ]
  export PAS_HEALTH_DATA_MOUNT=$DATA PAS_HEALTH_TIMEOUT=soon
  check
  [ "$output" = "UNHEALTHY: health check misconfigured: PAS_HEALTH_TIMEOUT must be seconds between 0.1 and 99, got 'soon'" ]
}
