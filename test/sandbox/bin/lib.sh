#!/usr/bin/env bash
# Shared helpers for the sandbox host scripts. Sourced, never executed.
# Everything created carries the prefix "pas" and is recorded under
# PAS_STATE_DIR so teardown.sh removes exactly what we made.
# shellcheck disable=SC2034  # variables are used by the scripts that source this file

PAS_BIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PAS_REPO_DIR=$(cd "$PAS_BIN_DIR/../../.." && pwd)
PAS_STATE_DIR=${PAS_STATE_DIR:-$PAS_REPO_DIR/.sandbox}
PAS_BRIDGE=${PAS_BRIDGE:-pasbr0}
PAS_BRIDGE_CIDR=${PAS_BRIDGE_CIDR:-10.71.0.1/16}
PAS_PREFIX_LEN=16

pas_log() { printf '%s [%s] %s\n' "$(date +%H:%M:%S)" "${0##*/}" "$*" >&2; }
pas_die() { pas_log "error: $*"; exit 1; }

# A stable short key for an instance id: names must fit in 15 characters.
pas_key() { printf '%s' "$1" | sha1sum | cut -c1-8; }
pas_netns() { printf 'pas-%s' "$(pas_key "$1")"; }
pas_veth_root() { printf 'pasv-%s' "$(pas_key "$1")"; }
pas_veth_host() { printf 'pasp-%s' "$(pas_key "$1")"; }
pas_host_dir() { printf '%s/hosts/%s' "$PAS_STATE_DIR" "$1"; }

pas_require_host_id() {
  [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ ]] || pas_die "invalid host id '$1' (letters, digits, . _ - only)"
}

# The PID of the host's namespace holder, or nothing when it is gone.
pas_holder_pid() {
  local dir pid
  dir=$(pas_host_dir "$1")
  [[ -f $dir/holder.pid ]] || return 0
  pid=$(<"$dir/holder.pid")
  # Only trust the PID while it still holds our network namespace.
  if [[ -d /proc/$pid ]] && [[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "$(pas_netns_inode "$1")" ]]; then
    printf '%s' "$pid"
  fi
}

pas_netns_inode() {
  local ns
  ns=$(pas_netns "$1")
  [[ -e /run/netns/$ns ]] || return 0
  printf 'net:[%s]' "$(stat -L -c %i "/run/netns/$ns")"
}

pas_preflight() {
  [[ $(id -u) -eq 0 ]] || pas_die "the sandbox hosts need root (network and mount namespaces); run as root"
  command -v ip >/dev/null || pas_die "iproute2 ('ip') is not installed"
  command -v nsenter >/dev/null || pas_die "util-linux nsenter is not installed"
  unshare -m true 2>/dev/null || pas_die "mount namespaces are unavailable ('unshare -m true' failed)"
  ip netns list >/dev/null 2>&1 || pas_die "network namespaces are unavailable ('ip netns list' failed)"
  [[ -c /dev/fuse ]] || pas_die "FUSE is unavailable (/dev/fuse missing): GlusterFS mounts cannot work"
}
