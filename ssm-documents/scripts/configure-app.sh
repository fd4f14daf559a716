#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# pydio-configure-app (step configure): point a Pydio 8 node at the shared Gluster
# volumes and (re)start Apache. The idempotent, non-interactive form of Pydio's
# dist/scripts/glusterfs/pydio-gluster.sh.
#
# Inputs (SSM parameters, interpolationType ENV_VAR):
#   SSM_AppRoot      Pydio install root (holds conf/bootstrap_context.php); also the web root
#   SSM_ConfigMount  mounted config volume: app data, shared cache, sessions, first-node marker
#   SSM_DataMount    mounted data volume: shared files (common/) and personal folders (users/)
#   SSM_WebUser      user Apache runs PHP as (www-data, apache)
#   SSM_WebService   apache2 or httpd (systemd unit name, when systemd runs)
#   SSM_AppPort      port Apache serves Pydio and check.txt on
#   SSM_KeepAliveTimeout  seconds Apache keeps an idle connection: above the load balancer's idle timeout
# Knobs (environment; defaults are the real system paths):
#   APACHE_CONF_DIR (/etc/apache2, else /etc/httpd), PHP_CONF_DIR (the only
#   /etc/php/*/apache2/conf.d, else /etc/php.d), LOCAL_CACHE_DIR (/var/cache/pydio),
#   SYSTEMD_RUN_DIR (/run/systemd/system), APACHE_PID_FILE (detected), NODE_ID (hostname),
#   HEALTH_DIR (/usr/local/lib/pydio-autoscaler/health) and HEALTH_RUN_DIR
#   (/run/pydio-autoscaler/health): where install-health-check.sh put the health check;
#   HEALTH_PROBE_TIMEOUT (3): seconds the health check waits for the volumes' probes
#
# Layout written (same as pydio-gluster.sh):
#   AJXP_DATA_PATH        -> <ConfigMount>/appdata   (shared by every node)
#   AJXP_SHARED_CACHE_DIR -> <ConfigMount>/cache     (shared by every node)
#   AJXP_CACHE_DIR        -> LOCAL_CACHE_DIR         (node-local: plugin caches and the
#                                                     per-node "wizard passed" markers)
#   default repositories  -> <DataMount>/common and <DataMount>/users/AJXP_USER
# First node: <ConfigMount>/skip_install holds the NODE_ID of the node that claimed the
# install wizard. Absent -> this node claims it (exclusive create) and leaves the wizard on;
# present with another id -> the wizard is skipped here (first_run_passed, admin_counted
# and diag_result.php in AJXP_CACHE_DIR, as pydio-gluster.sh does).

SYSTEMD_RUN_DIR=${SYSTEMD_RUN_DIR:-/run/systemd/system}
LOCAL_CACHE_DIR=${LOCAL_CACHE_DIR:-/var/cache/pydio}
HEALTH_DIR=${HEALTH_DIR:-/usr/local/lib/pydio-autoscaler/health}
HEALTH_RUN_DIR=${HEALTH_RUN_DIR:-/run/pydio-autoscaler/health}
HEALTH_PROBE_TIMEOUT=${HEALTH_PROBE_TIMEOUT:-3}
MANAGED='pydio-autoscaler'

