#!/usr/bin/env bats
# drain-node.sh with umount, mountpoint, systemctl, apachectl shadowed.

load helpers

setup() {
  common_setup
  export SSM_ConfigMount=$ROOT/mnt/pydio-config SSM_DataMount=$ROOT/mnt/pydio-data SSM_WebService=apache2
  export STOP_RETRY_SLEEP=0 UMOUNT_RETRY_SLEEP=0 STOP_ATTEMPTS=20
  mkdir -p "$SSM_ConfigMount" "$SSM_DataMount"
  fake_mounted "$SSM_ConfigMount" 10.0.1.10:/pydio-config
  fake_mounted "$SSM_DataMount" 10.0.1.10:/pydio-data
}

teardown() { common_teardown; }

@test "stops Apache gracefully, then unmounts data before config" {
  fake_apache_running
  pid=$(cat "$APACHE_PID_FILE")
  run bash "$SCRIPTS/drain-node.sh"
  [ "$status" -eq 0 ]
  ! kill -0 "$pid" 2>/dev/null || false
  [ "$(calls_of apachectl)" = 'apachectl -k graceful-stop' ]
  [ "$(calls_of umount)" = "$(printf '%s\n' "umount $SSM_DataMount" "umount $SSM_ConfigMount")" ]
  [ ! -s "$FAKE_STATE/mounts" ]
  grep -n '' "$FAKE_STATE/calls" | grep -q '^1:apachectl'
}

@test "removes this node's health check probe file from each volume, and only this node's" {
  for mount in "$SSM_ConfigMount" "$SSM_DataMount"; do
    mkdir -p "$mount/.pydio-autoscaler/health"
    printf 'node-a 1 2\n' >"$mount/.pydio-autoscaler/health/node-a"
    printf 'node-b 1 2\n' >"$mount/.pydio-autoscaler/health/node-b"
  done
  NODE_ID=node-a run bash "$SCRIPTS/drain-node.sh"
  [ "$status" -eq 0 ]
  for mount in "$SSM_ConfigMount" "$SSM_DataMount"; do
    [ ! -e "$mount/.pydio-autoscaler/health/node-a" ]
    [ -e "$mount/.pydio-autoscaler/health/node-b" ]
  done
  [[ $output == *"removed this node's health check probe file"* ]]
}

@test "a second run does nothing and exits 0" {
  fake_apache_running
  run bash "$SCRIPTS/drain-node.sh"
  [ "$status" -eq 0 ]
  : >"$FAKE_STATE/calls"
  run bash "$SCRIPTS/drain-node.sh"
  [ "$status" -eq 0 ]
  [ -z "$(calls_of apachectl)$(calls_of umount)" ]
  [[ $output == *"Apache is not running; skipped"* ]]
  [[ $output == *"not mounted; skipped"* ]]
}

@test "stops Apache hard when graceful-stop does not finish within the bound" {
  fake_apache_running
  FAKE_APACHE_IGNORES_GRACEFUL_STOP=1 STOP_ATTEMPTS=3 run bash "$SCRIPTS/drain-node.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of apachectl)" = "$(printf '%s\n' 'apachectl -k graceful-stop' 'apachectl -k stop')" ]
  [[ $output == *"still running after 3 checks"* ]]
}

@test "falls back to a lazy unmount only after the bounded retries, and says so" {
  plan_failures umount-busy 100
  UMOUNT_ATTEMPTS=3 run bash "$SCRIPTS/drain-node.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of umount | grep -c "umount $SSM_DataMount\$")" -eq 3 ]
  calls_of umount | grep -qx "umount -l $SSM_DataMount"
  [[ $output == *"LAZY unmount"* ]]
  [ ! -s "$FAKE_STATE/mounts" ]
}

@test "a busy mount that frees up within the retries is unmounted normally" {
  plan_failures umount-busy 1
  run bash "$SCRIPTS/drain-node.sh"
  [ "$status" -eq 0 ]
  ! calls_of umount | grep -q '^umount -l ' || false
}

@test "keeps fstab entries: the script never edits fstab" {
  ! grep -Eq '/etc/fstab|\$\{?FSTAB' "$SCRIPTS/drain-node.sh" || false
  export FSTAB=$ROOT/etc/fstab
  mkdir -p "$ROOT/etc" && printf '10.0.1.10:/pydio-data %s glusterfs defaults,_netdev 0 0\n' "$SSM_DataMount" >"$FSTAB"
  cp "$FSTAB" "$BATS_TEST_TMPDIR/fstab.before"
  run bash "$SCRIPTS/drain-node.sh"
  [ "$status" -eq 0 ]
  cmp "$FSTAB" "$BATS_TEST_TMPDIR/fstab.before"
}

@test "with systemd: stops an active service with systemctl" {
  mkdir -p "$SYSTEMD_RUN_DIR"
  touch "$FAKE_STATE/active-apache2"
  run bash "$SCRIPTS/drain-node.sh"
  [ "$status" -eq 0 ]
  calls_of systemctl | grep -qx 'systemctl stop apache2'
  [ -z "$(calls_of apachectl)" ]
  run bash "$SCRIPTS/drain-node.sh"
  [[ $output == *"apache2 is not running; skipped"* ]]
}

@test "refuses bad inputs without stopping or unmounting anything" {
  fake_apache_running
  for name in ConfigMount DataMount WebService; do
    for value in 'x; rm -rf /' '$(id)' '`id`' 'a b' $'a\nb' '' /mnt/../etc /; do
      run env "SSM_$name=$value" bash "$SCRIPTS/drain-node.sh"
      [ "$status" -ne 0 ]
      [[ $output == *"SSM_$name"* ]]
    done
  done
  SSM_DataMount=/usr run bash "$SCRIPTS/drain-node.sh"
  [[ $output == *"must not be the system directory /usr"* ]]
  [ -z "$(calls_of umount)$(calls_of apachectl)$(calls_of systemctl)" ]
}
