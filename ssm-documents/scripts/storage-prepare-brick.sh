#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# storage-prepare-brick: make a storage node ready to hold Gluster bricks.
#
# Inputs (SSM parameters, interpolationType ENV_VAR):
#   SSM_Device     the data device (/dev/...), or empty: discover the one unformatted,
#                  unmounted, non-root disk (lsblk -J); none or several is a failure
#   SSM_BrickRoot  absolute mount point of the data device (e.g. /bricks)
#   SSM_Volumes    comma-separated Gluster volume names; <BrickRoot>/<volume>/brick is created
# Knobs (environment, for tests): FSTAB (/etc/fstab), SYSTEMD_RUN_DIR (/run/systemd/system)
#
# NEVER formats a device on which blkid finds any file system or signature: a disk
# already holding XFS is mounted as it is; anything else is refused. Idempotent:
# fstab (by UUID, defaults,noatime,nofail) is rewritten only when different, a mounted
# brick root is left alone, glusterd is started only when not running.

FSTAB=${FSTAB:-/etc/fstab}
SYSTEMD_RUN_DIR=${SYSTEMD_RUN_DIR:-/run/systemd/system}

step=validate
log() { printf 'storage-prepare-brick[%s]: %s\n' "$step" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

VOLUME_RE='^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'
PATH_RE='^(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}){1,16}$'
DEVICE_RE='^/dev/[A-Za-z0-9][A-Za-z0-9/_-]{0,62}$'
SYSTEM_DIRS=' /bin /boot /dev /etc /home /lib /lib64 /opt /proc /root /run /sbin /srv /sys /tmp /usr /var /mnt /media '

[[ -n ${SSM_Device+set} ]] || die "SSM_Device is not set (parameter Device missing; use an empty value to discover the disk)"
[[ -n ${SSM_BrickRoot+set} ]] || die "SSM_BrickRoot is not set (parameter BrickRoot missing)"
[[ -n ${SSM_Volumes+set} ]] || die "SSM_Volumes is not set (parameter Volumes missing)"
device=$SSM_Device
brick_root=$SSM_BrickRoot
[[ -z $device || $device =~ $DEVICE_RE ]] || die "SSM_Device must be empty or a /dev/ path, got '$device'"
[[ $device != *..* ]] || die "SSM_Device must not contain '..', got '$device'"
[[ $brick_root =~ $PATH_RE ]] || die "SSM_BrickRoot must be an absolute path of [A-Za-z0-9._-] segments, got '$brick_root'"
[[ $SYSTEM_DIRS != *" $brick_root "* ]] || die "SSM_BrickRoot must not be the system directory $brick_root"
[[ -n $SSM_Volumes && $SSM_Volumes != *, && $SSM_Volumes != ,* ]] || die "SSM_Volumes must be a comma-separated list of volume names, got '$SSM_Volumes'"
volumes=()
IFS=',' read -r -a volumes <<<"$SSM_Volumes"
for v in "${volumes[@]}"; do
  [[ $v =~ $VOLUME_RE ]] || die "SSM_Volumes has a bad volume name '$v' ([A-Za-z0-9_-], at most 64)"
done

# --- glusterd -------------------------------------------------------------------
step=glusterd
command -v gluster >/dev/null 2>&1 || die "gluster is not installed (glusterfs-server belongs in the storage AMI)"
if gluster --mode=script pool list >/dev/null 2>&1; then
  log "glusterd already running"
elif [[ -d $SYSTEMD_RUN_DIR ]] && command -v systemctl >/dev/null 2>&1; then
  log "starting glusterd with systemd"
  systemctl enable --now glusterd >&2
else
  log "starting glusterd directly (no systemd)"
  glusterd >&2
fi

# --- device -----------------------------------------------------------------------
step=device
# Disks (no partitions) without children, mount point or file system: candidates for a data disk.
discover() {
  lsblk -J -d -p -o NAME,TYPE,FSTYPE,MOUNTPOINT | tr -d '\n' |
    grep -o '{[^{}]*}' |
    grep '"type" *: *"disk"' |
    grep -v '"mountpoint" *: *"[^"]' |
    grep -v '"fstype" *: *"[^"]' |
    sed -n 's/.*"name" *: *"\([^"]*\)".*/\1/p' || true
}
if [[ -z $device ]]; then
  mapfile -t found < <(discover)
  # A disk with partitions holds something: lsblk without -d lists children; drop those disks.
  candidates=()
  for d in "${found[@]}"; do
    [[ -n $d ]] || continue
    if (($(lsblk -n -o NAME "$d" | wc -l) > 1)); then log "skipping $d: it has partitions"; continue; fi
    candidates+=("$d")
  done
  ((${#candidates[@]} > 0)) || die "no unformatted, unmounted disk found for the bricks: attach an EBS volume or pass Device"
  ((${#candidates[@]} == 1)) || die "several unformatted disks found (${candidates[*]}): pass Device to choose one"
  device=${candidates[0]}
  log "discovered data disk $device"
fi
kind=$(lsblk -n -d -o TYPE "$device" 2>/dev/null | head -n 1 || true)
[[ $kind == disk || $kind == part ]] || die "$device is not a disk or partition (lsblk says '${kind:-nothing}')"

# Low-level probe: exit 2 means no signature at all; anything found is a reason not to format.
set +o errexit
probe=$(blkid -p -o export "$device")
blkid_rc=$?
set -o errexit
fstype=$(sed -n 's/^TYPE=//p' <<<"$probe" | head -n 1)
if ((blkid_rc == 2)); then
  log "$device holds no file system or signature: formatting it XFS"
  mkfs.xfs -i size=512 "$device" >&2
  fstype=xfs
elif ((blkid_rc == 0)) && [[ $fstype == xfs ]]; then
  log "$device already holds XFS: not formatting it"
elif ((blkid_rc == 0)); then
  seen=$(grep -E '^(TYPE|PTTYPE|LABEL)=' <<<"$probe" | tr '\n' ' ')
  die "$device holds data (${seen:-a signature}), not XFS: it is never formatted; choose another Device"
else
  die "blkid could not probe $device (exit $blkid_rc): not formatting it"
fi
uuid=$(blkid -o value -s UUID "$device")
[[ $uuid =~ ^[A-Za-z0-9-]{8,64}$ ]] || die "$device has no usable UUID (blkid says '$uuid')"

# --- fstab ---------------------------------------------------------------------------
step=fstab
[[ -e $FSTAB ]] || die "$FSTAB does not exist"
tmp=$(mktemp "$(dirname "$FSTAB")/.fstab.h7.XXXXXX")
trap 'rm -f "$tmp"' EXIT
awk -v mnt="$brick_root" -v src="UUID=$uuid" '
  /^[[:space:]]*#/ || NF < 2 { print; next }
  $2 == mnt || $1 == src { next }
  { print }' "$FSTAB" >"$tmp"
printf 'UUID=%s %s xfs defaults,noatime,nofail 0 0\n' "$uuid" "$brick_root" >>"$tmp"
if cmp -s "$tmp" "$FSTAB"; then
  log "$FSTAB already has the entry"
else
  chmod 0644 "$tmp"
  mv -f "$tmp" "$FSTAB"
  log "$FSTAB updated"
fi

# --- mount ------------------------------------------------------------------------------
step=mount
mkdir -p "$brick_root"
current=$(findmnt -n -o SOURCE --mountpoint "$brick_root" 2>/dev/null | head -n 1 || true)
if [[ -n $current ]]; then
  current_uuid=$(blkid -o value -s UUID "$current" 2>/dev/null || true)
  [[ $current == "$device" || $current_uuid == "$uuid" ]] || die "$brick_root is already mounted from $current, not from $device"
  log "$brick_root already mounted from $current"
else
  mount "$brick_root" >&2
  log "mounted $device on $brick_root"
fi

# --- bricks -------------------------------------------------------------------------------
step=bricks
for v in "${volumes[@]}"; do
  mkdir -p "$brick_root/$v/brick"
  log "brick directory $brick_root/$v/brick ready"
done
step=end
log "brick root $brick_root on $device ($fstype) ready for volumes ${volumes[*]}"