step=validate
log() { printf 'configure-app[%s]: %s\n' "$step" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- inputs ------------------------------------------------------------------
PATH_RE='^(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}){1,16}$'
PATH_WHAT='an absolute path of [A-Za-z0-9._-] segments, no segment starting with a dot'
SYSTEM_DIRS=' /bin /boot /dev /etc /home /lib /lib64 /opt /proc /root /run /sbin /srv /sys /tmp /usr /var /mnt /media /var/www '
PORT_RE='^([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$'

# Prints the validated value of SSM_<name>; fails naming the parameter otherwise.
input() {
  local name=$1 pattern=$2 what=$3 var="SSM_$1"
  [[ -n ${!var+set} ]] || die "$var is not set (parameter $name missing; SSM Agent 3.3.2746.0+ with interpolationType ENV_VAR is required)"
  [[ -n ${!var} ]] || die "$var is empty: $what expected"
  [[ ${!var} =~ $pattern ]] || die "$var must be $what, got '${!var}'"
  printf '%s' "${!var}"
}

path_input() {
  local value
  value=$(input "$1" "$PATH_RE" "$PATH_WHAT") || exit 1
  [[ $SYSTEM_DIRS != *" $value "* ]] || die "SSM_$1 must not be the system directory $value"
  printf '%s' "$value"
}

app_root=$(path_input AppRoot)
config_mount=$(path_input ConfigMount)
data_mount=$(path_input DataMount)
web_user=$(input WebUser '^[a-z_][a-z0-9_-]{0,31}$' 'a user name ([a-z0-9_-], at most 32)')
web_service=$(input WebService '^(apache2|httpd)$' 'apache2 or httpd')
app_port=$(input AppPort "$PORT_RE" 'a TCP port number (1-65535)')
keep_alive=$(input KeepAliveTimeout '^[1-9][0-9]{0,3}$' 'a number of seconds (1-9999)')
[[ $config_mount != "$data_mount" ]] || die "ConfigMount and DataMount are both '$data_mount': they must differ"
for knob in LOCAL_CACHE_DIR HEALTH_DIR HEALTH_RUN_DIR; do
  [[ ${!knob} =~ $PATH_RE ]] || die "$knob must be $PATH_WHAT, got '${!knob}'"
done
[[ $HEALTH_PROBE_TIMEOUT =~ ^[1-9][0-9]?$ ]] || die "HEALTH_PROBE_TIMEOUT must be whole seconds (1-99), got '$HEALTH_PROBE_TIMEOUT'"

node_id=${NODE_ID:-$(hostname)}
[[ $node_id =~ ^[A-Za-z0-9._-]{1,255}$ ]] || die "NODE_ID must be [A-Za-z0-9._-], got '$node_id'"

if [[ -z ${APACHE_CONF_DIR:-} ]]; then
  if [[ -d /etc/apache2 ]]; then APACHE_CONF_DIR=/etc/apache2; else APACHE_CONF_DIR=/etc/httpd; fi
fi
if [[ -z ${PHP_CONF_DIR:-} ]]; then
  shopt -s nullglob
  candidates=(/etc/php/*/apache2/conf.d)
  shopt -u nullglob
  if ((${#candidates[@]} == 1)); then
    PHP_CONF_DIR=${candidates[0]}
  elif ((${#candidates[@]} > 1)); then
    die "several PHP versions have an apache2 conf.d (${candidates[*]}): set PHP_CONF_DIR"
  else
    PHP_CONF_DIR=/etc/php.d
  fi
fi

# --- preflight ---------------------------------------------------------------
step=preflight
context_php=$app_root/conf/bootstrap_context.php
repositories_php=$app_root/conf/bootstrap_repositories.php
[[ -f $context_php ]] || die "$context_php not found: is $app_root a Pydio 8 install?"
[[ -f $repositories_php ]] || die "$repositories_php not found: is $app_root a Pydio 8 install?"
# Pydio applies conf/bootstrap_conf.php's $AJXP_INISET with ini_set on every request
# (pydio/pydio-core core/src/conf/bootstrap_context.php: foreach($AJXP_INISET ...) safeIniSet),
# and ships its session.save_path line commented out (core/src/conf/bootstrap_conf.php). An
# active one would beat our php.ini and keep sessions on the node: refuse rather than pretend.
conf_php=$app_root/conf/bootstrap_conf.php
if [[ -f $conf_php ]] && override=$(grep -nE "^[[:space:]]*\\\$AJXP_INISET\[[\"']session\.save_path[\"']\]" "$conf_php"); then
  die "$conf_php sets session.save_path itself (line ${override%%:*}), which would keep sessions on this node instead of $config_mount/sessions: comment it out"
fi
for mnt in "$config_mount" "$data_mount"; do
  # Writing under an unmounted mount point would hide node data on the local disk.
  mountpoint -q "$mnt" || die "$mnt is not mounted: run pydio-mount-volumes first"
done
passwd_entry=$(getent passwd "$web_user") || die "web user '$web_user' does not exist on this host"
IFS=: read -r _ _ web_uid web_gid _ <<<"$passwd_entry"
[[ $web_uid =~ ^[0-9]+$ && $web_gid =~ ^[0-9]+$ ]] || die "getent passwd $web_user gave no numeric uid/gid: '$passwd_entry'"
[[ -d $APACHE_CONF_DIR ]] || die "Apache configuration directory $APACHE_CONF_DIR not found (set APACHE_CONF_DIR)"
[[ -d $PHP_CONF_DIR ]] || die "PHP configuration directory $PHP_CONF_DIR not found (set PHP_CONF_DIR)"
[[ -f $HEALTH_DIR/check.php ]] || die "$HEALTH_DIR/check.php not found: the document's installHealthCheck step installs it first"

# Replaces $1 by the content on stdin only when it differs; keeps $1's owner and mode.
# Prints "changed" or "unchanged".
write_if_changed() {
  local target=$1 tmp
  tmp=$(mktemp "$(dirname "$target")/.h1.XXXXXX")
  cat >"$tmp"
  if [[ -f $target ]] && cmp -s "$tmp" "$target"; then
    rm -f "$tmp"
    echo unchanged
  elif [[ -f $target ]]; then
    cat "$tmp" >"$target"
    rm -f "$tmp"
    echo changed
  else
    chmod 0644 "$tmp"
    mv -f "$tmp" "$target"
    echo changed
  fi
}

# --- shared directories --------------------------------------------------------
step=directories
appdata=$config_mount/appdata
shared_cache=$config_mount/cache
sessions=$config_mount/sessions
# The health check's probe files (one per node) live in .pydio-autoscaler/health on each volume.
probe_dirs=("$config_mount/.pydio-autoscaler/health" "$data_mount/.pydio-autoscaler/health")
mkdir -p "$appdata" "$shared_cache" "$sessions" "$data_mount/common" "$data_mount/users" "$LOCAL_CACHE_DIR" "${probe_dirs[@]}"
if [[ ! -e $appdata/plugins && -d $app_root/data/plugins ]]; then
  # Seed the shared plugin configuration from the install; rename so that a node
  # racing us cannot leave a half-copied tree (mv -T refuses a non-empty target).
  seed=$(mktemp -d "$appdata/.plugins.h1.XXXXXX")
  cp -a "$app_root/data/plugins/." "$seed/"
  if mv -T "$seed" "$appdata/plugins" 2>/dev/null; then
    log "seeded $appdata/plugins from $app_root/data/plugins"
  else
    rm -rf "$seed"
    log "another node seeded $appdata/plugins first; kept theirs"
  fi
fi

# Give $web_user what it must write, touching only what is not already its own.
own() {
  local depth=$1; shift
  local -a limit=()
  [[ $depth == deep ]] || limit=(-maxdepth 0)
  find "$@" "${limit[@]}" \( ! -uid "$web_uid" -o ! -gid "$web_gid" \) -exec chown -h "$web_uid:$web_gid" {} +
}
own deep "$appdata" "$shared_cache" "$LOCAL_CACHE_DIR"
# The data volume may hold millions of files: only its top folders.
own top "$data_mount/common" "$data_mount/users" "$sessions" "${probe_dirs[@]}"
chmod 0700 "$sessions"
log "directories ready and owned by $web_user ($web_uid:$web_gid)"

# --- Pydio bootstrap files -------------------------------------------------------
step=pydio
backup_once() { [[ -e $1.orig-$MANAGED ]] || cp -p "$1" "$1.orig-$MANAGED"; }

# Rewrites `define("NAME", ...);` in the bootstrap_context.php text on stdin to a literal value.
set_define() {
  local name=$1 value=$2 pattern text
  text=$(cat)
  pattern="^[[:space:]]*define\\([[:space:]]*[\"']${name}[\"'][[:space:]]*,"
  grep -Eq "$pattern" <<<"$text" || die "$context_php has no define(\"$name\", ...): unexpected Pydio layout"
  sed -E "s#${pattern}.*\$#define(\"$name\", \"$value\");#" <<<"$text"
}

backup_once "$context_php"
backup_once "$repositories_php"
context=$(cat "$context_php")
for pair in "AJXP_DATA_PATH=$appdata" "AJXP_SHARED_CACHE_DIR=$shared_cache" "AJXP_CACHE_DIR=$LOCAL_CACHE_DIR"; do
  context=$(set_define "${pair%%=*}" "${pair#*=}" <<<"$context") || exit 1
done
log "bootstrap_context.php: $(printf '%s\n' "$context" | write_if_changed "$context_php")"

repositories=$(sed -E \
  -e "/\"PATH\"[[:space:]]*=>/ s#\"(AJXP_DATA_PATH/files|/[A-Za-z0-9._/-]*/common)\"#\"$data_mount/common\"#" \
  -e "/\"PATH\"[[:space:]]*=>/ s#\"(AJXP_DATA_PATH/personal|/[A-Za-z0-9._/-]*/users)/AJXP_USER\"#\"$data_mount/users/AJXP_USER\"#" \
  "$repositories_php")
