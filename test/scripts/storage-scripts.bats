#!/usr/bin/env bats
# The storage SSM scripts with lsblk, blkid, mkfs.xfs, mount, findmnt, gluster,
# glusterd, systemctl and hostname shadowed by one fake (written below). Disks, file
# systems and the Gluster pool live as files in $FAKE_STATE; nothing real is touched.

load helpers

write_storage_fake() {
  cat >"$FAKE_BIN/storage-fake" <<'FAKE'
#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
name=$(basename "$0")
printf '%s %s\n' "$name" "$*" >>"$FAKE_STATE/calls"
S=$FAKE_STATE
last() { local a; for a in "$@"; do :; done; printf '%s' "$a"; }
base() { basename "$1"; }
case $name in
  lsblk)
    if [[ $* == "-J -d -p -o NAME,TYPE,FSTYPE,MOUNTPOINT" ]]; then cat "$S/lsblk.json"; exit 0; fi
    dev=$(last "$@")
    if [[ $* == "-n -d -o TYPE $dev" ]]; then grep -qxF "$dev" "$S/disks" || exit 32; echo disk; exit 0; fi
    if [[ $* == "-n -o NAME $dev" ]]; then echo "$dev"; [[ ! -f $S/parts-$(base "$dev") ]] || cat "$S/parts-$(base "$dev")"; exit 0; fi
    echo "fake lsblk: unexpected $*" >&2; exit 99 ;;
  blkid)
    dev=$(last "$@") f=$S/fs-$(base "$(last "$@")")
    case "$*" in
      "-p -o export $dev") [[ -f $f ]] || exit 2; cat "$f" ;;
      "-o value -s UUID $dev") [[ -f $f ]] || exit 2; echo "uuid-$(base "$dev")-0001" ;;
      *) echo "fake blkid: unexpected $*" >&2; exit 99 ;;
    esac ;;
  mkfs.xfs) echo "TYPE=xfs" >"$S/fs-$(base "$(last "$@")")" ;;
  mount)
    mnt=$(last "$@")
    uuid=$(awk -v m="$mnt" '$2 == m { sub(/^UUID=uuid-/, "", $1); sub(/-0001$/, "", $1); print $1 }' "$FSTAB")
    [[ -n $uuid ]] || { echo "mount: $mnt: can't find in $FSTAB." >&2; exit 1; }
    printf '%s /dev/%s xfs\n' "$mnt" "$uuid" >>"$S/mounts" ;;
  findmnt)
    mnt=$(last "$@")
    line=$(grep "^$mnt " "$S/mounts" 2>/dev/null | tail -n 1) || exit 1
    read -r _ src _ <<<"$line"; echo "$src" ;;
  gluster)
    [[ ! -f $S/glusterd-down ]] || { echo "Connection failed. Please check if gluster daemon is operational." >&2; exit 1; }
    args=" $* "
    case $args in
      *" --xml volume heal "*" info summary "* | *" --xml volume heal "*" info split-brain ")
        # A captured answer when the test put one there (heal-<summary|split-brain>-<volume>.xml).
        kind=summary; [[ $args != *" split-brain "* ]] || kind=split-brain
        if [[ -f $S/heal-$kind-$5.xml ]]; then cat "$S/heal-$kind-$5.xml"; else echo "<cliOutput><opRet>0</opRet><args>$*</args></cliOutput>"; fi ;;
      *" --xml "*)
        echo "<cliOutput><opRet>0</opRet><args>$*</args></cliOutput>"
        # A large answer that hardly compresses (a big pool, in size), different at each call.
        [[ ! -f $S/xml-pad ]] || { printf '<!-- '; head -c "$(<"$S/xml-pad")" /dev/urandom | base64 -w 0; printf ' -->\n'; } ;;
      *" volume heal "*" full ")
        if [[ -f $S/heal-fails ]] && (($(<"$S/heal-fails") > 0)); then
          echo $(($(<"$S/heal-fails") - 1)) >"$S/heal-fails"
          echo "Launching heal operation to perform full self heal on volume $4 has been unsuccessful:" >&2
          echo "Self-heal daemon is not running. Check self-heal daemon log file." >&2
          exit 1
        fi
        printf 'Launching heal operation to perform full self heal on volume %s has been successful \nUse heal info commands to check status.\n' "$4" ;;
      *" pool list "*)
        printf 'UUID\tHostname\tState\n'
        printf 'aaaa\tlocalhost\tConnected\n'
        while read -r h st; do printf 'bbbb\t%s\t%s\n' "$h" "$st"; done <"$S/pool" ;;
      *" peer probe "*)
        h=$(last "$@")
        [[ ! -f $S/probe-fails ]] || { echo "peer probe: failed: Probe returned with Transport endpoint is not connected" >&2; exit 1; }
        if [[ -s $S/probe-busy ]]; then
          n=$(cat "$S/probe-busy"); echo $((n - 1)) >"$S/probe-busy"
          ((n <= 0)) || { echo "peer probe: failed: Another transaction is in progress. Please try again after some time." >&2; exit 1; }
        fi
        echo "$h ${FAKE_PROBE_STATE:-Connected}" >>"$S/pool"; echo "peer probe: success" ;;
      *" peer status "*)
        echo "Number of Peers: $(wc -l <"$S/pool")"
        while read -r h st; do
          printf '\nHostname: %s\nUuid: bbbb\nState: Peer in Cluster (%s)\n' "$h" "$st"
        done <"$S/pool" ;;
      *" volume info ")
        # Every volume: the brick lines the test wrote (none when the file is missing).
        [[ ! -f $S/volinfo-all ]] || cat "$S/volinfo-all" ;;
      *" volume info "*)
        v=$(last "$@")
        [[ -f $S/vol-$v ]] || { echo "Volume $v does not exist" >&2; exit 1; }
        printf 'Volume Name: %s\nStatus: %s\n' "$v" "$(cat "$S/vol-$v")" ;;
      *) echo "fake gluster: unexpected $*" >&2; exit 99 ;;
    esac ;;
  glusterd) rm -f "$S/glusterd-down" ;;
  systemctl) rm -f "$S/glusterd-down" ;;
  hostname) echo "${FAKE_OWN_IPS:-10.0.1.5}" ;;
  *) echo "storage-fake: no behaviour for $name" >&2; exit 99 ;;
