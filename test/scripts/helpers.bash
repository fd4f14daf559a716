# Shared setup for the SSM script tests: a temp root, fakes first on PATH, knobs that
# point every system path of the scripts into the temp root. Nothing here touches /etc
# or mounts anything.
# shellcheck shell=bash

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export SCRIPTS=$REPO_ROOT/ssm-documents/scripts
# Real commands the scripts (and bats) may use; everything else is either faked or absent,
# so a test can never reach the host's apt-get, systemctl or mount.
TOOLS=(bash env cat cp mv rm mkdir mktemp chmod cmp awk sed grep head tail tr wc sort uniq
  dirname basename date hostname sleep stat timeout touch ln find id kill printf ls readlink seq cut xargs diff
  gzip gunzip base64 sha256sum dd setsid flock pgrep mkfifo)
FAKED=(mount umount findmnt mountpoint apt-get dnf yum systemctl apachectl curl chown getent)

common_setup() {
  ROOT=$BATS_TEST_TMPDIR/root
  export FAKE_STATE=$BATS_TEST_TMPDIR/state FAKE_BIN=$BATS_TEST_TMPDIR/bin
  local tools=$BATS_TEST_TMPDIR/tools tool
  mkdir -p "$ROOT" "$FAKE_STATE" "$FAKE_BIN" "$tools"
  touch "$FAKE_STATE/calls"
  for tool in "${TOOLS[@]}"; do
    if type -P "$tool" >/dev/null; then ln -s "$(type -P "$tool")" "$tools/$tool"; fi
  done
  cp "$REPO_ROOT/test/scripts/fake.sh" "$FAKE_BIN/fake"
  local cmd
  for cmd in "${FAKED[@]}" mount.glusterfs; do ln -s "$FAKE_BIN/fake" "$FAKE_BIN/$cmd"; done
  export PATH="$FAKE_BIN:$tools"
  export SYSTEMD_RUN_DIR=$ROOT/run/systemd/system  # absent: the no-systemd path
  export APACHE_PID_FILE=$ROOT/run/apache2/apache2.pid
  mkdir -p "$ROOT/run/apache2"
}

common_teardown() {
  if [[ -f ${APACHE_PID_FILE:-} ]]; then kill "$(cat "$APACHE_PID_FILE")" 2>/dev/null || true; fi
}

# Lines of the call log that start with the command name $1.
calls_of() { grep "^$1 " "$FAKE_STATE/calls" || true; }

# Plans $2 failures for the fake counter $1 (mount-failures, umount-busy, curl-failures).
plan_failures() { echo "$2" >"$FAKE_STATE/$1"; }

# Marks $1 as mounted in the fake mount table, from source $2 with type $3.
fake_mounted() { printf '%s %s %s\n' "$1" "$2" "${3:-fuse.glusterfs}" >>"$FAKE_STATE/mounts"; }

# Starts a stand-in "Apache" whose pid is in APACHE_PID_FILE.
fake_apache_running() {
  sleep 300 >/dev/null 2>&1 3>&- &
  echo $! >"$APACHE_PID_FILE"
}
