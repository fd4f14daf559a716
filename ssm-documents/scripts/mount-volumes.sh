#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# pydio-mount-volumes: mount the Gluster config and data volumes on a compute node.
#
# Inputs (SSM parameters, interpolationType ENV_VAR):
#   SSM_ConfigVolume, SSM_DataVolume  Gluster volume names
#   SSM_Servers                       comma-separated Gluster servers; the first is the
#                                     volfile server, the others backup-volfile-servers
#   SSM_ConfigMount, SSM_DataMount    absolute mount points
# Knobs (environment, for tests and tuning):
#   FSTAB (/etc/fstab), MOUNT_ATTEMPTS (5), MOUNT_RETRY_SLEEP (3)
#
# Idempotent: the fstab lines for the two mount points are replaced, never duplicated
# (the file is left untouched when already right); mounted volumes are skipped.
# Logs go to stderr; exit 0 when both volumes are live, writable glusterfs mounts.

FSTAB=${FSTAB:-/etc/fstab}
MOUNT_ATTEMPTS=${MOUNT_ATTEMPTS:-5}
MOUNT_RETRY_SLEEP=${MOUNT_RETRY_SLEEP:-3}

step=validate
log() { printf 'mount-volumes[%s]: %s\n' "$step" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- inputs ------------------------------------------------------------------
VOLUME_RE='^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'
LABEL='[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
HOST_RE="^${LABEL}(\\.${LABEL})*\$"
PATH_RE='^(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}){1,16}$'
SYSTEM_DIRS=' /bin /boot /dev /etc /home /lib /lib64 /opt /proc /root /run /sbin /srv /sys /tmp /usr /var /mnt /media '
MAX_SERVERS=16

# Prints the validated value of SSM_<name>; fails naming the parameter otherwise.
input() {
  local name=$1 pattern=$2 what=$3 var="SSM_$1"
  [[ -n ${!var+set} ]] || die "$var is not set (parameter $name missing; SSM Agent 3.3.2746.0+ with interpolationType ENV_VAR is required)"
  [[ -n ${!var} ]] || die "$var is empty: $what expected"
  [[ ${!var} =~ $pattern ]] || die "$var must be $what, got '${!var}'"
  printf '%s' "${!var}"
}

mount_point_input() {
  local value
  value=$(input "$1" "$PATH_RE" 'an absolute path of [A-Za-z0-9._-] segments, no segment starting with a dot') || exit 1
  [[ $SYSTEM_DIRS != *" $value "* ]] || die "SSM_$1 must not be the system directory $value"
  printf '%s' "$value"
}

for knob in MOUNT_ATTEMPTS MOUNT_RETRY_SLEEP; do
  [[ ${!knob} =~ ^[0-9]{1,4}$ ]] || die "$knob must be a whole number, got '${!knob}'"
done
((MOUNT_ATTEMPTS >= 1)) || die "MOUNT_ATTEMPTS must be at least 1"

config_volume=$(input ConfigVolume "$VOLUME_RE" 'a Gluster volume name ([A-Za-z0-9_-], at most 64)')
data_volume=$(input DataVolume "$VOLUME_RE" 'a Gluster volume name ([A-Za-z0-9_-], at most 64)')
config_mount=$(mount_point_input ConfigMount)
data_mount=$(mount_point_input DataMount)
server_list=$(input Servers '^[A-Za-z0-9.,-]+$' 'a comma-separated list of Gluster host names or IPv4 addresses')
[[ $config_volume != "$data_volume" ]] || die "ConfigVolume and DataVolume are both '$data_volume': they must differ"
[[ $config_mount != "$data_mount" ]] || die "ConfigMount and DataMount are both '$data_mount': they must differ"
[[ $data_mount/ != "$config_mount"/* && $config_mount/ != "$data_mount"/* ]] ||
  die "ConfigMount '$config_mount' and DataMount '$data_mount' must not be nested"

servers=()
IFS=',' read -r -a servers <<<"$server_list"
[[ $server_list != *, ]] || die "SSM_Servers has an empty entry: '$server_list'"
((${#servers[@]} <= MAX_SERVERS)) || die "SSM_Servers lists ${#servers[@]} servers, at most $MAX_SERVERS allowed"
for server in "${servers[@]}"; do
  if [[ ! $server =~ $HOST_RE ]] || ((${#server} > 253)); then
    die "SSM_Servers must be comma-separated host names or IPv4 addresses, bad entry '$server'"
  fi
done
volfile_server=${servers[0]}
backups=$(IFS=':'; printf '%s' "${servers[*]:1}")
options='defaults,_netdev'
[[ -z $backups ]] || options+=",backup-volfile-servers=$backups"
log "volumes $config_volume -> $config_mount, $data_volume -> $data_mount from $volfile_server${backups:+ (backups $backups)}"

# --- client ------------------------------------------------------------------
step=client
if command -v mount.glusterfs >/dev/null 2>&1; then
  log "glusterfs client already installed"
elif command -v apt-get >/dev/null 2>&1; then
  log "installing glusterfs-client with apt-get"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y glusterfs-client >&2; then
    log "install failed; refreshing package lists once and retrying"
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y glusterfs-client >&2
  fi
elif command -v dnf >/dev/null 2>&1; then
  log "installing glusterfs-fuse with dnf"
  dnf install -y glusterfs-fuse >&2
elif command -v yum >/dev/null 2>&1; then
  log "installing glusterfs-fuse with yum"
  yum install -y glusterfs-fuse >&2
else
  die "the glusterfs client (mount.glusterfs) is missing and no apt-get, dnf or yum is available to install it"
fi
command -v mount.glusterfs >/dev/null 2>&1 || die "mount.glusterfs still missing after installing the glusterfs client"

# --- fstab -------------------------------------------------------------------
step=fstab
fstab_line() { printf '%s:/%s %s glusterfs %s 0 0' "$volfile_server" "$1" "$2" "$options"; }

[[ -e $FSTAB ]] || die "$FSTAB does not exist"
fstab_dir=$(dirname "$FSTAB")
tmp=$(mktemp "$fstab_dir/.fstab.h1.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# Keep every line except those whose mount point (field 2) is one of ours, then append ours.
awk -v a="$config_mount" -v b="$data_mount" '
  /^[[:space:]]*#/ || NF < 2 { print; next }
  $2 == a || $2 == b { next }
  { print }' "$FSTAB" >"$tmp"
{
  fstab_line "$config_volume" "$config_mount"; printf '\n'
  fstab_line "$data_volume" "$data_mount"; printf '\n'
} >>"$tmp"
if cmp -s "$tmp" "$FSTAB"; then
  log "$FSTAB already has the entries"
else
  chmod 0644 "$tmp"
  mv -f "$tmp" "$FSTAB"
  log "$FSTAB updated"
fi

# --- mount -------------------------------------------------------------------
fstype_of() { findmnt -n -o FSTYPE --mountpoint "$1" 2>/dev/null | head -n 1 || true; }
source_of() { findmnt -n -o SOURCE --mountpoint "$1" 2>/dev/null | head -n 1 || true; }

mount_volume() {
  local volume=$1 mnt=$2 source="$volfile_server:/$1" fstype attempt
  step="mount $volume"
  fstype=$(fstype_of "$mnt")
  if [[ -n $fstype ]]; then
    [[ $fstype == fuse.glusterfs ]] || die "$mnt is already mounted as $fstype, not glusterfs: unmount it first"
    local current
    current=$(source_of "$mnt")
    [[ $current == *":/$volume" ]] || die "$mnt is already mounted from '$current', not from volume $volume"
    if timeout 15 stat -t "$mnt" >/dev/null 2>&1; then
      log "$mnt already mounted from $current; skipped"
      return 0
    fi
    log "$mnt is a stale glusterfs mount (not accessible); lazily unmounting it to mount again"
    umount -l "$mnt"
  fi
  # Only now: on a stale FUSE mount (its client died) even mkdir's stat fails (ENOTCONN).
  mkdir -p "$mnt"
  for ((attempt = 1; attempt <= MOUNT_ATTEMPTS; attempt++)); do
    if mount -t glusterfs -o "$options" "$source" "$mnt" >&2; then
      log "mounted $source on $mnt"
      return 0
    fi
    log "mount of $source on $mnt failed (attempt $attempt/$MOUNT_ATTEMPTS)"
    ((attempt == MOUNT_ATTEMPTS)) || sleep "$MOUNT_RETRY_SLEEP"
  done
  die "could not mount $source on $mnt after $MOUNT_ATTEMPTS attempts: are the Gluster servers up and the volume started?"
}

verify_volume() {
  local volume=$1 mnt=$2 fstype probe token read_back
  step="verify $volume"
  fstype=$(fstype_of "$mnt")
  [[ $fstype == fuse.glusterfs ]] || die "$mnt is not a glusterfs FUSE mount after mounting (findmnt says '${fstype:-not mounted}')"
  token="probe $(hostname) $$ $(date +%s)"
  probe="$mnt/.pydio-autoscaler-probe.$(hostname).$$"
  printf '%s\n' "$token" >"$probe" || die "$mnt is mounted but not writable"
  read_back=$(cat "$probe") || die "$mnt: cannot read back the probe file $probe"
  rm -f "$probe" || die "$mnt: cannot delete the probe file $probe"
  [[ $read_back == "$token" ]] || die "$mnt: the probe file read back differs from what was written"
  log "$mnt is a live, writable glusterfs mount"
}

mount_volume "$config_volume" "$config_mount"
mount_volume "$data_volume" "$data_mount"
verify_volume "$config_volume" "$config_mount"
verify_volume "$data_volume" "$data_mount"
step=end
log "both volumes mounted"
