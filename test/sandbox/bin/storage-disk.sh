#!/usr/bin/env bash
# storage-disk.sh attach <host-id> <size-MiB> <disk-dir> [--preformat-ext4 <marker>]
# storage-disk.sh detach <disk-dir>
# storage-disk.sh grow <host-id> <size-MiB> <disk-dir>
# A data disk for a storage host launched after boot (the storage tier's
# prepare-brick document formats and mounts it):
# - attach: a loop device backed by a sparse file <disk-dir>/<host-id>.img,
#   recorded in <disk-dir>/<host-id>.loop, shown INSIDE the host (its own mount
#   namespace only) at the fixed path /dev/shm/pas-brick, the stage's Device.
#   The document accepts only devices lsblk types disk/part and this machine
#   has no such device for a sandbox (loop devices are type loop, partition
#   scanning is off): the host's /usr/local/sbin gets an lsblk that answers
#   `disk` for `lsblk -n -d -o TYPE /dev/shm/pas-brick` only and runs the real
#   lsblk otherwise. blkid, mkfs.xfs, fstab, mount are the real ones.
#   --preformat-ext4 <marker>: the disk is NOT blank: before it is attached, the
#   image becomes ext4 (label pas-preformat) holding one file, /pas-marker, whose
#   content is <marker> ([A-Za-z0-9._-], at most 64). It stands for a disk that
#   already holds someone's data: prepare-brick must refuse it and leave it as is.
# - grow: what EBS ModifyVolume does to an attached volume: the host's sparse
#   image becomes <size-MiB> (never smaller) and its loop device re-reads the
#   size (losetup -c); the device node inside the host sees the new size at
#   once. The file system on it is left alone (storage-grow-brick grows it).
# - detach: every loop device recorded in <disk-dir> whose backing file is
#   still that file is detached (run after the hosts are gone: their mount
#   namespaces hold the XFS mounts), then <disk-dir> is removed. Idempotent.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
DEVICE_PATH=/dev/shm/pas-brick

