#!/usr/bin/env bash
# storage-boot.sh <storage-host-id> <storage-host-id> [...]
# Brings the initial GlusterFS cluster to its desired state: every host a
# peer of the first, volumes pydio-config and pydio-data created as replica N
# (one brick per host at /srv/gluster/<volume>/brick) and started, and every
# brick online. Only the difference is applied; a second run changes nothing.
# Opt-in (sandbox option storageBootDisks): with PAS_BRICK_DEVICE set, each
# host's data disk at that path (bin/storage-disk.sh attach) becomes XFS
# mounted at PAS_BRICK_ROOT (default /bricks then) and the bricks live at
# <root>/<volume>/brick, the layout prepare-brick makes on later members.
# Last, the config volume gets the deployment guide's starting point: Pydio was
# installed on a first node before the autoscaler, which left skip_install on the
# config volume (pydio-core dist/scripts/glusterfs/pydio-gluster.sh), so every
# node the autoscaler adds is a later node: the stand-in app serves the install
# wizard unless configure-app.sh's first_run_passed marker is in its own cache.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
(($# >= 2)) || pas_die "usage: storage-boot.sh <storage-host-id> <storage-host-id> [...]"
read -r -a VOLUMES <<<"${PAS_VOLUMES:-pydio-config pydio-data}"
CONFIG_VOLUME=${PAS_CONFIG_VOLUME:-pydio-config}
WAIT_TRIES=${PAS_WAIT_TRIES:-150}
BRICK_DEVICE=${PAS_BRICK_DEVICE:-}
if [[ -n $BRICK_DEVICE ]]; then BRICK_ROOT=${PAS_BRICK_ROOT:-/bricks}; else BRICK_ROOT=${PAS_BRICK_ROOT:-/srv/gluster}; fi
[[ $BRICK_ROOT =~ ^(/[A-Za-z0-9._-]+)+$ ]] || pas_die "PAS_BRICK_ROOT must be an absolute path of [A-Za-z0-9._-] segments, got '$BRICK_ROOT'"
[[ -z $BRICK_DEVICE || $BRICK_DEVICE =~ ^(/[A-Za-z0-9._-]+)+$ ]] || pas_die "PAS_BRICK_DEVICE must be an absolute path, got '$BRICK_DEVICE'"
first=$1
hosts=("$@")
ips=()
for id in "${hosts[@]}"; do
  pas_require_host_id "$id"
  dir=$(pas_host_dir "$id")
  [[ -n $(pas_holder_pid "$id") ]] || pas_die "storage host '$id' is not running"
  [[ $(<"$dir/role") == storage ]] || pas_die "host '$id' is not a storage host"
  ips+=("$(<"$dir/ip")")
done
g() { bash "$PAS_BIN_DIR/hostexec.sh" "$first" gluster --mode=script "$@"; }

# Brick file systems (opt-in): format only a disk with no file system, mount only what is not mounted.
if [[ -n $BRICK_DEVICE ]]; then
  for id in "${hosts[@]}"; do
    pas_log "host $id: bricks on $BRICK_DEVICE at $BRICK_ROOT"
    bash "$PAS_BIN_DIR/hostexec.sh" "$id" bash -c '
      set -o errexit -o nounset
      root=$1 dev=$2
      shift 2
      if ! mountpoint -q "$root"; then
        [[ -b $dev ]] || { echo "no data disk at $dev" >&2; exit 1; }
        if [[ -z $(blkid -o value -s TYPE "$dev" || true) ]]; then mkfs.xfs -q "$dev"; fi
        mkdir -p "$root"
        mount "$dev" "$root"
      fi
      for vol in "$@"; do mkdir -p "$root/$vol/brick"; done
    ' storage-boot "$BRICK_ROOT" "$BRICK_DEVICE" "${VOLUMES[@]}" >&2
  done
fi

# Peers: probe only the missing ones.
pool=$(g pool list)
for ip in "${ips[@]:1}"; do
  if ! awk 'NR > 1 {print $2}' <<<"$pool" | grep -qxF "$ip"; then
    pas_log "peer probe $ip"
    g peer probe "$ip" >&2
  fi
done
wanted=${#hosts[@]}
for ((i = 0; i < WAIT_TRIES; i++)); do
  connected=$(g pool list | awk 'NR > 1 && $NF == "Connected"' | wc -l)
  ((connected >= wanted)) && break
  sleep 0.2
done
((connected >= wanted)) || pas_die "only $connected of $wanted peers connected: $(g pool list)"

for vol in "${VOLUMES[@]}"; do
  if ! g volume info "$vol" >/dev/null 2>&1; then
    bricks=()
    for ip in "${ips[@]}"; do bricks+=("$ip:$BRICK_ROOT/$vol/brick"); done
    pas_log "volume create $vol replica ${#bricks[@]}"
    g volume create "$vol" replica "${#bricks[@]}" "${bricks[@]}" force >&2
  fi
  if ! g volume info "$vol" | grep -q '^Status: Started'; then
    pas_log "volume start $vol"
    g volume start "$vol" >&2
  fi
done
for vol in "${VOLUMES[@]}"; do
  want=$(g volume info "$vol" | grep -c '^Brick[0-9]*:')
  for ((i = 0; i < WAIT_TRIES; i++)); do
    online=$(g volume status "$vol" detail | grep -c '^Online.*: Y' || true)
    ((online >= want)) && break
    sleep 0.2
  done
  ((online >= want)) || pas_die "volume $vol: only $online of $want bricks online"
  pas_log "volume $vol: $online/$want bricks online"
done

# The install claimed before the autoscaler (see the header): written through a client mount.
if [[ " ${VOLUMES[*]} " == *" $CONFIG_VOLUME "* ]]; then
  bash "$PAS_BIN_DIR/hostexec.sh" "$first" bash -c '
    set -o errexit -o nounset
    server=$1 vol=$2
    mnt=$(mktemp -d /tmp/pas-install-seed.XXXXXX)
    mount -t glusterfs "$server:/$vol" "$mnt"
    trap "umount \"$mnt\"; rmdir \"$mnt\"" EXIT
    [[ -e $mnt/skip_install ]] || printf "%s\n" installed-before-the-autoscaler >"$mnt/skip_install"
  ' install-seed "${ips[0]}" "$CONFIG_VOLUME" >&2
  pas_log "volume $CONFIG_VOLUME: skip_install present (Pydio installed before the autoscaler)"
fi
