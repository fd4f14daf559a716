#!/usr/bin/env bats
# ssm-documents/user-data/node-setup.sh (the reference cluster's first boot) with the package
# managers, the SSM Agent, systemd, snap, uname and the instance metadata service shadowed by
# one fake; what a real system would keep (installed packages, the agent's version, the
# machine) lives as files in $FAKE_STATE. Nothing is installed or started on this host.

load helpers

NEW_AGENT=3.3.3050.0

write_node_fake() {
  cat >"$FAKE_BIN/node-fake" <<'FAKE'
#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
name=$(basename "$0")
printf '%s %s\n' "$name" "$*" >>"$FAKE_STATE/calls"
S=$FAKE_STATE
take_failure() { local n; [[ -f $S/$1 ]] || return 1; n=$(cat "$S/$1"); ((n > 0)) || return 1; echo $((n - 1)) >"$S/$1"; }
install_agent() { cat "$S/new-agent-version" >"$S/agent-version"; ln -sf "$FAKE_BIN/node-fake" "$FAKE_BIN/amazon-ssm-agent"; }
case $name in
  uname) cat "$S/machine" ;;
  curl)
    if [[ $* == *api/token* ]]; then echo TOKEN; exit 0; fi
    if [[ $* == *placement/region* ]]; then [[ $* == *'X-aws-ec2-metadata-token: TOKEN'* ]] || exit 22; echo eu-west-1; exit 0; fi
    if take_failure download-failures; then echo "curl: (6) Could not resolve host" >&2; exit 6; fi
    out=''; prev=''
    for a in "$@"; do [[ $prev == -o ]] && out=$a; prev=$a; done
    [[ -n $out ]] && echo package >"$out" ;;
  dpkg) [[ $1 == -i ]] && install_agent ;;
  dnf | yum) [[ $* == *amazon-ssm-agent.rpm* ]] && install_agent ;;
  apt-get)
    if [[ $* == *install* ]]; then
      if take_failure apt-failures; then echo "E: Unable to fetch some archives" >&2; exit 100; fi
      for cmd in gluster glusterd mkfs.xfs; do ln -sf "$FAKE_BIN/node-fake" "$FAKE_BIN/$cmd"; done
    fi ;;
  amazon-ssm-agent) [[ ${1:-} == -version ]] && echo "SSM Agent version: $(cat "$S/agent-version")" ;;
  snap)
    [[ -f $S/snap-agent ]] || { echo "error: no matching snaps installed" >&2; exit 1; }
    case $1 in
      list) printf 'Name              Version        Rev    Tracking       Publisher   Notes\namazon-ssm-agent  %s  9881   latest/stable  aws         classic\n' "$(cat "$S/snap-agent")" ;;
      refresh) cat "$S/new-agent-version" >"$S/snap-agent" ;;
    esac ;;
  systemctl) ;;
  *) echo "node-fake: unexpected $name" >&2; exit 99 ;;
esac
FAKE
  chmod +x "$FAKE_BIN/node-fake"
  local cmd
  for cmd in uname curl dpkg apt-get systemctl; do ln -sf "$FAKE_BIN/node-fake" "$FAKE_BIN/$cmd"; done
  # dnf, yum (and snap, gluster, the agent) exist only when a test installs them.
  rm -f "$FAKE_BIN/dnf" "$FAKE_BIN/yum"
}

setup() {
  common_setup
  write_node_fake
  echo aarch64 >"$FAKE_STATE/machine"
  echo "$NEW_AGENT" >"$FAKE_STATE/new-agent-version"
  export PAS_MARKER_DIR=$ROOT/var/lib/pydio-autoscaler PAS_TMP=$BATS_TEST_TMPDIR PAS_FETCH_SLEEP=0 PAS_FETCH_TRIES=3
}

teardown() { common_teardown; }

agent_installed() { echo "$1" >"$FAKE_STATE/agent-version"; ln -sf "$FAKE_BIN/node-fake" "$FAKE_BIN/amazon-ssm-agent"; }
gluster_installed() { local cmd; for cmd in gluster glusterd mkfs.xfs; do ln -sf "$FAKE_BIN/node-fake" "$FAKE_BIN/$cmd"; done; }
# Line number of the first call matching $1 (grep -n), for order checks.
order_of() { grep -n -m1 -- "$1" "$FAKE_STATE/calls" | cut -d: -f1; }

@test "node-setup storage on a bare Debian arm64 image: Gluster from apt, glusterd started, the SSM Agent from the region's bucket, the hold lifted before its package, started last" {
  run bash "$REPO_ROOT/ssm-documents/user-data/node-setup.sh" storage
  [ "$status" -eq 0 ]
  [ "$(calls_of apt-get | grep install)" = "apt-get install -y -q glusterfs-server xfsprogs" ]
  [ -n "$(calls_of systemctl | grep -x 'systemctl enable --now glusterd')" ]
  [ -n "$(calls_of curl | grep -F 'https://s3.eu-west-1.amazonaws.com/amazon-ssm-eu-west-1/latest/debian_arm64/amazon-ssm-agent.deb')" ]
  [ "$(calls_of dpkg)" = "dpkg -i $BATS_TEST_TMPDIR/amazon-ssm-agent.deb" ]
  [ ! -e "$BATS_TEST_TMPDIR/amazon-ssm-agent.deb" ]
  (( $(order_of '^apt-get install') < $(order_of '^systemctl unmask --runtime amazon-ssm-agent.service snap.amazon-ssm-agent.amazon-ssm-agent.service') ))
  (( $(order_of '^systemctl unmask') < $(order_of '^dpkg -i') ))
  [ "$(tail -n 2 "$FAKE_STATE/calls")" = "$(printf 'systemctl enable amazon-ssm-agent.service\nsystemctl restart amazon-ssm-agent.service')" ]
  grep -q '^storage 20' "$PAS_MARKER_DIR/node-setup.done"
  [[ $output == *"storage node ready: SSM Agent $NEW_AGENT started"* ]]
}

