#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# storage-peer-probe: desired state for the Gluster pool, run on a healthy member.
#
# Inputs (SSM parameters, interpolationType ENV_VAR):
#   SSM_Peers  comma-separated IPv4 addresses that must be in the pool (at most 32)
# Knobs: PROBE_WAIT_TRIES (60), PROBE_WAIT_SLEEP (2), PROBE_TRIES (5), PROBE_RETRY_SLEEP (3)
#
# Compares the wanted peers with `gluster pool list` and probes only the missing
# ones (gluster-ansible's gluster_peer idea), then waits, bounded, until every wanted
# peer is "Peer in Cluster" and connected. Exit 0 when all are; data on stdout: none.
# A probe that fails is tried again, bounded (a probe is idempotent): glusterd refuses
# while another member's transaction holds its cluster lock ("Another transaction is in
# progress"), and a new node's glusterd may still be starting; a peer another probe
# added meanwhile is taken as probed.

PROBE_WAIT_TRIES=${PROBE_WAIT_TRIES:-60}
PROBE_WAIT_SLEEP=${PROBE_WAIT_SLEEP:-2}
PROBE_TRIES=${PROBE_TRIES:-5}
PROBE_RETRY_SLEEP=${PROBE_RETRY_SLEEP:-3}
step=validate
log() { printf 'storage-peer-probe[%s]: %s\n' "$step" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

OCTET='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
IP_RE="^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}\$"
for knob in PROBE_WAIT_TRIES PROBE_WAIT_SLEEP PROBE_TRIES PROBE_RETRY_SLEEP; do
  [[ ${!knob} =~ ^[0-9]{1,4}$ ]] || die "$knob must be a whole number, got '${!knob}'"
done
((PROBE_WAIT_TRIES >= 1)) || die "PROBE_WAIT_TRIES must be at least 1"
((PROBE_TRIES >= 1)) || die "PROBE_TRIES must be at least 1"
[[ -n ${SSM_Peers+set} ]] || die "SSM_Peers is not set (parameter Peers missing)"
[[ -n $SSM_Peers && $SSM_Peers != *, && $SSM_Peers != ,* && $SSM_Peers != *,,* ]] || die "SSM_Peers must be a comma-separated list of IPv4 addresses, got '$SSM_Peers'"
peers=()
IFS=',' read -r -a peers <<<"$SSM_Peers"
((${#peers[@]} <= 32)) || die "SSM_Peers lists ${#peers[@]} peers, at most 32 allowed"
for p in "${peers[@]}"; do
  [[ $p =~ $IP_RE ]] || die "SSM_Peers must list IPv4 addresses, bad entry '$p'"
done

g() { gluster --mode=script "$@"; }
# "UUID Hostname State" lines after the header; prints "<host> <state>".
pool() { g pool list | awk 'NR > 1 && NF >= 3 { print $2, $NF }'; }
# My own addresses: a probe of myself is a no-op ("localhost" in pool list).
own=" $(hostname -I 2>/dev/null || true) "

in_pool() { pool 2>/dev/null | awk '{ print $1 }' | grep -qxF "$1"; }
# Bounded: tries PROBE_TRIES times; the last failure's own words end the script.
probe() {
  local p=$1 try answer
  for ((try = 1; try <= PROBE_TRIES; try++)); do
    log "peer probe $p (try $try of $PROBE_TRIES)"
    if answer=$(g peer probe "$p" 2>&1); then
      log "$answer"
      return 0
    fi
    answer=${answer//$'\n'/ }
    log "peer probe $p failed: $answer"
    if in_pool "$p"; then
      log "$p is in the pool now (probed meanwhile)"
      return 0
    fi
    ((try == PROBE_TRIES)) || sleep "$PROBE_RETRY_SLEEP"
  done
  die "gluster peer probe $p failed $PROBE_TRIES times; last answer: $answer"
}

step=probe
listed=$(pool) || die "gluster pool list failed: is glusterd running?"
for p in "${peers[@]}"; do
  if [[ $own == *" $p "* ]]; then log "$p is this node"; continue; fi
  if awk '{ print $1 }' <<<"$listed" | grep -qxF "$p"; then
    log "$p already in the pool"
  else
    probe "$p"
  fi
done

step='wait'
for ((try = 1; try <= PROBE_WAIT_TRIES; try++)); do
  status=$(g peer status 2>/dev/null || true)
  pending=()
  for p in "${peers[@]}"; do
    [[ $own != *" $p "* ]] || continue
    # peer status: "Hostname: <p>" ... "State: Peer in Cluster (Connected)".
    state=$(awk -v p="$p" '/^Hostname: / { h = $2 } /^State: / { if (h == p) { sub(/^State: /, ""); print } }' <<<"$status")
    [[ $state == "Peer in Cluster (Connected)" ]] || pending+=("$p (${state:-not listed})")
  done
  if ((${#pending[@]} == 0)); then
    step=end
    log "all ${#peers[@]} peers are in the cluster and connected"
    exit 0
  fi
  ((try == PROBE_WAIT_TRIES)) || sleep "$PROBE_WAIT_SLEEP"
done
die "after $PROBE_WAIT_TRIES checks, not in cluster and connected: ${pending[*]}"
