#!/usr/bin/env bash
# teardown.sh: removes everything this sandbox run created, as recorded in
# $PAS_STATE_DIR: every host (its processes, mounts, namespace and link), the
# HAProxy, and the bridge if this run created it. Idempotent; safe after a
# failure or Ctrl-C. PAS_KEEP_STATE=1 keeps the state dir (logs) afterwards.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
[[ -d $PAS_STATE_DIR ]] || { pas_log "nothing to tear down ($PAS_STATE_DIR absent)"; exit 0; }
[[ $(id -u) -eq 0 ]] || pas_die "teardown needs root"
status=0
if [[ -d $PAS_STATE_DIR/hosts ]]; then
  for dir in "$PAS_STATE_DIR"/hosts/*/; do
    [[ -d $dir ]] || continue
    bash "$PAS_BIN_DIR/host-destroy.sh" "$(basename "$dir")" || status=1
  done
fi
bash "$PAS_BIN_DIR/haproxy.sh" stop || status=1
if [[ -f $PAS_STATE_DIR/net/bridge ]]; then
  bridge=$(<"$PAS_STATE_DIR/net/bridge")
  if [[ $bridge == pasbr* ]] && ip link show "$bridge" >/dev/null 2>&1; then
    ip link delete "$bridge"
    pas_log "deleted bridge $bridge"
  fi
  rm -f "$PAS_STATE_DIR/net/bridge"
fi
if ((status == 0)) && [[ ${PAS_KEEP_STATE:-0} != 1 ]]; then
  rm -rf "$PAS_STATE_DIR"
fi
pas_log "teardown done"
exit "$status"