attach() {
  local id=$1 size=$2 disks=$3 marker=${4:-}
  pas_require_host_id "$id"
  [[ $size =~ ^[0-9]{3,5}$ ]] || pas_die "size must be 100-99999 MiB, got '$size'"
  [[ -z $marker || $marker =~ ^[A-Za-z0-9._-]{1,64}$ ]] || pas_die "marker must be 1-64 of [A-Za-z0-9._-], got '$marker'"
  [[ $disks == /* ]] || pas_die "disk dir must be absolute, got '$disks'"
  [[ -n $(pas_holder_pid "$id") ]] || pas_die "storage host '$id' is not running"
  local dir
  dir=$(pas_host_dir "$id")
  [[ $(<"$dir/role") == storage ]] || pas_die "host '$id' is not a storage host"
  mkdir -p "$disks"
  local img=$disks/$id.img
  if [[ -f $disks/$id.loop ]] && [[ $(losetup -l -n -O BACK-FILE "$(<"$disks/$id.loop")" 2>/dev/null) == "$img" ]]; then
    pas_log "host $id already has its disk $(<"$disks/$id.loop")"
    return 0
  fi
  truncate -s "${size}M" "$img"
  if [[ -n $marker ]]; then
    # mkfs.ext4 -d copies a directory into the new file system: no mount needed.
    local seed=$disks/$id.seed
    rm -rf "$seed"
    mkdir -p "$seed"
    printf '%s\n' "$marker" >"$seed/pas-marker"
    mkfs.ext4 -q -F -L pas-preformat -d "$seed" "$img" >&2 || pas_die "mkfs.ext4 of $img failed"
    rm -rf "$seed"
    pas_log "host $id: data disk pre-formatted ext4 with /pas-marker '$marker'"
  fi
  local dev
  dev=$(losetup --find --show "$img")
  printf '%s\n' "$dev" >"$disks/$id.loop"
  local majmin
  majmin=$(lsblk -n -d -o MAJ:MIN "$dev" | tr -d ' ')
  [[ $majmin =~ ^[0-9]+:[0-9]+$ ]] || pas_die "cannot read the device numbers of $dev ('$majmin')"
  local shim=$disks/$id.shim
  mkdir -p "$shim"
  cat >"$shim/lsblk" <<EOF
#!/bin/bash
# Sandbox seam (storage-disk.sh): the data disk is a loop device; present it as a disk.
if [[ \$# -eq 5 && \$1 == -n && \$2 == -d && \$3 == -o && \$4 == TYPE && \$5 == $DEVICE_PATH ]]; then echo disk; exit 0; fi
exec /usr/bin/lsblk "\$@"
EOF
  chmod 0755 "$shim/lsblk"
  bash "$PAS_BIN_DIR/hostexec.sh" "$id" bash -c '
    set -o errexit -o nounset
    mount -t tmpfs -o mode=0755,size=1m pas-dev /dev/shm
    mknod -m 0660 "$1" b "${2%%:*}" "${2##*:}"
    mount --bind "$3" /usr/local/sbin
  ' storage-disk "$DEVICE_PATH" "$majmin" "$shim"
  pas_log "host $id: data disk $dev (${size} MiB, sparse) at $DEVICE_PATH"
}

grow() {
  local id=$1 size=$2 disks=$3
  pas_require_host_id "$id"
  [[ $size =~ ^[0-9]{3,6}$ ]] || pas_die "size must be 100-999999 MiB, got '$size'"
  [[ $disks == /* ]] || pas_die "disk dir must be absolute, got '$disks'"
  local img=$disks/$id.img rec=$disks/$id.loop dev
  [[ -f $rec && -f $img ]] || pas_die "host '$id' has no data disk in $disks"
  dev=$(<"$rec")
  [[ $(losetup -l -n -O BACK-FILE "$dev" 2>/dev/null) == "$img" ]] || pas_die "$dev is no longer backed by $img"
  local have want
  have=$(stat -c %s "$img")
  want=$((size * 1024 * 1024))
  if ((want < have)); then pas_die "host $id: its disk is $have bytes, $want would shrink it (EBS volumes only grow)"; fi
  if ((want == have)); then pas_log "host $id: data disk already $size MiB"; return 0; fi
  truncate -s "${size}M" "$img"
  losetup -c "$dev"
  pas_log "host $id: data disk $dev grown to $size MiB"
}

detach() {
  local disks=$1
  [[ $disks == /* ]] || pas_die "disk dir must be absolute, got '$disks'"
  [[ -d $disks ]] || return 0
  local rec dev img left=0
  for rec in "$disks"/*.loop; do
    [[ -e $rec ]] || continue
    dev=$(<"$rec") img=${rec%.loop}.img
    for ((i = 0; i < 25; i++)); do
      [[ $(losetup -l -n -O BACK-FILE "$dev" 2>/dev/null) == "$img" ]] || break
      losetup -d "$dev" 2>/dev/null || true
      sleep 0.2
    done
    if [[ $(losetup -l -n -O BACK-FILE "$dev" 2>/dev/null) == "$img" ]]; then
      pas_log "warning: $dev still backed by $img"
      left=1
    else
      rm -f "$rec"
    fi
  done
  ((left == 0)) || pas_die "some loop devices of $disks are still attached"
  rm -rf "$disks"
}

case ${1:-} in
  attach)
    if (($# == 6)) && [[ $5 == --preformat-ext4 ]]; then
      attach "$2" "$3" "$4" "$6"
    else
      (($# == 4)) || pas_die "usage: storage-disk.sh attach <host-id> <size-MiB> <disk-dir> [--preformat-ext4 <marker>]"
      attach "$2" "$3" "$4"
    fi ;;
  detach) (($# == 2)) || pas_die "usage: storage-disk.sh detach <disk-dir>"; detach "$2" ;;
  grow) (($# == 4)) || pas_die "usage: storage-disk.sh grow <host-id> <size-MiB> <disk-dir>"; grow "$2" "$3" "$4" ;;
  *) pas_die "usage: storage-disk.sh attach <host-id> <size-MiB> <disk-dir> [--preformat-ext4 <marker>] | detach <disk-dir>" ;;
esac