@test "node-setup compute with an agent already at the minimum: nothing installed, marker written, agent restarted" {
  agent_installed 3.3.2746.0
  run bash "$REPO_ROOT/ssm-documents/user-data/node-setup.sh" compute
  [ "$status" -eq 0 ]
  [ -z "$(calls_of apt-get)" ]
  [ -z "$(calls_of dpkg)" ]
  [ -z "$(calls_of curl)" ]
  [[ $output == *"SSM Agent 3.3.2746.0 already installed"* ]]
  grep -q '^compute ' "$PAS_MARKER_DIR/node-setup.done"
}

@test "node-setup compute with an agent too old to set SSM_ variables (3.2): the region's package replaces it (x86_64 here)" {
  agent_installed 3.2.1297.0
  echo x86_64 >"$FAKE_STATE/machine"
  run bash "$REPO_ROOT/ssm-documents/user-data/node-setup.sh" compute
  [ "$status" -eq 0 ]
  [ -n "$(calls_of curl | grep -F '/latest/debian_amd64/amazon-ssm-agent.deb')" ]
  [ "$(cat "$FAKE_STATE/agent-version")" = "$NEW_AGENT" ]
  [[ $output == *"had 3.2.1297.0"* ]]
}

@test "node-setup on an rpm image without dpkg: the agent from the region's linux_<arch> rpm with dnf" {
  rm -f "$FAKE_BIN/dpkg"
  ln -sf "$FAKE_BIN/node-fake" "$FAKE_BIN/dnf"
  run bash "$REPO_ROOT/ssm-documents/user-data/node-setup.sh" compute
  [ "$status" -eq 0 ]
  [ "$(calls_of dnf)" = "dnf install -y https://s3.eu-west-1.amazonaws.com/amazon-ssm-eu-west-1/latest/linux_arm64/amazon-ssm-agent.rpm" ]
}

@test "node-setup with an old snap agent (Ubuntu): snap refresh, then the snap's unit is restarted" {
  ln -sf "$FAKE_BIN/node-fake" "$FAKE_BIN/snap"
  echo 3.2.582.0 >"$FAKE_STATE/snap-agent"
  run bash "$REPO_ROOT/ssm-documents/user-data/node-setup.sh" compute
  [ "$status" -eq 0 ]
  [ -n "$(calls_of snap | grep -x 'snap refresh amazon-ssm-agent')" ]
  [ -z "$(calls_of curl)" ]
  [ "$(tail -n 1 "$FAKE_STATE/calls")" = "systemctl restart snap.amazon-ssm-agent.amazon-ssm-agent.service" ]
}

@test "node-setup fails naming the version when the installed agent is still too old, and writes no marker" {
  echo 3.3.1.0 >"$FAKE_STATE/new-agent-version"
  run bash "$REPO_ROOT/ssm-documents/user-data/node-setup.sh" compute
  [ "$status" -eq 1 ]
  [[ $output == *"SSM Agent 3.3.1.0 after installing; at least 3.3.2746.0 is needed"* ]]
  [ ! -e "$PAS_MARKER_DIR/node-setup.done" ]
}

@test "node-setup gives up on a download that keeps failing (bounded), with no marker" {
  plan_failures download-failures 9
  run bash "$REPO_ROOT/ssm-documents/user-data/node-setup.sh" compute
  [ "$status" -eq 1 ]
  [ "$(calls_of curl | grep -c amazon-ssm-agent.deb)" -eq 3 ]
  [[ $output == *"could not download the SSM Agent package"* ]]
  [ ! -e "$PAS_MARKER_DIR/node-setup.done" ]
}

@test "node-setup storage on an image without apt-get and without Gluster says which image it needs" {
  rm -f "$FAKE_BIN/apt-get"
  run bash "$REPO_ROOT/ssm-documents/user-data/node-setup.sh" storage
  [ "$status" -eq 1 ]
  [[ $output == *"glusterfs-server is missing and this image has no apt-get"* ]]
  [ -z "$(calls_of systemctl)" ]
}

@test "node-setup retries apt-get install (bounded) while the network is not there yet" {
  plan_failures apt-failures 2
  run bash "$REPO_ROOT/ssm-documents/user-data/node-setup.sh" storage
  [ "$status" -eq 0 ]
  [ "$(calls_of apt-get | grep -c install)" -eq 3 ]
}

@test "node-setup a second time on a ready node changes nothing but restarting the agent" {
  gluster_installed
  agent_installed "$NEW_AGENT"
  run bash "$REPO_ROOT/ssm-documents/user-data/node-setup.sh" storage
  [ "$status" -eq 0 ]
  [ -z "$(calls_of apt-get)$(calls_of dpkg)$(calls_of curl)" ]
  [[ $output == *"glusterfs-server and xfsprogs already installed"* ]]
}

@test "node-setup refuses a role it does not know, before touching anything" {
  run bash "$REPO_ROOT/ssm-documents/user-data/node-setup.sh" database
  [ "$status" -eq 1 ]
  [[ $output == *"usage: node-setup <compute|storage>, got 'database'"* ]]
  [ ! -s "$FAKE_STATE/calls" ]
}
