#!/usr/bin/env bash
# haproxy.sh start <config-file> | stop | cmd <runtime-api-command...>
# The sandbox load balancer: one HAProxy in the root namespace, its PID file
# and admin socket in $PAS_STATE_DIR/haproxy/. The config is written by the
# DataPlane (test/sandbox/hosts/index.ts); servers come and go at runtime.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
hdir=$PAS_STATE_DIR/haproxy
pidfile=$hdir/haproxy.pid
sock=$hdir/admin.sock

running_pid() {
  [[ -f $pidfile ]] || return 0
  local pid
  pid=$(head -n 1 "$pidfile")
  # Only our own HAProxy: its command line names our PID file.
  if [[ -r /proc/$pid/cmdline ]] && tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$pidfile"; then
    printf '%s' "$pid"
  fi
}

case ${1:-} in
  start)
    (($# == 2)) || pas_die "usage: haproxy.sh start <config-file>"
    cfg=$2
    [[ -f $cfg ]] || pas_die "no HAProxy config at $cfg"
    if [[ -n $(running_pid) ]]; then
      pas_log "haproxy already running (pid $(running_pid))"
      exit 0
    fi
    mkdir -p "$hdir"
    haproxy -c -q -f "$cfg" || pas_die "invalid HAProxy config $cfg"
    rm -f "$sock"
    haproxy -D -f "$cfg" -p "$pidfile"
    for ((i = 0; i < 50; i++)); do
      [[ -S $sock ]] && break
      sleep 0.1
    done
    [[ -S $sock ]] || pas_die "haproxy did not open its admin socket $sock"
    pas_log "haproxy started (pid $(running_pid))"
    ;;
  stop)
    pid=$(running_pid)
    if [[ -n $pid ]]; then
      kill "$pid"
      for ((i = 0; i < 50; i++)); do
        [[ -d /proc/$pid ]] || break
        sleep 0.1
      done
      [[ ! -d /proc/$pid ]] || kill -s KILL "$pid" 2>/dev/null || true
      pas_log "haproxy stopped (pid $pid)"
    fi
    rm -f "$pidfile" "$sock"
    ;;
  cmd)
    shift
    (($# >= 1)) || pas_die "usage: haproxy.sh cmd <runtime-api-command...>"
    [[ -S $sock ]] || pas_die "haproxy is not running (no socket $sock)"
    printf '%s\n' "$*" | socat -t 5 stdio "unix-connect:$sock"
    ;;
  *) pas_die "usage: haproxy.sh start <config-file> | stop | cmd <command...>" ;;
esac
