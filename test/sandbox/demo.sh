#!/usr/bin/env bash
# demo.sh [--keep]: the sandbox demo on a fresh machine.
# 1. test/setup.sh installs the Debian and npm packages (idempotent);
# 2. checks root, namespaces and FUSE, and says in one sentence what is missing;
# 3. runs the demo (boot, scale out 1 -> 3, sticky session, drain without
#    failed requests, files across nodes, timeline, SNS messages, timings),
#    which tears everything down at the end, on Ctrl-C or on failure.
#    --keep leaves the sandbox running until Ctrl-C.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/../.."

for arg in "$@"; do
  [[ $arg == --keep ]] || { printf 'usage: bash test/sandbox/demo.sh [--keep]\n' >&2; exit 2; }
done

bash test/setup.sh

if [[ $(id -u) -ne 0 ]]; then
  printf 'demo: the sandbox needs root (it creates network and mount namespaces, a bridge and FUSE mounts); run it as root.\n' >&2
  exit 1
fi
if ! reason=$(bash test/sandbox/bin/preflight.sh 2>&1); then
  printf 'demo: this machine cannot run the sandbox: %s\n' "$(printf '%s\n' "$reason" | tail -n 1 | sed 's/^.*error: //')" >&2
  exit 1
fi

exec npx --no-install tsx test/sandbox/demo.ts "$@"
