#!/usr/bin/env bats
# storage-grow-brick.sh with findmnt, blockdev, xfs_info and xfs_growfs shadowed by one
# fake (the mount, device size and XFS size live as files in $FAKE_STATE), plus one case
# on a real loop device with a real XFS (root only; skipped otherwise).

load helpers

write_grow_fake() {
  cat >"$FAKE_BIN/grow-fake" <<'FAKE'
#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
name=$(basename "$0")
printf '%s %s\n' "$name" "$*" >>"$FAKE_STATE/calls"
S=$FAKE_STATE
case $name in
  findmnt) [[ -f $S/mount ]] || exit 1; cat "$S/mount" ;;
  blockdev) cat "$S/device-bytes" ;;
  xfs_info)
    blocks=$(( $(cat "$S/fs-bytes") / 4096 ))
    printf 'meta-data=/dev/nvme1n1 isize=512 agcount=4, agsize=20480 blks\n'
    printf 'data     =                       bsize=4096   blocks=%s, imaxpct=25\n' "$blocks"
    printf 'log      =internal log           bsize=4096   blocks=16384, version=2\n' ;;
  xfs_growfs)
    [[ -f $S/growfs-stuck ]] || cp "$S/device-bytes" "$S/fs-bytes"
    echo "data blocks changed" ;;
  *) echo "grow-fake: unexpected $name" >&2; exit 99 ;;
esac
FAKE
  chmod +x "$FAKE_BIN/grow-fake"
  local cmd
  for cmd in findmnt blockdev xfs_info xfs_growfs; do ln -sf "$FAKE_BIN/grow-fake" "$FAKE_BIN/$cmd"; done
}

GiB=1073741824

setup() {
  common_setup
  write_grow_fake
  echo '/dev/nvme1n1 xfs' >"$FAKE_STATE/mount"
  echo $((100 * GiB)) >"$FAKE_STATE/fs-bytes"
  echo $((200 * GiB)) >"$FAKE_STATE/device-bytes"
  export SSM_BrickRoot=/bricks SSM_ExpectBytes=$((200 * GiB))
}

teardown() {
  # The loop case ends what it set up even when an assertion failed half-way.
  if [[ -n ${LOOP_MNT:-} ]] && /usr/bin/findmnt -n --mountpoint "$LOOP_MNT" >/dev/null 2>&1; then /usr/bin/umount "$LOOP_MNT" || true; fi
  if [[ -n ${LOOP_DEV:-} ]]; then /usr/sbin/losetup -d "$LOOP_DEV" 2>/dev/null || true; fi
  common_teardown
}

@test "grow-brick: grows the XFS to the enlarged device and reports sizes before and after" {
  run bash "$SCRIPTS/storage-grow-brick.sh"
  [ "$status" -eq 0 ]
  [ "$(printf '%s\n' "$output" | grep '^grow-brick ')" = "grow-brick device=/dev/nvme1n1 device_bytes=$((200 * GiB)) fs_bytes_before=$((100 * GiB)) fs_bytes_after=$((200 * GiB)) grown=yes" ]
  [ "$(calls_of xfs_growfs)" = "xfs_growfs -d /bricks" ]
  [ "$(calls_of findmnt)" = "findmnt -n -o SOURCE,FSTYPE --mountpoint /bricks" ]
}

@test "grow-brick: a file system already filling its device is left alone (idempotent)" {
  echo $((200 * GiB)) >"$FAKE_STATE/fs-bytes"
  run bash "$SCRIPTS/storage-grow-brick.sh"
  [ "$status" -eq 0 ]
  [[ $output == *"grown=no"* ]]
  [[ $output == *"already fills"* ]]
  [ -z "$(calls_of xfs_growfs)" ]
}

@test "grow-brick: fails with exit 3 when the device did not grow" {
  echo $((100 * GiB)) >"$FAKE_STATE/device-bytes"
  run bash "$SCRIPTS/storage-grow-brick.sh"
  [ "$status" -eq 3 ]
  [[ $output == *"/dev/nvme1n1 did not grow: it is $((100 * GiB)) bytes, the volume was grown to $((200 * GiB))"* ]]
  [ -z "$(calls_of xfs_growfs)" ]
}