esac
FAKE
  chmod +x "$FAKE_BIN/storage-fake"
  local cmd
  for cmd in lsblk blkid mkfs.xfs mount findmnt gluster glusterd systemctl hostname; do
    ln -sf "$FAKE_BIN/storage-fake" "$FAKE_BIN/$cmd"
  done
}

# disks NAME... : unformatted, unmounted disks lsblk reports (plus the root disk, mounted).
disks() {
  local d json='{"blockdevices": [{"name": "/dev/nvme0n1", "type": "disk", "fstype": null, "mountpoint": null}'
  printf '%s\n' /dev/nvme0n1 >"$FAKE_STATE/disks"
  for d in "$@"; do
    json+=", {\"name\": \"$d\", \"type\": \"disk\", \"fstype\": null, \"mountpoint\": null}"
    echo "$d" >>"$FAKE_STATE/disks"
  done
  printf '%s\n]}\n' "$json" >"$FAKE_STATE/lsblk.json"
  # The root disk has partitions (so it is never a candidate).
  printf '%s\n' /dev/nvme0n1p1 >"$FAKE_STATE/parts-nvme0n1"
}

setup() {
  common_setup
  write_storage_fake
  export FSTAB=$ROOT/etc/fstab PROBE_WAIT_SLEEP=0 PROBE_WAIT_TRIES=3 PROBE_RETRY_SLEEP=0
  export GLUSTER_STATUS_DIR=$ROOT/run/pydio-autoscaler/gluster-status
  # Genuine glusterfs 10.3 answers (test/unit/core/storage/fixtures/README.md).
  FIXTURES=$REPO_ROOT/test/unit/core/storage/fixtures
  mkdir -p "$ROOT/etc"
  printf '%s\n' '# /etc/fstab' 'UUID=root / ext4 defaults 0 1' >"$FSTAB"
  : >"$FAKE_STATE/pool"
  export SSM_Device='' SSM_BrickRoot=$ROOT/bricks SSM_Volumes=pydio-config,pydio-data
}

teardown() { common_teardown; }

# --- storage-prepare-brick ---------------------------------------------------------

@test "prepare-brick: discovers the one empty disk, formats it XFS -i size=512, mounts by UUID, makes brick dirs" {
  disks /dev/nvme1n1
  run bash "$SCRIPTS/storage-prepare-brick.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of mkfs.xfs)" = "mkfs.xfs -i size=512 /dev/nvme1n1" ]
  grep -qxF "UUID=uuid-nvme1n1-0001 $ROOT/bricks xfs defaults,noatime,nofail 0 0" "$FSTAB"
  [ -d "$ROOT/bricks/pydio-config/brick" ] && [ -d "$ROOT/bricks/pydio-data/brick" ]
  [ "$(calls_of mount)" = "mount $ROOT/bricks" ]
}

