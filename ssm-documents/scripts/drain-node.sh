#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# pydio-drain-node: run after the load balancer drained the node. Stops Apache
# gracefully, then unmounts the data and config volumes.
#
# Inputs (SSM parameters, interpolationType ENV_VAR): SSM_ConfigMount, SSM_DataMount,
#   SSM_WebService (apache2 or httpd: the systemd unit, when systemd runs)
# Knobs: SYSTEMD_RUN_DIR (/run/systemd/system), APACHE_PID_FILE (detected),
#   STOP_ATTEMPTS (15), STOP_RETRY_SLEEP (2 s), UMOUNT_ATTEMPTS (5), UMOUNT_RETRY_SLEEP (2 s),
#   NODE_ID (hostname): names this node's health check probe file on each volume, removed here
#
# fstab entries are LEFT in place: they are harmless on a node that is going away, and a
# node that is rebooted instead comes back with its volumes. Idempotent: a stopped server
# and unmounted volumes are skipped, and the script exits 0 when all is already done.

SYSTEMD_RUN_DIR=${SYSTEMD_RUN_DIR:-/run/systemd/system}
STOP_ATTEMPTS=${STOP_ATTEMPTS:-15}
STOP_RETRY_SLEEP=${STOP_RETRY_SLEEP:-2}
UMOUNT_ATTEMPTS=${UMOUNT_ATTEMPTS:-5}
UMOUNT_RETRY_SLEEP=${UMOUNT_RETRY_SLEEP:-2}

step=validate
log() { printf 'drain-node[%s]: %s\n' "$step" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

PATH_RE='^(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}){1,16}$'
SYSTEM_DIRS=' /bin /boot /dev /etc /home /lib /lib64 /opt /proc /root /run /sbin /srv /sys /tmp /usr /var /mnt /media '

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

for knob in STOP_ATTEMPTS STOP_RETRY_SLEEP UMOUNT_ATTEMPTS UMOUNT_RETRY_SLEEP; do
  [[ ${!knob} =~ ^[0-9]{1,4}$ ]] || die "$knob must be a whole number, got '${!knob}'"
done
((STOP_ATTEMPTS >= 1 && UMOUNT_ATTEMPTS >= 1)) || die "STOP_ATTEMPTS and UMOUNT_ATTEMPTS must be at least 1"
config_mount=$(mount_point_input ConfigMount)
data_mount=$(mount_point_input DataMount)
web_service=$(input WebService '^(apache2|httpd)$' 'apache2 or httpd')
[[ $config_mount != "$data_mount" ]] || die "ConfigMount and DataMount are both '$data_mount': they must differ"
node_id=${NODE_ID:-$(hostname)}
[[ $node_id =~ ^[A-Za-z0-9._-]{1,255}$ ]] || die "NODE_ID must be [A-Za-z0-9._-], got '$node_id'"

# --- web server ------------------------------------------------------------------
step=stop-web
apache_pid() {
  local pid_file=${APACHE_PID_FILE:-} candidate pid=''
  if [[ -z $pid_file ]]; then
    for candidate in /run/apache2/apache2.pid /var/run/apache2/apache2.pid /run/httpd/httpd.pid /var/run/httpd/httpd.pid; do
      if [[ -e $candidate ]]; then pid_file=$candidate; break; fi
    done
  fi
  [[ -z $pid_file || ! -r $pid_file ]] || pid=$(head -n 1 "$pid_file")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then printf '%s' "$pid"; fi
}

if [[ -d $SYSTEMD_RUN_DIR ]]; then
  if systemctl is-active --quiet "$web_service"; then
    # apache2/httpd units stop with graceful-stop semantics bounded by the unit's timeout.
    systemctl stop "$web_service"
    log "stopped $web_service"
  else
    log "$web_service is not running; skipped"
  fi
else
  pid=$(apache_pid)
  if [[ -z $pid ]]; then
    log "Apache is not running; skipped"
  else
    log "Apache (pid $pid): graceful stop, letting requests in flight finish"
    apachectl -k graceful-stop >&2 || log "apachectl -k graceful-stop failed; waiting anyway"
    for ((attempt = 1; attempt <= STOP_ATTEMPTS; attempt++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep "$STOP_RETRY_SLEEP"
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "Apache still running after $STOP_ATTEMPTS checks; stopping it now (apachectl -k stop)"
      apachectl -k stop >&2 || true
      sleep "$STOP_RETRY_SLEEP"
      if kill -0 "$pid" 2>/dev/null; then die "Apache (pid $pid) does not stop"; fi
    fi
    log "Apache stopped"
  fi
fi

# --- volumes -----------------------------------------------------------------------
unmount_volume() {
  local mnt=$1 attempt
  step="unmount $mnt"
  if ! mountpoint -q "$mnt"; then
    log "not mounted; skipped"
    return 0
  fi
  # This node's health check probe file (install-health-check.sh) would stay on the volume forever.
  # Bounded: on a hung mount even rm blocks, and the unmount below is what matters.
  if timeout 10 rm -f -- "$mnt/.pydio-autoscaler/health/$node_id"; then
    log "removed this node's health check probe file"
  else
    log "could not remove $mnt/.pydio-autoscaler/health/$node_id (volume not answering?); unmounting anyway"
  fi
  for ((attempt = 1; attempt <= UMOUNT_ATTEMPTS; attempt++)); do
    if umount "$mnt" >&2; then
      log "unmounted"
      return 0
    fi
    log "umount failed (attempt $attempt/$UMOUNT_ATTEMPTS): something still holds files there"
    ((attempt == UMOUNT_ATTEMPTS)) || sleep "$UMOUNT_RETRY_SLEEP"
  done
  log "falling back to a LAZY unmount (umount -l): the volume detaches now, open files close when their processes exit"
  umount -l "$mnt" >&2 || die "lazy unmount failed too"
  if mountpoint -q "$mnt"; then die "still mounted after a lazy unmount"; fi
  log "unmounted (lazily)"
}

unmount_volume "$data_mount"
unmount_volume "$config_mount"
step=end
log "node drained: web server stopped, volumes unmounted (fstab entries kept)"