for want in "\"$data_mount/common\"" "\"$data_mount/users/AJXP_USER\""; do
  grep -Fq "$want" <<<"$repositories" ||
    die "$repositories_php: no default repository PATH could be pointed at $want (expected \"AJXP_DATA_PATH/files\" and \"AJXP_DATA_PATH/personal/AJXP_USER\")"
done
log "bootstrap_repositories.php: $(printf '%s\n' "$repositories" | write_if_changed "$repositories_php")"

# --- first node: install wizard ------------------------------------------------
step=first-node
marker=$config_mount/skip_install
if (set -o noclobber; printf '%s\n' "$node_id" >"$marker") 2>/dev/null; then
  log "no node had claimed the install wizard: this node ($node_id) is the first; wizard left enabled"
  first_node=yes
else
  owner=$(head -n 1 "$marker" 2>/dev/null || true)
  if [[ $owner == "$node_id" ]]; then
    log "this node ($node_id) claimed the install wizard earlier; wizard left enabled"
    first_node=yes
  else
    first_node=no
  fi
fi
if [[ $first_node == no ]]; then
  for flag in first_run_passed admin_counted diag_result.php; do
    [[ -e $LOCAL_CACHE_DIR/$flag ]] || touch "$LOCAL_CACHE_DIR/$flag"
  done
  chown "$web_uid:$web_gid" "$LOCAL_CACHE_DIR"/first_run_passed "$LOCAL_CACHE_DIR"/admin_counted "$LOCAL_CACHE_DIR"/diag_result.php
  log "install wizard claimed by '${owner:-unknown}': skipped on this node (shared configuration is reused)"
