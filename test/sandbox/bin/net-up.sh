#!/usr/bin/env bash
# Creates the sandbox bridge (default pasbr0, 10.71.0.1/16) in the root
# namespace when missing, and records it for teardown. No forwarding, no NAT.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
pas_preflight
mkdir -p "$PAS_STATE_DIR/net"
if ! ip link show "$PAS_BRIDGE" >/dev/null 2>&1; then
  ip link add "$PAS_BRIDGE" type bridge
  echo "$PAS_BRIDGE" >"$PAS_STATE_DIR/net/bridge"
  pas_log "created bridge $PAS_BRIDGE"
fi
# Read the addresses first: `ip ... | grep -q` under pipefail fails when grep
# exits early (SIGPIPE), and adding the address again then errors out.
addrs=$(ip -4 addr show dev "$PAS_BRIDGE")
grep -qF "inet ${PAS_BRIDGE_CIDR} " <<<"$addrs" || ip addr add "$PAS_BRIDGE_CIDR" dev "$PAS_BRIDGE"
ip link set "$PAS_BRIDGE" up
