#!/usr/bin/env bash
# hostexec.sh <host-id> <command...>
# Runs a command inside the host's network, mount and UTS namespaces, with
# this environment, and exits with the command's exit code.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
(($# >= 2)) || pas_die "usage: hostexec.sh <host-id> <command...>"
id=$1
shift
pas_require_host_id "$id"
pid=$(pas_holder_pid "$id")
[[ -n $pid ]] || pas_die "host '$id' is not running (no live namespace holder in $(pas_host_dir "$id"))"
cd /
exec nsenter --net="/run/netns/$(pas_netns "$id")" --mount="/proc/$pid/ns/mnt" --uts="/proc/$pid/ns/uts" -- "$@"