fi

# --- PHP -----------------------------------------------------------------------
step=php
php_ini=$PHP_CONF_DIR/99-$MANAGED.ini
result=$(write_if_changed "$php_ini" <<EOF
; Managed by $MANAGED (configure-app.sh): rewritten on every run.
upload_max_filesize = 1024M
post_max_size = 1024M
max_file_uploads = 100
output_buffering = Off
; Sessions live on the config volume so that every node sees every session.
session.save_handler = files
session.save_path = "$sessions"
EOF
)
log "$php_ini: $result"

# --- Apache --------------------------------------------------------------------
step=apache
# /check.txt is answered by the health check (below); the static file earlier versions wrote is gone.
if [[ -f $app_root/check.txt && $(cat "$app_root/check.txt") == OK ]]; then
  rm -f "$app_root/check.txt"
  log "removed the static $app_root/check.txt: the health check answers /check.txt now"
fi

listen=''
if ! grep -rEqs --exclude="$MANAGED.conf" "^[[:space:]]*Listen[[:space:]]+([^[:space:]]*:)?$app_port([[:space:]]|\$)" "$APACHE_CONF_DIR"; then
  listen="Listen $app_port"
fi
site=$(cat <<EOF
# Managed by $MANAGED (configure-app.sh): rewritten on every run.
$listen
<VirtualHost *:$app_port>
    DocumentRoot $app_root
    <Directory $app_root>
        Options FollowSymLinks
        AllowOverride All
        Require all granted
    </Directory>
    # The load balancer, not Apache, closes idle connections: an ALB that reuses a connection
    # Apache has just closed answers 502 (its idle timeout is shorter than this one).
    KeepAlive On
    KeepAliveTimeout $keep_alive
    # The load balancer's health check: /check.txt runs check.php, kept outside Pydio's web root
    # (Pydio's .htaccess sends every missing file to index.php). 200 only when PHP runs and both
    # volumes are mounted, answer and take a write; else 503 and the reason (install-health-check.sh).
    # "/alb" is path info, which only a PHP handler accepts: without PHP, 404, never the file with 200.
    AliasMatch "^/check\\.txt\$" "$HEALTH_DIR/check.php/alb"
    <Directory $HEALTH_DIR>
        Options None
        AllowOverride None
        Require all granted
        SetEnv PAS_HEALTH_CONFIG_MOUNT $config_mount
        SetEnv PAS_HEALTH_CONFIG_DIRS "appdata cache sessions"
        SetEnv PAS_HEALTH_DATA_MOUNT $data_mount
        SetEnv PAS_HEALTH_DATA_DIRS "common users"
        SetEnv PAS_HEALTH_LOCAL "$context_php $LOCAL_CACHE_DIR"
        SetEnv PAS_HEALTH_RUN_DIR $HEALTH_RUN_DIR
        SetEnv PAS_HEALTH_TIMEOUT $HEALTH_PROBE_TIMEOUT
    </Directory>
    # Load balancer health checks hit /check.txt every few seconds: keep them out of the log.
    SetEnvIf Request_URI "^/check\\.txt\$" dontlog
    ErrorLog \${APACHE_LOG_DIR}/pydio-error.log
    CustomLog \${APACHE_LOG_DIR}/pydio-access.log combined env=!dontlog
</VirtualHost>
EOF
)
if [[ -d $APACHE_CONF_DIR/sites-available ]]; then
  # Debian layout: our site replaces the default one, which would otherwise answer first.
  site_file=$APACHE_CONF_DIR/sites-available/$MANAGED.conf
  mkdir -p "$APACHE_CONF_DIR/sites-enabled"
  [[ -L $APACHE_CONF_DIR/sites-enabled/$MANAGED.conf ]] || ln -sfn "../sites-available/$MANAGED.conf" "$APACHE_CONF_DIR/sites-enabled/$MANAGED.conf"
  if [[ -L $APACHE_CONF_DIR/sites-enabled/000-default.conf ]]; then
    rm -f "$APACHE_CONF_DIR/sites-enabled/000-default.conf"
    log "disabled the default site 000-default"
  fi
