#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# node-setup <compute|storage>: first boot of a node of the reference cluster (the launch
# templates' user data, rendered by ssm-documents/user-data.js). Installs what the
# autoscaler's documents expect and an image may lack:
#   storage: glusterfs-server and xfsprogs from the distribution (apt-get), glusterd enabled
#            and started (storage-prepare-brick.sh refuses a node without gluster);
#   both:    SSM Agent at least MIN_AGENT_VERSION (documents pass their parameters as SSM_
#            variables, which older agents do not set: lib/core/decisions.ts
#            ENV_VAR_MIN_AGENT_VERSION), installed from the region's own bucket when missing
#            or older (deb or rpm; a snap agent is refreshed), and started LAST: the lifecycle
#            flows wait for the agent to be online, so online means this node is ready.
# The user data's bootcmd holds the agent (runtime mask) from early boot on every boot until
# this script has written its done marker; this script lifts the hold once the rest is in. Not installed here: the
# CloudWatch agent, which the storage launch flow installs and configures itself
# (AWS-ConfigureAWSPackage, AmazonCloudWatch-ManageAgent) from the stack's configuration.
# Logs on stderr (cloud-init keeps them in /var/log/cloud-init-output.log). Idempotent.
# Knobs (tests): PAS_MARKER_DIR (/var/lib/pydio-autoscaler), PAS_IMDS (http://169.254.169.254),
# PAS_FETCH_TRIES (5), PAS_FETCH_SLEEP (5), PAS_TMP (/tmp).

MIN_AGENT_VERSION=3.3.2746.0
MARKER_DIR=${PAS_MARKER_DIR:-/var/lib/pydio-autoscaler}
IMDS=${PAS_IMDS:-http://169.254.169.254}
FETCH_TRIES=${PAS_FETCH_TRIES:-5}
FETCH_SLEEP=${PAS_FETCH_SLEEP:-5}
TMP_DIR=${PAS_TMP:-/tmp}
AGENT_UNITS=(amazon-ssm-agent.service snap.amazon-ssm-agent.amazon-ssm-agent.service)

step=validate
log() { printf 'node-setup[%s]: %s\n' "$step" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

role=${1:-}
[[ $role == compute || $role == storage ]] || die "usage: node-setup <compute|storage>, got '${role}'"
for knob in FETCH_TRIES FETCH_SLEEP; do
  [[ ${!knob} =~ ^[0-9]{1,3}$ ]] || die "PAS_$knob must be a whole number, got '${!knob}'"
done
((FETCH_TRIES >= 1)) || die "PAS_FETCH_TRIES must be at least 1"

# Bounded retries of a command that needs the network (the NAT gateway may still be starting).
retry() {
  local try
  for ((try = 1; try <= FETCH_TRIES; try++)); do
    "$@" && return 0
    ((try < FETCH_TRIES)) && { log "$1 failed (try $try of $FETCH_TRIES), again in ${FETCH_SLEEP}s"; sleep "$FETCH_SLEEP"; }
  done
  return 1
}

# True when version $1 is at least $2 (dotted numbers).
version_at_least() { [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1) == "$2" ]]; }

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  retry apt-get update -q >&2 || die "apt-get update failed $FETCH_TRIES times"
  retry apt-get install -y -q "$@" >&2 || die "apt-get install $* failed $FETCH_TRIES times"
}

# --- storage: Gluster ------------------------------------------------------------------
if [[ $role == storage ]]; then
  step=gluster
  if command -v gluster >/dev/null 2>&1 && command -v glusterd >/dev/null 2>&1 && command -v mkfs.xfs >/dev/null 2>&1; then
    log "glusterfs-server and xfsprogs already installed"
  elif command -v apt-get >/dev/null 2>&1; then
    log "installing glusterfs-server and xfsprogs with apt-get"
    apt_install glusterfs-server xfsprogs
  else
    die "glusterfs-server is missing and this image has no apt-get: use a Debian or Ubuntu storage image, or one with glusterfs-server installed"
  fi
  systemctl enable --now glusterd >&2
  log "glusterd enabled and running"
fi

# --- SSM Agent -------------------------------------------------------------------------
step=ssm-agent
snap_agent() { command -v snap >/dev/null 2>&1 && snap list amazon-ssm-agent >/dev/null 2>&1; }
agent_version() {
  if snap_agent; then
    snap list amazon-ssm-agent | awk 'NR == 2 { print $2 }'
  elif command -v amazon-ssm-agent >/dev/null 2>&1; then
    amazon-ssm-agent -version 2>/dev/null | sed -n 's/^SSM Agent version: //p' | head -n 1
  fi
}
imds() {
  local token
  token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$IMDS/latest/api/token") || return 1
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/$1"
}
package_arch() {
  case $(uname -m) in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    *) die "no SSM Agent package for machine $(uname -m)" ;;
  esac
}

# Everything the documents need is in place: lift the hold now, since a package's install
# script starts the agent (and fails on a masked unit).
systemctl unmask --runtime "${AGENT_UNITS[@]}" >&2 || true
current=$(agent_version || true)
if [[ -n $current ]] && version_at_least "$current" "$MIN_AGENT_VERSION"; then
  log "SSM Agent $current already installed (at least $MIN_AGENT_VERSION)"
elif snap_agent; then
  log "refreshing the snap SSM Agent ${current:-of unknown version} (at least $MIN_AGENT_VERSION needed)"
  retry snap refresh amazon-ssm-agent >&2 || die "snap refresh amazon-ssm-agent failed $FETCH_TRIES times"
else
  region=$(retry imds placement/region) || die "the instance metadata service did not say the region"
  [[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]$ ]] || die "unexpected region '$region' from the instance metadata"
  arch=$(package_arch)
  # Manually install SSM Agent on Debian Server instances (Systems Manager user guide):
  # https://s3.<region>.amazonaws.com/amazon-ssm-<region>/latest/debian_<arch>/amazon-ssm-agent.deb
  base="https://s3.$region.amazonaws.com/amazon-ssm-$region/latest"
  if command -v dpkg >/dev/null 2>&1; then
    package="$TMP_DIR/amazon-ssm-agent.deb"
    log "installing SSM Agent from $base/debian_$arch (had ${current:-none})"
    retry curl -fsSL -o "$package" "$base/debian_$arch/amazon-ssm-agent.deb" || die "could not download the SSM Agent package"
    dpkg -i "$package" >&2
    rm -f "$package"
  elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
    installer=$(command -v dnf || command -v yum)
    log "installing SSM Agent from $base/linux_$arch with $(basename "$installer") (had ${current:-none})"
    retry "$installer" install -y "$base/linux_$arch/amazon-ssm-agent.rpm" >&2 || die "could not install the SSM Agent package"
  else
    die "no dpkg, dnf or yum to install the SSM Agent with"
  fi
fi
current=$(agent_version || true)
if [[ -z $current ]] || ! version_at_least "$current" "$MIN_AGENT_VERSION"; then
  die "SSM Agent ${current:-missing} after installing; at least $MIN_AGENT_VERSION is needed (document parameters as SSM_ variables)"
fi

# --- ready: later boots need no hold; the agent runs the version checked above ----------
step=ready
mkdir -p "$MARKER_DIR"
printf '%s %s\n' "$role" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$MARKER_DIR/node-setup.done"
if snap_agent; then
  systemctl restart snap.amazon-ssm-agent.amazon-ssm-agent.service >&2
else
  systemctl enable amazon-ssm-agent.service >&2
  systemctl restart amazon-ssm-agent.service >&2
fi
log "$role node ready: SSM Agent $current started"
