#!/usr/bin/env bats
# mount-volumes.sh with mount, findmnt, apt-get ... shadowed by fakes.

load helpers

setup() {
  common_setup
  export FSTAB=$ROOT/etc/fstab MOUNT_RETRY_SLEEP=0
  mkdir -p "$ROOT/etc"
  printf '%s\n' '# /etc/fstab' 'UUID=1234 / ext4 defaults 0 1' >"$FSTAB"
  export SSM_ConfigVolume=pydio-config SSM_DataVolume=pydio-data
  export SSM_Servers=10.0.1.10,10.0.2.10,10.0.3.10
  export SSM_ConfigMount=$ROOT/mnt/pydio-config SSM_DataMount=$ROOT/mnt/pydio-data
}

teardown() { common_teardown; }

@test "writes one fstab line per volume, first server as volfile server, the others as backups" {
  run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -eq 0 ]
  [ "$(head -n 2 "$FSTAB")" = "$(printf '%s\n' '# /etc/fstab' 'UUID=1234 / ext4 defaults 0 1')" ]
  grep -qxF "10.0.1.10:/pydio-config $ROOT/mnt/pydio-config glusterfs defaults,_netdev,backup-volfile-servers=10.0.2.10:10.0.3.10 0 0" "$FSTAB"
  grep -qxF "10.0.1.10:/pydio-data $ROOT/mnt/pydio-data glusterfs defaults,_netdev,backup-volfile-servers=10.0.2.10:10.0.3.10 0 0" "$FSTAB"
  [ "$(wc -l <"$FSTAB")" -eq 4 ]
}

@test "mounts both volumes and verifies them: glusterfs FUSE and writable, probe removed" {
  run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of mount)" = "$(printf '%s\n' \
    "mount -t glusterfs -o defaults,_netdev,backup-volfile-servers=10.0.2.10:10.0.3.10 10.0.1.10:/pydio-config $SSM_ConfigMount" \
    "mount -t glusterfs -o defaults,_netdev,backup-volfile-servers=10.0.2.10:10.0.3.10 10.0.1.10:/pydio-data $SSM_DataMount")" ]
  [[ $output == *"$SSM_ConfigMount is a live, writable glusterfs mount"* ]]
  [[ $output == *"$SSM_DataMount is a live, writable glusterfs mount"* ]]
  [ -z "$(ls -A "$SSM_ConfigMount")" ]
  [ -z "$(ls -A "$SSM_DataMount")" ]
}

@test "a stale mount (its glusterfs client died: the mount point itself cannot be read) is lazily unmounted and mounted again" {
  mkdir -p "$SSM_ConfigMount" "$SSM_DataMount"
  fake_mounted "$SSM_ConfigMount" 10.0.1.10:/pydio-config
  fake_mounted "$SSM_DataMount" 10.0.1.10:/pydio-data
  # A dead FUSE mount: still in the mount table, but every stat of it fails (ENOTCONN) until unmounted.
  echo "$SSM_DataMount" >"$FAKE_STATE/dead"
  ln -s "$FAKE_BIN/fake" "$FAKE_BIN/stat"
  ln -s "$FAKE_BIN/fake" "$FAKE_BIN/mkdir"
  run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -eq 0 ]
  [[ $output == *"$SSM_ConfigMount already mounted"* ]]
  [[ $output == *"$SSM_DataMount is a stale glusterfs mount (not accessible); lazily unmounting it to mount again"* ]]
  calls_of umount | grep -qx "umount -l $SSM_DataMount"
  calls_of mount | grep -q " 10.0.1.10:/pydio-data $SSM_DataMount$"
  [[ $output == *"$SSM_DataMount is a live, writable glusterfs mount"* ]]
}

@test "a second run leaves fstab byte for byte (same inode) and mounts nothing" {
  run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -eq 0 ]
  cp "$FSTAB" "$BATS_TEST_TMPDIR/fstab.first"
  inode=$(stat -c %i "$FSTAB")
  : >"$FAKE_STATE/calls"
  run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -eq 0 ]
  cmp "$FSTAB" "$BATS_TEST_TMPDIR/fstab.first"
  [ "$(stat -c %i "$FSTAB")" = "$inode" ]
  [ -z "$(calls_of mount)" ]
  [[ $output == *"already has the entries"* ]]
  [[ $output == *"already mounted"* ]]
}