@test "prepare-brick: a device holding XFS is mounted, never formatted" {
  disks /dev/nvme1n1
  echo TYPE=xfs >"$FAKE_STATE/fs-nvme1n1"
  export SSM_Device=/dev/nvme1n1
  run bash "$SCRIPTS/storage-prepare-brick.sh"
  [ "$status" -eq 0 ]
  [ -z "$(calls_of mkfs.xfs)" ]
  [[ $output == *"already holds XFS: not formatting it"* ]]
}

@test "prepare-brick: a device holding any other file system or signature is refused, never formatted" {
  disks /dev/nvme1n1
  export SSM_Device=/dev/nvme1n1
  for sig in 'TYPE=ext4' 'PTTYPE=gpt' 'TYPE=LVM2_member'; do
    echo "$sig" >"$FAKE_STATE/fs-nvme1n1"
    run bash "$SCRIPTS/storage-prepare-brick.sh"
    [ "$status" -eq 1 ]
    [[ $output == *"/dev/nvme1n1 holds data ($sig"*"never formatted"* ]]
  done
  [ -z "$(calls_of mkfs.xfs)" ]
  [ -z "$(calls_of mount)" ]
}

@test "prepare-brick: blkid failing to probe is no licence to format" {
  disks /dev/nvme1n1
  rm "$FAKE_BIN/blkid"
  printf '%s\n' '#!/usr/bin/env bash' 'echo "blkid $*" >>"$FAKE_STATE/calls"' 'exit 1' >"$FAKE_BIN/blkid"
  chmod +x "$FAKE_BIN/blkid"
  export SSM_Device=/dev/nvme1n1
  run bash "$SCRIPTS/storage-prepare-brick.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"blkid could not probe /dev/nvme1n1 (exit 1)"* ]]
  [ -z "$(calls_of mkfs.xfs)" ]
}

@test "prepare-brick: discovery refuses no candidate and several candidates, naming them" {
  disks
  run bash "$SCRIPTS/storage-prepare-brick.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"no unformatted, unmounted disk found"* ]]
  disks /dev/nvme1n1 /dev/nvme2n1
  run bash "$SCRIPTS/storage-prepare-brick.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"several unformatted disks found (/dev/nvme1n1 /dev/nvme2n1)"* ]]
  [ -z "$(calls_of mkfs.xfs)" ]
}

@test "prepare-brick: a second run leaves fstab byte for byte, formats and mounts nothing" {
  disks /dev/nvme1n1
  run bash "$SCRIPTS/storage-prepare-brick.sh"
  [ "$status" -eq 0 ]
  cp "$FSTAB" "$BATS_TEST_TMPDIR/fstab.first"
  inode=$(stat -c %i "$FSTAB")
  : >"$FAKE_STATE/calls"
  # The disk now holds XFS, so it is no longer "unformatted": name it as the stage would.
  export SSM_Device=/dev/nvme1n1
  run bash "$SCRIPTS/storage-prepare-brick.sh"
  [ "$status" -eq 0 ]
  cmp "$FSTAB" "$BATS_TEST_TMPDIR/fstab.first"
  [ "$(stat -c %i "$FSTAB")" = "$inode" ]
  [ -z "$(calls_of mkfs.xfs)" ]
  [ -z "$(calls_of mount)" ]
  [[ $output == *"already has the entry"* ]]
}

@test "prepare-brick: starts glusterd directly without systemd, with systemd when present" {
  disks /dev/nvme1n1
  touch "$FAKE_STATE/glusterd-down"
  run bash "$SCRIPTS/storage-prepare-brick.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of glusterd)" = "glusterd " ]
  touch "$FAKE_STATE/glusterd-down"
  mkdir -p "$SYSTEMD_RUN_DIR"
  : >"$FAKE_STATE/calls"
  export SSM_Device=/dev/nvme1n1
  run bash "$SCRIPTS/storage-prepare-brick.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of systemctl)" = "systemctl enable --now glusterd" ]
  [ -z "$(calls_of glusterd)" ]
}

@test "prepare-brick: refuses bad inputs by name" {
  disks /dev/nvme1n1
  for bad in 'SSM_Device=/dev/../etc/x' 'SSM_Device=nvme1n1' 'SSM_Device=/dev/x;id' 'SSM_BrickRoot=/etc' 'SSM_BrickRoot=rel/path' 'SSM_Volumes=a,,b' 'SSM_Volumes=-x' 'SSM_Volumes='; do
    run env "$bad" bash "$SCRIPTS/storage-prepare-brick.sh"
    [ "$status" -eq 1 ]
    [[ $output == *"${bad%%=*}"* ]]
  done
  [ -z "$(calls_of mkfs.xfs)" ]
}

# --- storage-peer-probe ---------------------------------------------------------------

