#!/usr/bin/env bash
# host-crash.sh <host-id>
# Crashes a sandbox host as an instance failure would: every process in it
# (glusterd, bricks, self-heal daemon, Apache, the namespace holder) is killed
# with SIGKILL, nothing is unmounted or stopped cleanly, then its network is
# gone (namespace and veth deleted). The host's records stay (its IP: SSM keeps
# reporting an agent's last address) so host-destroy.sh still cleans up when the
# group terminates the instance. Idempotent: exits 0 when the host is already down.
#
# Order: processes first, then (after PAS_CRASH_RESET_GRACE s, default 2) the
# network. Their sockets close as the kernel reaps them, and for that grace the
# host's kernel answers with resets, so peers and FUSE clients see the
# connections drop at once (as after a kernel panic that resets connections)
# instead of waiting out Gluster's 42 s ping timeout.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
(($# == 1)) || pas_die "usage: host-crash.sh <host-id>"
id=$1
pas_require_host_id "$id"
dir=$(pas_host_dir "$id")
[[ -d $dir ]] || pas_die "no sandbox host '$id' (no $dir)"
ns=$(pas_netns "$id")
[[ -f $dir/netns ]] && ns=$(<"$dir/netns")
[[ $ns == pas-* ]] || pas_die "refusing to touch namespace '$ns' (not a sandbox namespace)"
WAIT_TRIES=${PAS_WAIT_TRIES:-100}

if [[ -e /run/netns/$ns ]]; then
  pids=$(ip netns pids "$ns" || true)
  if [[ -n $pids ]]; then
    # shellcheck disable=SC2086  # a list of PIDs
    kill -s KILL $pids 2>/dev/null || true
  fi
  for ((i = 0; i < WAIT_TRIES; i++)); do
    [[ -z $(ip netns pids "$ns" || true) ]] && break
    sleep 0.1
  done
  left=$(ip netns pids "$ns" || true)
  [[ -z $left ]] || pas_die "host $id: processes survived SIGKILL: $(tr '\n' ' ' <<<"$left")"
  # A moment with the kernel still up and nothing listening: a peer that had not yet
  # seen the FIN (a busy machine) gets a reset instead of silence and marks the brick
  # down at once, not after Gluster's 42 s ping timeout.
  sleep "${PAS_CRASH_RESET_GRACE:-2}"
  ip netns delete "$ns"
fi
link=$(pas_veth_root "$id")
[[ -f $dir/link ]] && link=$(<"$dir/link")
if [[ $link == pasv-* ]] && ip link show "$link" >/dev/null 2>&1; then
  # Deleting the namespace removed the peer; the kernel removes our end on its own.
  ip link delete "$link" 2>/dev/null || ! ip link show "$link" >/dev/null 2>&1 || pas_die "could not delete link $link"
fi
rm -f "$dir/ready" "$dir/holder.pid"
printf '%s\n' "$(date -u +%FT%TZ)" >"$dir/crashed"
pas_log "host $id crashed (processes killed, network gone)"
