#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# storage-gluster-command: one Gluster volume operation from a fixed allow-list.
#
# Inputs (SSM parameters, interpolationType ENV_VAR):
#   SSM_Action   one of GLUSTER_ACTIONS in lib/core/storage/gluster-actions.ts (the two
#                `case $action in` below repeat that list; a unit test holds them equal)
#   SSM_Volume   Gluster volume name ('' for peer-detach, required otherwise)
#   SSM_Replica  replica count (0 = not given)
#   SSM_Arbiter  volume-create/add-brick: 1 = the last brick of each set is the arbiter
#                (`replica 3 arbiter 1`, replica must be 3), 0 (default) = none
#   SSM_Bricks   comma-separated host:/path bricks (replace-brick: exactly old,new)
#   SSM_Force    yes | no: `force` on volume-create/add-brick (bricks on the root fs)
#   SSM_Peer     peer-detach only: the IPv4 address of the peer to detach ('' otherwise)
#   SSM_Option   volume-set only: one of the quorum options (VOLUME_SET_OPTIONS in
#                gluster-actions.ts; the `case $option in` below repeats them)
#   SSM_Value    volume-set only: its value, checked per option; the pool-wide ratio is
#                set on SSM_Volume `all`, the other options on a volume, never on `all`
# Knobs: HEAL_FULL_TRIES (10), HEAL_FULL_SLEEP (3): heal-full retries while gluster says it
# could not launch the heal (self-heal daemons restarting after a replace-brick).
#
# Builds the gluster argv itself, as glusterArgs in lib/core/storage/gluster-actions.ts
# does (test/unit/core/storage/gluster-actions.test.ts runs each action and compares),
# and runs `gluster --mode=script --xml ...`; the XML goes to stdout for the caller to
# parse. No eval, no string pasted into a command line. Idempotent where Gluster
# allows: volume-create of an existing volume and volume-start of a started one exit 0
# (volume-start-force is run on a started volume on purpose: it starts its dead bricks),
# and so does peer-detach of a peer no longer in the pool. peer-detach refuses a peer
# that a volume still names in a brick (gluster would too; this says so first).

HEAL_FULL_TRIES=${HEAL_FULL_TRIES:-10}
HEAL_FULL_SLEEP=${HEAL_FULL_SLEEP:-3}
step=validate
log() { printf 'storage-gluster-command[%s]: %s\n' "$step" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

VOLUME_RE='^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'
OCTET='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
BRICK_RE="^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}:(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}){1,16}\$"
IP_RE="^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}\$"
for knob in HEAL_FULL_TRIES HEAL_FULL_SLEEP; do
  [[ ${!knob} =~ ^[0-9]{1,3}$ ]] || die "$knob must be a whole number, got '${!knob}'"
done
((HEAL_FULL_TRIES >= 1)) || die "HEAL_FULL_TRIES must be at least 1"
for name in Action Volume Replica Bricks Force; do
  var=SSM_$name
  [[ -n ${!var+set} ]] || die "$var is not set (parameter $name missing)"
done
action=${SSM_Action-} volume=${SSM_Volume-} replica=${SSM_Replica-} force=${SSM_Force-} peer=${SSM_Peer-}
arbiter=${SSM_Arbiter-0} option=${SSM_Option-} value=${SSM_Value-}
case $action in
  volume-create | volume-start | volume-start-force | add-brick | rebalance-start | rebalance-status | replace-brick | heal-full | remove-brick-start | remove-brick-status | remove-brick-commit | peer-detach | volume-set) ;;
  *) die "SSM_Action '$action' is not one of the allowed actions" ;;
esac
if [[ $action == peer-detach ]]; then
  [[ -z $volume ]] || die "peer-detach takes no SSM_Volume (a pool operation), got '$volume'"
  [[ $peer =~ $IP_RE ]] || die "peer-detach needs SSM_Peer, an IPv4 address, got '$peer'"
else
  [[ $volume =~ $VOLUME_RE ]] || die "SSM_Volume must be a Gluster volume name, got '$volume'"
  [[ -z $peer ]] || die "$action takes no SSM_Peer"
fi
[[ $replica =~ ^(0|[1-9])$ ]] || die "SSM_Replica must be 0 (none) or 1-9, got '$replica'"
[[ $arbiter == 0 || $arbiter == 1 ]] || die "SSM_Arbiter must be 0 or 1, got '$arbiter'"
if [[ $arbiter == 1 ]]; then
  [[ $action == volume-create || $action == add-brick ]] || die "$action takes no SSM_Arbiter"
  ((replica == 3)) || die "SSM_Arbiter 1 needs SSM_Replica 3 (replica 3 arbiter 1), got $replica"
fi
if [[ $action == volume-set ]]; then
  case $option in
    cluster.quorum-type) value_re='^auto$' scope=volume ;;
    cluster.server-quorum-type) value_re='^(server|none)$' scope=volume ;;
    cluster.server-quorum-ratio) value_re='^(5[1-9]|[6-9][0-9]|100)%$' scope=all ;;
    *) die "SSM_Option '$option' is not an option volume-set may set" ;;
  esac
  [[ $value =~ $value_re ]] || die "SSM_Value '$value' is not a value volume-set may give $option"
  if [[ $scope == all ]]; then
    [[ $volume == all ]] || die "$option is pool-wide: SSM_Volume must be 'all', got '$volume'"
  else
    [[ $volume != all ]] || die "$option is set per volume, not on 'all'"
  fi