@test "peer-probe: probes only the peers missing from the pool, skips itself, waits until connected" {
  echo "10.0.2.6 Connected" >"$FAKE_STATE/pool"
  export SSM_Peers=10.0.1.5,10.0.2.6,10.0.3.7
  run bash "$SCRIPTS/storage-peer-probe.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of gluster | grep 'peer probe')" = "gluster --mode=script peer probe 10.0.3.7" ]
  [[ $output == *"10.0.1.5 is this node"* ]]
  [[ $output == *"10.0.2.6 already in the pool"* ]]
  [[ $output == *"all 3 peers are in the cluster and connected"* ]]
}

@test "peer-probe: a second run probes nothing" {
  printf '%s\n' "10.0.2.6 Connected" "10.0.3.7 Connected" >"$FAKE_STATE/pool"
  export SSM_Peers=10.0.2.6,10.0.3.7
  run bash "$SCRIPTS/storage-peer-probe.sh"
  [ "$status" -eq 0 ]
  [ -z "$(calls_of gluster | grep 'peer probe')" ]
}

@test "peer-probe: a peer that never connects fails after the bounded wait, naming it" {
  export SSM_Peers=10.0.3.7 FAKE_PROBE_STATE=Disconnected
  run bash "$SCRIPTS/storage-peer-probe.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"after 3 checks, not in cluster and connected: 10.0.3.7 (Peer in Cluster (Disconnected))"* ]]
  [ "$(calls_of gluster | grep -c 'peer status')" -eq 3 ]
}

@test "peer-probe: a probe that keeps failing fails the script after PROBE_TRIES, with gluster's own words" {
  touch "$FAKE_STATE/probe-fails"
  export SSM_Peers=10.0.3.7 PROBE_TRIES=3
  run bash "$SCRIPTS/storage-peer-probe.sh"
  [ "$status" -eq 1 ]
  [ "$(calls_of gluster | grep -c 'peer probe')" -eq 3 ]
  [[ $output == *"gluster peer probe 10.0.3.7 failed 3 times; last answer: peer probe: failed: Probe returned with Transport endpoint is not connected"* ]]
}

@test "peer-probe: glusterd busy with another member's transaction is waited out, then the probe goes on" {
  echo 2 >"$FAKE_STATE/probe-busy"
  export SSM_Peers=10.0.3.7
  run bash "$SCRIPTS/storage-peer-probe.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of gluster | grep -c 'peer probe')" -eq 3 ]
  [[ $output == *"Another transaction is in progress"* ]]
  [[ $output == *"all 1 peers are in the cluster and connected"* ]]
}

@test "peer-probe: refuses a bad PROBE_TRIES by name" {
  export SSM_Peers=10.0.3.7 PROBE_TRIES=0
  run bash "$SCRIPTS/storage-peer-probe.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"PROBE_TRIES must be at least 1"* ]]
  [ -z "$(calls_of gluster)" ]
}

@test "peer-probe: refuses anything but IPv4 lists" {
  for bad in '10.0.3.7,' '10.0.3.256' 'host.example' '10.0.3.7;id' '10.0.3.7 10.0.3.8' ''; do
    run env SSM_Peers="$bad" bash "$SCRIPTS/storage-peer-probe.sh"
    [ "$status" -eq 1 ]
    [[ $output == *SSM_Peers* ]]
  done
  [ -z "$(calls_of gluster)" ]
}

# --- storage-gluster-command ---------------------------------------------------------------

cmd_env() { export SSM_Action=$1 SSM_Volume=pydio-data SSM_Replica=${2:-0} SSM_Bricks=${3:-} SSM_Force=${4:-no}; }

@test "gluster-command: builds the argv per action" {
  B='10.0.1.5:/bricks/pydio-data/brick,10.0.2.6:/bricks/pydio-data/brick'
  while IFS='|' read -r action replica bricks force expected; do
    cmd_env "$action" "$replica" "$bricks" "$force"
    : >"$FAKE_STATE/calls"
    run bash "$SCRIPTS/storage-gluster-command.sh"
    [ "$status" -eq 0 ]
    [ "$(calls_of gluster | tail -n 1)" = "gluster --mode=script --xml $expected" ]
  done <<EOF
add-brick|2|$B|no|volume add-brick pydio-data replica 2 10.0.1.5:/bricks/pydio-data/brick 10.0.2.6:/bricks/pydio-data/brick
add-brick|2|$B|yes|volume add-brick pydio-data replica 2 10.0.1.5:/bricks/pydio-data/brick 10.0.2.6:/bricks/pydio-data/brick force
rebalance-start|0||no|volume rebalance pydio-data start
rebalance-status|0||no|volume rebalance pydio-data status
replace-brick|0|10.0.2.6:/bricks/pydio-data/brick,10.0.2.9:/bricks/pydio-data/brick|no|volume replace-brick pydio-data 10.0.2.6:/bricks/pydio-data/brick 10.0.2.9:/bricks/pydio-data/brick commit force
remove-brick-start|2|$B|no|volume remove-brick pydio-data replica 2 10.0.1.5:/bricks/pydio-data/brick 10.0.2.6:/bricks/pydio-data/brick start
remove-brick-commit|2|$B|no|volume remove-brick pydio-data replica 2 10.0.1.5:/bricks/pydio-data/brick 10.0.2.6:/bricks/pydio-data/brick commit
volume-create|2|$B|no|volume create pydio-data replica 2 10.0.1.5:/bricks/pydio-data/brick 10.0.2.6:/bricks/pydio-data/brick
volume-start|0||no|volume start pydio-data
volume-start-force|0||no|volume start pydio-data force
EOF
}

