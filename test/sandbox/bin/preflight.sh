#!/usr/bin/env bash
# Checks that this machine can run the sandbox hosts; one sentence on failure.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
pas_preflight
for cmd in glusterd gluster apachectl haproxy socat; do
  command -v "$cmd" >/dev/null || pas_die "'$cmd' is not installed (run test/setup.sh as root)"
done
pas_log "ok"
