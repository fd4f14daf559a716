#!/usr/bin/env bash
# Installs what the tests and the sandbox need, and nothing that is already
# there: Debian packages (root only), then npm packages from the lockfile.
# Idempotent: a second run does nothing but check.
set -o errexit -o nounset -o pipefail

cd "$(dirname "$0")/.."
log() { printf 'setup: %s\n' "$*" >&2; }

# awscli: Debian's AWS CLI v2, driven against the sandbox's Lambda Invoke API by the tests (/usr/bin/aws).
DEBIAN_PACKAGES=(glusterfs-server glusterfs-client haproxy apache2 php libapache2-mod-php php-cli
  shellcheck bats xfsprogs iproute2 util-linux procps psmisc curl jq socat awscli)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing Debian packages (${missing[*]}) and not root: install them, or run as root"
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=node_modules/.setup-stamp
if [[ ! -f $stamp || package-lock.json -nt $stamp ]]; then
  log "installing npm packages from package-lock.json"
  if ! npm ci --no-audit --no-fund --loglevel=error; then
    log "npm ci failed; falling back to npm install (same pinned versions)"
    npm install --no-audit --no-fund --loglevel=error
  fi
  touch "$stamp"
fi

python3 -c 'import moto' 2>/dev/null || { log "moto (python3 -m moto.server) is required but python3 cannot import moto"; exit 1; }
command -v cfn-lint >/dev/null || { log "cfn-lint is required but not on PATH"; exit 1; }
log "ready"