@test "gluster-command: volume-start-force runs on a started volume (it starts the dead bricks), and takes no bricks" {
  echo Started >"$FAKE_STATE/vol-pydio-data"
  cmd_env volume-start-force
  run bash "$SCRIPTS/storage-gluster-command.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of gluster | grep -- '--xml')" = "gluster --mode=script --xml volume start pydio-data force" ]
  cmd_env volume-start-force 0 '10.0.1.5:/bricks/pydio-data/brick'
  run bash "$SCRIPTS/storage-gluster-command.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"volume-start-force takes no SSM_Bricks"* ]]
}

@test "gluster-command: create and start are no-ops on an existing, started volume" {
  echo Started >"$FAKE_STATE/vol-pydio-data"
  cmd_env volume-create 2 '10.0.1.5:/bricks/pydio-data/brick,10.0.2.6:/bricks/pydio-data/brick'
  run bash "$SCRIPTS/storage-gluster-command.sh"
  [ "$status" -eq 0 ]
  [[ $output == *"already exists: not creating it"* ]]
  cmd_env volume-start
  run bash "$SCRIPTS/storage-gluster-command.sh"
  [ "$status" -eq 0 ]
  [ -z "$(calls_of gluster | grep -- '--xml')" ]
}

@test "gluster-command: refuses actions off the list, hostile bricks and inconsistent inputs" {
  while IFS='|' read -r action replica bricks message; do
    cmd_env "$action" "$replica" "$bricks"
    run bash "$SCRIPTS/storage-gluster-command.sh"
    [ "$status" -eq 1 ]
    [[ $output == *"$message"* ]]
  done <<'EOF'
volume-delete|0||not one of the allowed actions
add-brick|2|10.0.1.5:/b;id|bad entry
add-brick|2|10.0.1.5:/b/../etc|bad entry
add-brick|2|host:/bricks/x|bad entry
add-brick|2|10.0.1.5:/bricks/x|do not form whole replica sets of 2
add-brick|2||needs SSM_Bricks
replace-brick|0|10.0.1.5:/a|exactly two bricks
heal-full|0|10.0.1.5:/a|takes no SSM_Bricks
rebalance-start|x||SSM_Replica must be
EOF
  [ -z "$(calls_of gluster | grep -- '--xml')" ]
}

@test "gluster-command: heal-full runs without --xml (gluster answers it in plain text), logs the answer, prints nothing on stdout" {
  cmd_env heal-full
  run env SSM_Action=heal-full bash -c "bash '$SCRIPTS/storage-gluster-command.sh' 2>/dev/null"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  [ "$(calls_of gluster | tail -n 1)" = "gluster --mode=script volume heal pydio-data full" ]
  run bash "$SCRIPTS/storage-gluster-command.sh"
  [[ $output == *"has been successful"* ]]
}

@test "gluster-command: heal-full retries while the self-heal daemons restart, bounded, then fails naming gluster's answer" {
  cmd_env heal-full
  echo 2 >"$FAKE_STATE/heal-fails"
  run env HEAL_FULL_SLEEP=0 bash "$SCRIPTS/storage-gluster-command.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of gluster | grep -c 'volume heal pydio-data full')" -eq 3 ]
  [[ $output == *"try 2 of 10: Launching heal operation"*"Self-heal daemon is not running"* ]]
  : >"$FAKE_STATE/calls"
  echo 99 >"$FAKE_STATE/heal-fails"
  run env HEAL_FULL_SLEEP=0 HEAL_FULL_TRIES=4 bash "$SCRIPTS/storage-gluster-command.sh"
  [ "$status" -eq 1 ]
  [ "$(calls_of gluster | grep -c 'volume heal pydio-data full')" -eq 4 ]
  [[ $output == *"failed 4 times: Launching heal operation to perform full self heal on volume pydio-data has been unsuccessful"* ]]
  run env HEAL_FULL_TRIES=x bash "$SCRIPTS/storage-gluster-command.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"HEAL_FULL_TRIES must be a whole number"* ]]
}