@test "grow-brick: fails when xfs_growfs changed nothing" {
  touch "$FAKE_STATE/growfs-stuck"
  run bash "$SCRIPTS/storage-grow-brick.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"xfs_growfs left /bricks at $((100 * GiB)) bytes"* ]]
}

@test "grow-brick: refuses a brick root that is not mounted, or not XFS" {
  rm "$FAKE_STATE/mount"
  run bash "$SCRIPTS/storage-grow-brick.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"/bricks is not a mount point"* ]]
  echo '/dev/nvme1n1 ext4' >"$FAKE_STATE/mount"
  run bash "$SCRIPTS/storage-grow-brick.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"not XFS"* ]]
  [ -z "$(calls_of xfs_growfs)" ]
}

@test "grow-brick: validates its parameters before touching anything" {
  for bad in 'x; reboot' '/bricks/../etc' ''; do
    SSM_BrickRoot=$bad run bash "$SCRIPTS/storage-grow-brick.sh"
    [ "$status" -eq 1 ]
    [[ $output == *"SSM_BrickRoot must be an absolute path"* ]]
  done
  for bad in '0' '12GiB' '-5' '$(id)'; do
    SSM_ExpectBytes=$bad run bash "$SCRIPTS/storage-grow-brick.sh"
    [ "$status" -eq 1 ]
    [[ $output == *"SSM_ExpectBytes must be a whole number of bytes"* ]]
  done
  unset SSM_ExpectBytes
  run bash "$SCRIPTS/storage-grow-brick.sh"
  [[ $output == *"SSM_ExpectBytes is not set"* ]]
  [ ! -s "$FAKE_STATE/calls" ]
}

@test "grow-brick: a real XFS on a loop device grows after the device grew (root only)" {
  [ "$(id -u)" -eq 0 ] || skip "needs root for losetup and mount"
  local mkfs losetup_bin mount_bin umount_bin
  mkfs=$(PATH=/usr/sbin:/sbin:/usr/bin:/bin type -P mkfs.xfs || true)
  losetup_bin=$(PATH=/usr/sbin:/sbin:/usr/bin:/bin type -P losetup || true)
  [ -n "$mkfs" ] && [ -n "$losetup_bin" ] || skip "xfsprogs or losetup missing"
  mount_bin=$(PATH=/usr/sbin:/sbin:/usr/bin:/bin type -P mount)
  umount_bin=$(PATH=/usr/sbin:/sbin:/usr/bin:/bin type -P umount)
  local img=$BATS_TEST_TMPDIR/disk.img mnt=$BATS_TEST_TMPDIR/mnt loop
  mkdir -p "$mnt"
  truncate -s 320M "$img" 2>/dev/null || /usr/bin/truncate -s 320M "$img"
  loop=$("$losetup_bin" -f --show "$img") || skip "no free loop device"
  LOOP_DEV=$loop LOOP_MNT=$mnt
  # Real tools for this case only.
  rm -f "$FAKE_BIN/findmnt" "$FAKE_BIN/blockdev" "$FAKE_BIN/xfs_info" "$FAKE_BIN/xfs_growfs"
  local real_path=/usr/sbin:/sbin:/usr/bin:/bin
  "$mkfs" -q "$loop" && "$mount_bin" "$loop" "$mnt" || { "$losetup_bin" -d "$loop"; false; }
  echo data >"$mnt/file"
  /usr/bin/truncate -s 640M "$img"
  "$losetup_bin" -c "$loop"
  PATH=$real_path SSM_BrickRoot=$mnt SSM_ExpectBytes=$((640 * 1048576)) run bash "$SCRIPTS/storage-grow-brick.sh"
  local first_status=$status first_output=$output
  PATH=$real_path SSM_BrickRoot=$mnt SSM_ExpectBytes=$((640 * 1048576)) run bash "$SCRIPTS/storage-grow-brick.sh"
  local again=$output content
  content=$(cat "$mnt/file")
  "$umount_bin" "$mnt"; "$losetup_bin" -d "$loop"
  LOOP_DEV='' LOOP_MNT=''
  [ "$first_status" -eq 0 ]
  [[ $first_output == *"fs_bytes_before=335544320 fs_bytes_after=671088640 grown=yes"* ]]
  [[ $again == *"grown=no"* ]]
  [ "$content" = data ]
}
