#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# storage-grow-brick: grow the XFS file system of a storage node's brick root after its
# EBS volume was enlarged (ModifyVolume, now optimizing or completed). No rebalance:
# the bricks on this file system simply get more room.
#
# Inputs (SSM parameters, interpolationType ENV_VAR):
#   SSM_BrickRoot    absolute mount point of the data device (e.g. /bricks)
#   SSM_ExpectBytes  the size the volume was grown to, in bytes: the device must show at
#                    least this much, else the grow did not reach this disk (exit 3)
# Knobs (environment): GROW_SLACK_BYTES (16 MiB) - a file system within this of the
# device size counts as grown already (XFS keeps a little for alignment).
#
# Idempotent: a file system that already fills its device is left alone (exit 0).
# stdout: one line "grow-brick device=... device_bytes=... fs_bytes_before=...
# fs_bytes_after=... grown=yes|no"; logs go to stderr.

GROW_SLACK_BYTES=${GROW_SLACK_BYTES:-16777216}

step=validate
log() { printf 'storage-grow-brick[%s]: %s\n' "$step" "$*" >&2; }
# die MESSAGE [EXIT_CODE]
die() { log "ERROR: $1"; exit "${2:-1}"; }

PATH_RE='^(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}){1,16}$'
BYTES_RE='^[1-9][0-9]{0,15}$'

[[ -n ${SSM_BrickRoot+set} ]] || die "SSM_BrickRoot is not set (parameter BrickRoot missing)"
[[ -n ${SSM_ExpectBytes+set} ]] || die "SSM_ExpectBytes is not set (parameter ExpectBytes missing)"
brick_root=$SSM_BrickRoot
expect=$SSM_ExpectBytes
[[ $brick_root =~ $PATH_RE ]] || die "SSM_BrickRoot must be an absolute path of [A-Za-z0-9._-] segments, got '$brick_root'"
[[ $expect =~ $BYTES_RE ]] || die "SSM_ExpectBytes must be a whole number of bytes, got '$expect'"
[[ $GROW_SLACK_BYTES =~ ^[0-9]{1,12}$ ]] || die "GROW_SLACK_BYTES must be a whole number, got '$GROW_SLACK_BYTES'"

# --- the mounted brick file system ----------------------------------------------------
step=mount
line=$(findmnt -n -o SOURCE,FSTYPE --mountpoint "$brick_root" 2>/dev/null | head -n 1 || true)
[[ -n $line ]] || die "$brick_root is not a mount point: nothing to grow (was storage-prepare-brick run?)"
read -r device fstype <<<"$line"
[[ $fstype == xfs ]] || die "$brick_root is $fstype on $device, not XFS: only XFS bricks are grown"
[[ $device == /dev/* ]] || die "$brick_root is mounted from '$device', not from a block device"

# Data section size of the mounted XFS: blocks x bsize from xfs_info's "data" line.
fs_bytes() {
  xfs_info "$brick_root" | awk '
    /^data[[:space:]]*=/ {
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^bsize=/) { b = $i; sub(/^bsize=/, "", b) }
        if ($i ~ /^blocks=/) { n = $i; sub(/^blocks=/, "", n); sub(/,$/, "", n) }
      }
    }
    END { if (b == "" || n == "") exit 1; printf "%.0f\n", b * n }'
}

step=size
device_bytes=$(blockdev --getsize64 "$device")
[[ $device_bytes =~ ^[0-9]+$ ]] || die "blockdev gave no size for $device ('$device_bytes')"
before=$(fs_bytes) || die "could not read the XFS geometry of $brick_root (xfs_info)"
log "$device is $device_bytes bytes; the XFS on $brick_root has $before bytes; expected device size $expect"
if ((device_bytes < expect)); then
  die "$device did not grow: it is $device_bytes bytes, the volume was grown to $expect (is the EBS modification optimizing yet? is $device the modified volume?)" 3
fi

# --- grow ------------------------------------------------------------------------------
step=grow
grown=no
if ((device_bytes - before <= GROW_SLACK_BYTES)); then
  log "the XFS on $brick_root already fills $device: nothing to do"
  after=$before
else
  xfs_growfs -d "$brick_root" >&2
  after=$(fs_bytes) || die "could not read the XFS geometry of $brick_root after xfs_growfs"
  ((after > before)) || die "xfs_growfs left $brick_root at $before bytes on a $device_bytes-byte device"
  ((device_bytes - after <= GROW_SLACK_BYTES)) || die "xfs_growfs grew $brick_root to $after bytes only, the device has $device_bytes"
  grown=yes
  log "grew the XFS on $brick_root from $before to $after bytes"
fi
step=end
printf 'grow-brick device=%s device_bytes=%s fs_bytes_before=%s fs_bytes_after=%s grown=%s\n' "$device" "$device_bytes" "$before" "$after" "$grown"