peer_env() { export SSM_Action=peer-detach SSM_Volume= SSM_Replica=0 SSM_Bricks= SSM_Force=no SSM_Peer=$1; }

@test "gluster-command: peer-detach detaches a disconnected peer that holds no brick" {
  printf '%s\n' "10.0.2.6 Connected" "10.0.1.9 Disconnected" >"$FAKE_STATE/pool"
  printf 'Brick1: 10.0.2.6:/bricks/pydio-data/brick\nBrick2: 10.0.1.12:/bricks/pydio-data/brick\n' >"$FAKE_STATE/volinfo-all"
  peer_env 10.0.1.9
  run bash "$SCRIPTS/storage-gluster-command.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of gluster | tail -n 1)" = "gluster --mode=script --xml peer detach 10.0.1.9" ]
}

@test "gluster-command: peer-detach of a peer no longer in the pool changes nothing" {
  echo "10.0.2.6 Connected" >"$FAKE_STATE/pool"
  peer_env 10.0.1.9
  run bash "$SCRIPTS/storage-gluster-command.sh"
  [ "$status" -eq 0 ]
  [[ $output == *"peer 10.0.1.9 is not in the pool: nothing to detach"* ]]
  [ -z "$(calls_of gluster | grep -- '--xml')" ]
}

@test "gluster-command: peer-detach refuses a peer that still holds a brick" {
  printf '%s\n' "10.0.2.6 Connected" "10.0.1.9 Disconnected" >"$FAKE_STATE/pool"
  printf 'Brick1: 10.0.2.6:/bricks/pydio-data/brick\nBrick2: 10.0.1.9:/srv/gluster/pydio-data/brick\n' >"$FAKE_STATE/volinfo-all"
  peer_env 10.0.1.9
  run bash "$SCRIPTS/storage-gluster-command.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"peer 10.0.1.9 still holds a brick"* ]]
  [ -z "$(calls_of gluster | grep -- '--xml')" ]
}

@test "gluster-command: peer-detach refuses a volume, a missing or hostile peer, forcing; other actions refuse a peer" {
  while IFS='|' read -r action volume peer force message; do
    export SSM_Action=$action SSM_Volume=$volume SSM_Replica=0 SSM_Bricks= SSM_Force=$force SSM_Peer=$peer
    run bash "$SCRIPTS/storage-gluster-command.sh"
    [ "$status" -eq 1 ]
    [[ $output == *"$message"* ]]
  done <<'EOF'
peer-detach|pydio-data|10.0.1.9|no|peer-detach takes no SSM_Volume
peer-detach|||no|peer-detach needs SSM_Peer
peer-detach||10.0.1.9;id|no|peer-detach needs SSM_Peer
peer-detach||host.internal|no|peer-detach needs SSM_Peer
peer-detach||10.0.1.9|yes|does not take SSM_Force
heal-full|pydio-data|10.0.1.9|no|heal-full takes no SSM_Peer
heal-full||||SSM_Volume must be a Gluster volume name
EOF
  [ -z "$(calls_of gluster | grep -- '--xml')" ]
}

# --- storage-gluster-status ----------------------------------------------------------------

@test "gluster-status: marker + XML per section; per-volume sections only for started volumes; an end marker" {
  echo Started >"$FAKE_STATE/vol-pydio-data"
  run env SSM_Volumes=pydio-config,pydio-data SSM_Encoding=plain bash -c "bash '$SCRIPTS/storage-gluster-status.sh' 2>/dev/null"
  [ "$status" -eq 0 ]
  [ "$(grep '^### ' <<<"$output")" = "$(printf '%s\n' \
    '### gluster-status pool-list rc=0 ###' \
    '### gluster-status volume-info rc=0 ###' \
    '### gluster-status volume-status-detail pydio-data rc=0 ###' \
    '### gluster-status rebalance-status pydio-data rc=0 ###' \
    '### gluster-status heal-info-summary pydio-data rc=0 ###' \
    '### gluster-status end ###')" ]
  [[ $output == *"<args>--mode=script --xml volume heal pydio-data info summary</args>"* ]]
}

