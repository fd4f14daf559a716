#!/usr/bin/env bash
# The long-lived process that holds a host's mount (and UTS) namespace.
# Started by host-create.sh as:
#   ip netns exec <ns> unshare -m -u --propagation private -- holder.sh <host-dir> <host-id>
# Mounts a private tmpfs on /run, an overlay on /etc whose writes land in the
# host's own <host-dir>/etc-upper (so /etc/fstab, /etc/apache2, /etc/php are
# the host's and can be replaced by rename, as on a real machine), the same
# on /var/cache and /usr/local, binds the
# host's own directories from the state dir over the machine's, then sleeps
# until killed.
set -o errexit -o nounset -o pipefail
dir=$1 id=$2
log() { printf '%s [holder %s] %s\n' "$(date +%H:%M:%S)" "$id" "$*" >&2; }

mount -t tmpfs -o mode=0755,size=64m pas-run /run
mkdir -p /run/lock && chmod 1777 /run/lock
mount -t overlay pas-etc -o "lowerdir=/etc,upperdir=$dir/etc-upper,workdir=$dir/etc-work" /etc
# Node-local caches (e.g. Pydio's AJXP_CACHE_DIR in /var/cache/pydio) likewise.
mount -t overlay pas-cache -o "lowerdir=/var/cache,upperdir=$dir/cache-upper,workdir=$dir/cache-work" /var/cache
# And /usr/local, where a document installs the node's own programs (the health check).
mount -t overlay pas-usrlocal -o "lowerdir=/usr/local,upperdir=$dir/usrlocal-upper,workdir=$dir/usrlocal-work" /usr/local
# Paths bound from <host-dir>/root over the same path on this machine.
for path in /var/www /var/log/apache2 /var/lib/php/sessions \
  /mnt /srv /var/lib/glusterd /var/log/glusterfs; do
  mount --bind "$dir/root$path" "$path"
done
hostname "$id"
echo "$$" >"$dir/holder.pid"
touch "$dir/ready"
log "namespaces ready (pid $$)"
exec sleep infinity