else
  [[ -z $option && -z $value ]] || die "$action takes no SSM_Option or SSM_Value"
fi
[[ $force == yes || $force == no ]] || die "SSM_Force must be yes or no, got '$force'"
bricks=()
if [[ -n ${SSM_Bricks-} ]]; then
  [[ $SSM_Bricks != *, && $SSM_Bricks != ,* && $SSM_Bricks != *,,* ]] || die "SSM_Bricks has an empty entry: '$SSM_Bricks'"
  IFS=',' read -r -a bricks <<<"$SSM_Bricks"
fi
((${#bricks[@]} <= 64)) || die "SSM_Bricks lists ${#bricks[@]} bricks, at most 64"
for b in "${bricks[@]}"; do
  [[ $b =~ $BRICK_RE && $b != *..* ]] || die "SSM_Bricks must be IPv4:/absolute/path entries, bad entry '$b'"
done

needs_bricks() {
  ((${#bricks[@]} > 0)) || die "$action needs SSM_Bricks"
  if ((replica > 0)) && ((${#bricks[@]} % replica != 0)); then
    die "$action: ${#bricks[@]} bricks do not form whole replica sets of $replica"
  fi
}
no_bricks() { ((${#bricks[@]} == 0)) || die "$action takes no SSM_Bricks"; }
replica_args=()
((replica == 0)) || replica_args=(replica "$replica")
layout_args=("${replica_args[@]}")
[[ $arbiter == 0 ]] || layout_args+=(arbiter "$arbiter")
force_args=()
[[ $force == no ]] || force_args=(force)

case $action in
  volume-create)
    needs_bricks
    ((replica > 0)) || die "volume-create needs SSM_Replica"
    args=(volume create "$volume" "${layout_args[@]}" "${bricks[@]}" "${force_args[@]}") ;;
  volume-start) no_bricks; args=(volume start "$volume") ;;
  # Starts the bricks of a started volume that are not running; running ones are left alone.
  volume-start-force) no_bricks; args=(volume start "$volume" force) ;;
  add-brick) needs_bricks; args=(volume add-brick "$volume" "${layout_args[@]}" "${bricks[@]}" "${force_args[@]}") ;;
  rebalance-start) no_bricks; args=(volume rebalance "$volume" start) ;;
  rebalance-status) no_bricks; args=(volume rebalance "$volume" status) ;;
  replace-brick)
    ((${#bricks[@]} == 2)) || die "replace-brick needs exactly two bricks (old,new), got ${#bricks[@]}"
    [[ ${bricks[0]} != "${bricks[1]}" ]] || die "replace-brick: old and new brick are the same"
    args=(volume replace-brick "$volume" "${bricks[0]}" "${bricks[1]}" commit force) ;;
  heal-full) no_bricks; args=(volume heal "$volume" full) ;;
  remove-brick-start | remove-brick-status | remove-brick-commit)
    needs_bricks
    args=(volume remove-brick "$volume" "${replica_args[@]}" "${bricks[@]}" "${action#remove-brick-}") ;;
  peer-detach)
    no_bricks
    ((replica == 0)) || die "peer-detach takes no SSM_Replica"
    [[ $force == no ]] || die "peer-detach does not take SSM_Force (a peer holding bricks must not be forced out)"
    args=(peer detach "$peer") ;;
  volume-set)
    no_bricks
    ((replica == 0)) || die "volume-set takes no SSM_Replica"
    [[ $force == no ]] || die "volume-set does not take SSM_Force"
    args=(volume set "$volume" "$option" "$value") ;;
esac

step=$action
if [[ $action == volume-create ]] && gluster --mode=script volume info "$volume" >/dev/null 2>&1; then
  log "volume $volume already exists: not creating it"
  exit 0
fi
if [[ $action == volume-start ]] && gluster --mode=script volume info "$volume" 2>/dev/null | grep -q '^Status: Started'; then
  log "volume $volume already started"
  exit 0
fi
if [[ $action == peer-detach ]]; then
  pool=$(gluster --mode=script pool list) || die "gluster pool list failed: is glusterd running?"
  if ! awk 'NR > 1 { print $2 }' <<<"$pool" | grep -qxF "$peer"; then
    log "peer $peer is not in the pool: nothing to detach"
    exit 0
  fi
  if gluster --mode=script volume info 2>/dev/null | grep -qE "^Brick[0-9]+: ${peer//./\\.}:"; then
    die "peer $peer still holds a brick (gluster volume info): replace or remove its bricks first"
  fi
fi
log "gluster --mode=script ${args[*]}"
if [[ $action == heal-full ]]; then
  # gluster answers `volume heal <v> full` in plain text even with --xml ("Launching heal
  # operation ... has been successful"): that text goes to the log, success is the exit code,
  # and stdout stays empty like the idempotent skips above. Right after a replace-brick the
  # self-heal daemons restart with the new graph and a heal launched then is "unsuccessful"
  # for a moment: retried, bounded (heal full is idempotent).
  for ((try = 1; try <= HEAL_FULL_TRIES; try++)); do
    if answer=$(gluster --mode=script "${args[@]}" 2>&1); then
      log "$answer"
      exit 0
    fi
    log "try $try of $HEAL_FULL_TRIES: $answer"
    ((try == HEAL_FULL_TRIES)) || sleep "$HEAL_FULL_SLEEP"
  done
  die "gluster volume heal $volume full failed $HEAL_FULL_TRIES times: $answer"
fi
gluster --mode=script --xml "${args[@]}"
