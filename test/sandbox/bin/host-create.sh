#!/usr/bin/env bash
# host-create.sh <host-id> <private-ip> <compute|storage>
# Creates one sandbox host: a network namespace on the sandbox bridge with the
# instance's private IP, a mount/UTS namespace with its own /run, /etc (an
# overlay: the host's writes stay its own), /var/www, /mnt, /srv, /var/lib/glusterd, ... and starts its daemons
# (glusterd on storage hosts, Apache+PHP with the stand-in app on compute
# hosts). Idempotent: exits 0 when the host is already running.
set -o errexit -o nounset -o pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

(($# == 3)) || pas_die "usage: host-create.sh <host-id> <private-ip> <compute|storage>"
id=$1 ip=$2 role=$3
pas_require_host_id "$id"
[[ $ip =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || pas_die "invalid private IP '$ip'"
[[ $role == compute || $role == storage ]] || pas_die "invalid role '$role' (compute or storage)"
WAIT_TRIES=${PAS_WAIT_TRIES:-100}

dir=$(pas_host_dir "$id")
if [[ -n $(pas_holder_pid "$id") ]]; then
  pas_log "host $id already running"
  exit 0
fi
bash "$PAS_BIN_DIR/net-up.sh"
ns=$(pas_netns "$id") vroot=$(pas_veth_root "$id") vhost=$(pas_veth_host "$id")
if ip netns list | grep -qw "^$ns"; then
  pas_die "network namespace $ns exists without a live holder: run host-destroy.sh $id first"
fi

# Fresh per-host directories, seeded from the machine (glusterd state empty).
rm -rf "$dir"
mkdir -p "$dir/etc-upper/apache2/sites-available" "$dir/etc-upper/apache2/conf-enabled" "$dir/etc-work" "$dir/cache-upper" "$dir/cache-work" \
  "$dir/usrlocal-upper" "$dir/usrlocal-work" "$dir/root/var/lib/php" "$dir/root/var/lib/glusterd" "$dir/root/var/log/glusterfs" \
  "$dir/root/var/log/apache2" "$dir/root/mnt" "$dir/root/srv"
printf '%s\n' "$role" >"$dir/role"
printf '%s\n' "$ip" >"$dir/ip"
printf '%s\n' "$id" >"$dir/etc-upper/hostname"
printf '%s\n' "$id" >"$dir/etc-upper/pydio-instance-id"
cp -a /var/www "$dir/root/var/www"
cp -a /var/lib/php/sessions "$dir/root/var/lib/php/sessions"
[[ -d /var/lib/glusterd/groups ]] && cp -a /var/lib/glusterd/groups "$dir/root/var/lib/glusterd/groups"
chown root:adm "$dir/root/var/log/apache2"

# Network: veth pair, root end on the bridge, host end renamed eth0.
printf '%s\n' "$ns" >"$dir/netns"
ip netns add "$ns"
printf '%s\n' "$vroot" >"$dir/link"
ip link add "$vroot" type veth peer name "$vhost"
ip link set "$vhost" netns "$ns"
ip link set "$vroot" master "$PAS_BRIDGE" up
ip -n "$ns" link set "$vhost" name eth0
ip -n "$ns" addr add "$ip/$PAS_PREFIX_LEN" dev eth0
ip -n "$ns" link set eth0 up
ip -n "$ns" link set lo up

# Namespace holder.
setsid ip netns exec "$ns" unshare -m -u --propagation private -- \
  bash "$PAS_BIN_DIR/holder.sh" "$dir" "$id" </dev/null >>"$dir/holder.log" 2>&1 &
for ((i = 0; i < WAIT_TRIES; i++)); do
  [[ -f $dir/ready ]] && break
  sleep 0.1
done
[[ -f $dir/ready ]] || pas_die "host $id: namespace holder did not become ready (see $dir/holder.log)"

hx() { bash "$PAS_BIN_DIR/hostexec.sh" "$id" "$@"; }
case $role in
  storage)
    mkdir -p "$dir/root/srv/gluster/pydio-config/brick" "$dir/root/srv/gluster/pydio-data/brick"
    hx glusterd -p /run/glusterd.pid
    for ((i = 0; i < WAIT_TRIES; i++)); do
      hx gluster --mode=script pool list >/dev/null 2>&1 && break
      sleep 0.2
    done
    hx gluster --mode=script pool list >/dev/null || pas_die "host $id: glusterd does not answer"
    ;;
  compute)
    # The stand-in app, pre-installed as an AMI would carry it.
    mkdir -p "$dir/root/var/www/pydio"
    cp -a "$PAS_REPO_DIR/test/sandbox/app/." "$dir/root/var/www/pydio/"
    chown -R www-data:www-data "$dir/root/var/www/pydio"
    cat >"$dir/etc-upper/apache2/sites-available/000-default.conf" <<CONF
<VirtualHost *:80>
	ServerName $id
	DocumentRoot /var/www/pydio
	SetEnv PYDIO_INSTANCE_ID $id
	<Directory /var/www/pydio>
		AllowOverride All
		Require all granted
	</Directory>
	ErrorLog \${APACHE_LOG_DIR}/error.log
	CustomLog \${APACHE_LOG_DIR}/access.log combined
</VirtualHost>
CONF
    echo "ServerName $id" >"$dir/etc-upper/apache2/conf-enabled/pas-servername.conf"
    hx apachectl start
    for ((i = 0; i < WAIT_TRIES; i++)); do
      [[ -f $dir/root/var/log/apache2/error.log ]] && hx test -s /run/apache2/apache2.pid && break
      sleep 0.1
    done
    hx test -s /run/apache2/apache2.pid || pas_die "host $id: apache did not start (see $dir/root/var/log/apache2/error.log)"
    ;;
esac
pas_log "host $id ($role, $ip) ready"