@test "gluster-status: a summary that counts split-brain entries adds the split-brain listing of that volume only, with the captured paths" {
  echo Started >"$FAKE_STATE/vol-pydio-config"
  echo Started >"$FAKE_STATE/vol-pydio-data"
  cp "$FIXTURES/heal-info-summary-split-brain.xml" "$FAKE_STATE/heal-summary-pydio-config.xml"
  cp "$FIXTURES/heal-info-split-brain.xml" "$FAKE_STATE/heal-split-brain-pydio-config.xml"
  cp "$FIXTURES/heal-info-summary-clean.xml" "$FAKE_STATE/heal-summary-pydio-data.xml"
  run env SSM_Volumes=pydio-config,pydio-data SSM_Encoding=plain bash -c "bash '$SCRIPTS/storage-gluster-status.sh' 2>/dev/null"
  [ "$status" -eq 0 ]
  [ "$(grep '^### ' <<<"$output")" = "$(printf '%s\n' \
    '### gluster-status pool-list rc=0 ###' \
    '### gluster-status volume-info rc=0 ###' \
    '### gluster-status volume-status-detail pydio-config rc=0 ###' \
    '### gluster-status rebalance-status pydio-config rc=0 ###' \
    '### gluster-status heal-info-summary pydio-config rc=0 ###' \
    '### gluster-status heal-info-split-brain pydio-config rc=0 ###' \
    '### gluster-status volume-status-detail pydio-data rc=0 ###' \
    '### gluster-status rebalance-status pydio-data rc=0 ###' \
    '### gluster-status heal-info-summary pydio-data rc=0 ###' \
    '### gluster-status end ###')" ]
  [[ $output == *'<file gfid="d40e3bbc-6d9c-468d-a4ab-5643d091aeb2">/conf/bootstrap.json</file>'* ]]
  # Listed, never resolved: no split-brain resolution command was run.
  [ -z "$(calls_of gluster | grep -E 'split-brain (bigger-file|latest-mtime|source-brick)')" ]
  [ "$(calls_of gluster | grep -c 'info split-brain')" -eq 1 ]
}

@test "gluster-status: a split-brain listing keeps at most SPLIT_BRAIN_FILES files per brick, whole elements, and every brick's count" {
  echo Started >"$FAKE_STATE/vol-pydio-data"
  cp "$FIXTURES/heal-info-summary-split-brain.xml" "$FAKE_STATE/heal-summary-pydio-data.xml"
  # 120 entries on each of two bricks; one path holds a newline (its element spans two lines).
  {
    printf '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cliOutput>\n  <healInfo>\n    <bricks>\n'
    for b in 1 2; do
      printf '      <brick hostUuid="u%s">\n        <name>10.0.0.%s:/bricks/pydio-data/brick</name>\n' "$b" "$b"
      for i in $(seq 1 120); do
        if ((i == 60)); then
          printf '        <file gfid="00000000-0000-4000-8000-%012d">/d/two\nlines-%s</file>\n' "$i" "$i"
        else
          printf '        <file gfid="00000000-0000-4000-8000-%012d">/d/f-%s &amp; co</file>\n' "$i" "$i"
        fi
      done
      printf '        <status>Connected</status>\n        <numberOfEntries>120</numberOfEntries>\n      </brick>\n'
    done
    printf '    </bricks>\n  </healInfo>\n  <opRet>0</opRet>\n  <opErrno>0</opErrno>\n  <opErrstr/>\n</cliOutput>\n'
  } >"$FAKE_STATE/heal-split-brain-pydio-data.xml"
  run env SSM_Volumes=pydio-data SSM_Encoding=plain bash -c "bash '$SCRIPTS/storage-gluster-status.sh' 2>/dev/null"
  [ "$status" -eq 0 ]
  listing=$(awk '/^### gluster-status heal-info-split-brain /{on=1; next} /^### /{on=0} on' <<<"$output")
  limit=$(sed -n 's/^SPLIT_BRAIN_FILES=//p' "$SCRIPTS/storage-gluster-status.sh")
  [ "$limit" -eq 50 ]
  [ "$(grep -c '<file ' <<<"$listing")" -eq $((2 * limit)) ]
  [ "$(grep -c '<numberOfEntries>120</numberOfEntries>' <<<"$listing")" -eq 2 ]
  # Whole elements only: as many closing tags as opening ones; the two-line path (entry 60) is
  # dropped whole. (test/unit/core/storage/split-brain.test.ts parses such a listing.)
  [ "$(grep -c '</file>' <<<"$listing")" -eq $((2 * limit)) ]
  [ "$(grep -c '</brick>' <<<"$listing")" -eq 2 ]
  [[ $listing != *"lines-60"* ]]
  [[ $listing == *'</cliOutput>'* ]]
}

