#!/usr/bin/env bash
# host-destroy.sh <host-id>
# Stops everything running in the host (by the PIDs in its own network
# namespace), unmounts its FUSE mounts, deletes its namespace and veth link.
# Idempotent.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
(($# == 1)) || pas_die "usage: host-destroy.sh <host-id>"
id=$1
pas_require_host_id "$id"
dir=$(pas_host_dir "$id")
ns=$(pas_netns "$id")
[[ -f $dir/netns ]] && ns=$(<"$dir/netns")
[[ $ns == pas-* ]] || pas_die "refusing to touch namespace '$ns' (not a sandbox namespace)"

pid=$(pas_holder_pid "$id")
if [[ -n $pid ]]; then
  # Lazy-unmount the host's FUSE (glusterfs) mounts before their daemons go.
  bash "$PAS_BIN_DIR/hostexec.sh" "$id" bash -c \
    'awk '\''$3 ~ /^fuse/ {print $2}'\'' /proc/self/mounts | while read -r m; do umount -l "$m" || true; done' || true
fi
if [[ -e /run/netns/$ns ]]; then
  for sig in TERM KILL; do
    pids=$(ip netns pids "$ns" || true)
    [[ -z $pids ]] && break
    # shellcheck disable=SC2086  # a list of PIDs
    kill -s "$sig" $pids 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      [[ -z $(ip netns pids "$ns" || true) ]] && break
      sleep 0.1
    done
  done
  [[ -z $(ip netns pids "$ns" || true) ]] || pas_log "warning: processes still in $ns: $(ip netns pids "$ns" | tr '\n' ' ')"
  ip netns delete "$ns"
fi
link=$(pas_veth_root "$id")
[[ -f $dir/link ]] && link=$(<"$dir/link")
# Deleting the namespace removes the veth peer, and the kernel then removes our end
# on its own: a delete that loses that race is fine as long as the link is gone.
if [[ $link == pasv-* ]] && ip link show "$link" >/dev/null 2>&1; then
  if ! ip link delete "$link" 2>/dev/null && ip link show "$link" >/dev/null 2>&1; then
    pas_die "could not delete link $link"
  fi
fi
rm -f "$dir/ready" "$dir/holder.pid"
pas_log "host $id destroyed"