else
  site_file=$APACHE_CONF_DIR/conf.d/$MANAGED.conf
  mkdir -p "$APACHE_CONF_DIR/conf.d"
  site=${site//\$\{APACHE_LOG_DIR\}/logs}
fi
log "$site_file: $(printf '%s\n' "$site" | write_if_changed "$site_file")"

# --- restart --------------------------------------------------------------------
step=restart
apachectl configtest >&2 || die "Apache rejects the configuration (apachectl configtest failed); the running server was left alone"
if [[ -d $SYSTEMD_RUN_DIR ]]; then
  if systemctl is-active --quiet "$web_service"; then
    systemctl reload "$web_service"
    log "reloaded $web_service (graceful)"
  else
    systemctl enable --now "$web_service" >&2
    log "started $web_service"
  fi
else
  pid_file=${APACHE_PID_FILE:-}
  if [[ -z $pid_file ]]; then
    for candidate in /run/apache2/apache2.pid /var/run/apache2/apache2.pid /run/httpd/httpd.pid /var/run/httpd/httpd.pid; do
      if [[ -e $candidate ]]; then pid_file=$candidate; break; fi
    done
  fi
  pid=''
  [[ -z $pid_file || ! -r $pid_file ]] || pid=$(head -n 1 "$pid_file")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    apachectl -k graceful >&2
    log "Apache (pid $pid) restarted gracefully"
  else
    apachectl -k start >&2
    log "Apache was not running: started"
  fi
fi
step=end
log "Pydio configured on port $app_port (first node: $first_node)"