@test "gluster-status: by default the bundle is printed gzip+base64 on one line between a header (size, SHA-256) and an end line, and decodes to the plain bundle" {
  echo Started >"$FAKE_STATE/vol-pydio-data"
  run env SSM_Volumes=pydio-config,pydio-data SSM_Encoding=plain bash -c "bash '$SCRIPTS/storage-gluster-status.sh' 2>/dev/null"
  plain=$output
  run env SSM_Volumes=pydio-config,pydio-data bash -c "bash '$SCRIPTS/storage-gluster-status.sh' 2>/dev/null"
  [ "$status" -eq 0 ]
  [ "$(wc -l <<<"$output")" -eq 3 ]
  header=$(sed -n 1p <<<"$output")
  [[ $header =~ ^'### gluster-status-bundle encoding=gzip+base64 bytes='([0-9]+)' sha256='([0-9a-f]{64})' ###'$ ]]
  [ "$(sed -n 3p <<<"$output")" = '### gluster-status-bundle end ###' ]
  decoded=$(sed -n 2p <<<"$output" | base64 -d | gunzip)
  [ "$decoded" = "$plain" ]
  [ "$(sed -n 2p <<<"$output" | base64 -d | gunzip | sha256sum | cut -d' ' -f1)" = "${BASH_REMATCH[2]}" ]
}

@test "gluster-status: a bundle longer than one step's output is printed in parts: the first step, then each part step in order, which join to the frame and clean up" {
  echo Started >"$FAKE_STATE/vol-pydio-data"
  echo 15000 >"$FAKE_STATE/xml-pad"
  export GLUSTER_STATUS_DIR=$BATS_TEST_TMPDIR/status SSM_ReadId=read-1
  out=$BATS_TEST_TMPDIR/out
  mkdir -p "$out"
  SSM_Volumes=pydio-config,pydio-data bash "$SCRIPTS/storage-gluster-status.sh" >"$out/0" 2>/dev/null
  [ "$(wc -c <"$out/0")" -eq 20000 ]
  [ -f "$GLUSTER_STATUS_DIR/read-1" ]
  for i in 1 2 3 4 5 6 7; do
    bash "$SCRIPTS/storage-gluster-status-part.sh" >"$out/$i" 2>/dev/null
    [ "$(wc -c <"$out/$i")" -le 20000 ]
  done
  # Five sections of ~20,000 random base64 characters: more than four parts, fewer than eight.
  [ "$(wc -c <"$out/4")" -gt 0 ]
  [ "$(wc -c <"$out/7")" -eq 0 ]
  cat "$out"/[0-7] >"$out/joined"
  [ "$(wc -l <"$out/joined")" -eq 3 ]
  header=$(sed -n 1p "$out/joined")
  [[ $header =~ ^'### gluster-status-bundle encoding=gzip+base64 bytes='([0-9]+)' sha256='([0-9a-f]{64})' ###'$ ]]
  [ "$(sed -n 3p "$out/joined")" = '### gluster-status-bundle end ###' ]
  sed -n 2p "$out/joined" | base64 -d | gunzip >"$out/plain"
  [ "$(sha256sum <"$out/plain" | cut -d' ' -f1)" = "${BASH_REMATCH[2]}" ]
  [ "$(tail -n 1 "$out/plain")" = '### gluster-status end ###' ]
  # Nothing is left behind once the last part is printed.
  [ -z "$(ls -A "$GLUSTER_STATUS_DIR")" ]
}

@test "gluster-status: a bundle that fits one part keeps no file, and the part steps print nothing" {
  echo Started >"$FAKE_STATE/vol-pydio-data"
  export GLUSTER_STATUS_DIR=$BATS_TEST_TMPDIR/status SSM_ReadId=read-2
  run env SSM_Volumes=pydio-data bash -c "bash '$SCRIPTS/storage-gluster-status.sh' 2>/dev/null"
  [ "$status" -eq 0 ]
  [ "$(wc -l <<<"$output")" -eq 3 ]
  [ -z "$(ls -A "$GLUSTER_STATUS_DIR")" ]
  run bash "$SCRIPTS/storage-gluster-status-part.sh"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "gluster-status: refuses a ReadId that could name another path" {
  run env SSM_Volumes=pydio-data SSM_ReadId=../etc bash "$SCRIPTS/storage-gluster-status.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"SSM_ReadId must be 1 to 64 letters, digits or '-', got '../etc'"* ]]
  run env SSM_ReadId=../etc bash "$SCRIPTS/storage-gluster-status-part.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"SSM_ReadId must be"* ]]
}

@test "gluster-status: refuses an encoding it does not know" {
  run env SSM_Volumes=pydio-data SSM_Encoding=zip bash "$SCRIPTS/storage-gluster-status.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"SSM_Encoding must be gzip-base64 or plain, got 'zip'"* ]]
}

@test "gluster-status: fails when glusterd does not answer" {
  touch "$FAKE_STATE/glusterd-down"
  run env SSM_Volumes=pydio-data bash "$SCRIPTS/storage-gluster-status.sh"
  [ "$status" -eq 1 ]
  [[ $output == *"is glusterd running?"* ]]
}
