#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# One fake for every system command the SSM scripts call; installed under each
# command's name (symlink) in a bin dir put first on PATH by helpers.bash.
# Every call is logged as "<name> <args...>" to $FAKE_STATE/calls. State that real
# commands would keep in the kernel (mount table, running services) lives in $FAKE_STATE.
name=$(basename "$0")
: "${FAKE_STATE:?FAKE_STATE must point at the test state dir}"
printf '%s %s\n' "$name" "$*" >>"$FAKE_STATE/calls"
mounts=$FAKE_STATE/mounts
touch "$mounts"

# Consumes one planned failure from the counter file $1; succeeds while some are left.
take_failure() {
  local file=$FAKE_STATE/$1 n
  [[ -f $file ]] || return 1
  n=$(cat "$file")
  ((n > 0)) || return 1
  echo $((n - 1)) >"$file"
}

stop_apache() {
  [[ -f $APACHE_PID_FILE ]] || return 0
  kill "$(cat "$APACHE_PID_FILE")" 2>/dev/null || true
  rm -f "$APACHE_PID_FILE"
}

last_arg() { local a; for a in "$@"; do :; done; printf '%s' "$a"; }

case $name in
  mount)
    if take_failure mount-failures; then echo "Mount failed. Check the log file for more details." >&2; exit 32; fi
    src=${*: -2:1}
    mnt=$(last_arg "$@")
    printf '%s %s fuse.glusterfs\n' "$mnt" "$src" >>"$mounts"
    ;;
  umount)
    mnt=$(last_arg "$@")
    grep -q "^$mnt " "$mounts" || { echo "umount: $mnt: not mounted." >&2; exit 32; }
    if [[ $1 != -l ]] && take_failure umount-busy; then echo "umount: $mnt: target is busy." >&2; exit 32; fi
    grep -v "^$mnt " "$mounts" >"$mounts.new" || true
    mv "$mounts.new" "$mounts"
    # A dead mount is gone once unmounted (see stat | mkdir).
    if [[ -f $FAKE_STATE/dead ]]; then grep -vxF "$mnt" "$FAKE_STATE/dead" >"$FAKE_STATE/dead.new" || true; mv "$FAKE_STATE/dead.new" "$FAKE_STATE/dead"; fi
    ;;
  stat | mkdir)
    # Installed only by tests of a dead FUSE mount (its client died): every stat of a path listed
    # in $FAKE_STATE/dead fails as the kernel answers it, until the path is unmounted.
    for arg in "$@"; do
      if [[ -f $FAKE_STATE/dead ]] && grep -qxF "$arg" "$FAKE_STATE/dead"; then
        echo "$name: cannot stat '$arg': Transport endpoint is not connected" >&2
        exit 1
      fi
    done
    exec "$FAKE_STATE/../tools/$name" "$@"
    ;;
  findmnt)
    # findmnt -n -o FSTYPE|SOURCE --mountpoint MNT
    field=$3 mnt=$(last_arg "$@")
    line=$(grep "^$mnt " "$mounts" | tail -n 1) || exit 1
    read -r _ src fstype <<<"$line"
    if [[ $field == FSTYPE ]]; then echo "$fstype"; else echo "$src"; fi
    ;;
  mountpoint)
    grep -q "^$(last_arg "$@") " "$mounts"
    ;;
  apt-get | dnf | yum)
    if [[ $* == *install* ]]; then
      ln -sf "$FAKE_BIN/fake" "$FAKE_BIN/mount.glusterfs"
    fi
    ;;
  systemctl)
    svc=$(last_arg "$@")
    case $1 in
      is-active) [[ -f $FAKE_STATE/active-$svc ]] ;;
      stop) rm -f "$FAKE_STATE/active-$svc" ;;
      reload | enable | start | restart) touch "$FAKE_STATE/active-$svc" ;;
    esac
    ;;
  apachectl)
    case "$*" in
      configtest) exit "${FAKE_CONFIGTEST_RC:-0}" ;;
      "-k start")
        sleep 300 >/dev/null 2>&1 3>&- &
        echo $! >"$APACHE_PID_FILE"
        ;;
      "-k graceful-stop")
        [[ ${FAKE_APACHE_IGNORES_GRACEFUL_STOP:-0} == 1 ]] || stop_apache
        ;;
      "-k stop") stop_apache ;;
    esac
    ;;
  curl)
    if take_failure curl-failures; then echo "curl: (7) Failed to connect to 127.0.0.1 port 80: Connection refused" >&2; exit 7; fi
    # -o FILE gets the body, -w '%{http_code}' prints the status: 503 while curl-503 lasts, else 200.
    out=/dev/null
    args=("$@")
    for ((i = 0; i < ${#args[@]}; i++)); do [[ ${args[i]} != -o ]] || out=${args[i + 1]}; done
    if take_failure curl-503; then
      printf 'UNHEALTHY: data volume /mnt/pydio-data: not mounted\n' >"$out"
      [[ $* != *-w* ]] || printf '503'
    else
      printf 'OK\n' >"$out"
      [[ $* != *-w* ]] || printf '200'
    fi
    ;;
  getent)
    case "$*" in
      "passwd www-data") echo 'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin' ;;
      "passwd apache") echo 'apache:x:48:48:Apache:/usr/share/httpd:/sbin/nologin' ;;
      *) exit 2 ;;
    esac
    ;;
  chown | mount.glusterfs) ;;
  *) echo "fake: no behaviour for $name" >&2; exit 99 ;;
esac