@test "replaces stale lines for the same mount points instead of duplicating them" {
  printf '%s\n' "oldhost:/pydio-config $SSM_ConfigMount glusterfs defaults 0 0" "oldhost:/pydio-data $SSM_DataMount glusterfs defaults 0 0" >>"$FSTAB"
  export SSM_Servers=gluster-1.internal
  run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -eq 0 ]
  ! grep -q oldhost "$FSTAB" || false
  [ "$(grep -c " $SSM_ConfigMount " "$FSTAB")" -eq 1 ]
  # A single server: no backup-volfile-servers option.
  grep -qxF "gluster-1.internal:/pydio-data $SSM_DataMount glusterfs defaults,_netdev 0 0" "$FSTAB"
}

@test "installs the gluster client with apt-get when mount.glusterfs is missing" {
  rm "$FAKE_BIN/mount.glusterfs" "$FAKE_BIN/dnf" "$FAKE_BIN/yum"
  run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of apt-get)" = "apt-get install -y glusterfs-client" ]
}

@test "installs glusterfs-fuse with dnf on the RHEL family" {
  rm "$FAKE_BIN/mount.glusterfs" "$FAKE_BIN/apt-get"
  run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of dnf)" = "dnf install -y glusterfs-fuse" ]
  [ -z "$(calls_of yum)" ]
}

@test "skips the install when the client is there" {
  run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -eq 0 ]
  [ -z "$(calls_of apt-get)$(calls_of dnf)" ]
}

@test "retries a failing mount a bounded number of times, then succeeds" {
  plan_failures mount-failures 2
  MOUNT_ATTEMPTS=3 run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of mount | wc -l)" -eq 4 ]
}

@test "gives up with a clear message when the volume never mounts" {
  plan_failures mount-failures 100
  MOUNT_ATTEMPTS=3 run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -ne 0 ]
  [ "$(calls_of mount | wc -l)" -eq 3 ]
  [[ $output == *"could not mount 10.0.1.10:/pydio-config on $SSM_ConfigMount after 3 attempts"* ]]
}

@test "refuses a mount point that holds another file system" {
  mkdir -p "$SSM_DataMount"
  fake_mounted "$SSM_DataMount" /dev/xvdb xfs
  run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"$SSM_DataMount is already mounted as xfs, not glusterfs"* ]]
}

@test "refuses a glusterfs mount of another volume" {
  mkdir -p "$SSM_DataMount"
  fake_mounted "$SSM_DataMount" 10.0.1.10:/other
  run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"not from volume pydio-data"* ]]
}

@test "fails when the mounted volume is not writable" {
  mkdir -p "$SSM_ConfigMount" "$(dirname "$SSM_DataMount")"
  # /proc refuses new files even to root: a stand-in for a read-only or broken mount.
  ln -s /proc/self "$SSM_DataMount"
  fake_mounted "$SSM_ConfigMount" 10.0.1.10:/pydio-config
  fake_mounted "$SSM_DataMount" 10.0.1.10:/pydio-data
  run bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"$SSM_DataMount is mounted but not writable"* ]]
}

bad_input() {
  run env "SSM_$1=$2" bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"$1"* ]]
  [ -z "$(calls_of mount)$(calls_of apt-get)" ]
  [ "$(wc -l <"$FSTAB")" -eq 2 ]
}

@test "refuses injection in every parameter, touching nothing" {
  for name in ConfigVolume DataVolume Servers ConfigMount DataMount; do
    for value in 'x; rm -rf /' '$(id)' '`id`' 'a b' $'a\nb'; do
      bad_input "$name" "$value"
    done
  done
}

@test "refuses empty and missing parameters" {
  for name in ConfigVolume DataVolume Servers ConfigMount DataMount; do
    bad_input "$name" ''
  done
  run env -u SSM_Servers bash "$SCRIPTS/mount-volumes.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"SSM_Servers is not set"* ]]
}

@test "refuses traversal, system directories, equal or nested mount points, too many servers" {
  bad_input ConfigMount /mnt/../etc
  bad_input DataMount /etc
  bad_input DataMount relative
  bad_input Servers 10.0.1.10,,10.0.2.10
  bad_input Servers "$(seq -s, -f '10.0.0.%g' 1 17)"
  bad_input DataMount "$SSM_ConfigMount"
  bad_input DataMount "$SSM_ConfigMount/data"
}
