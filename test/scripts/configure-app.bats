#!/usr/bin/env bats
# configure-app.sh on a copy of a Pydio 8 tree, with the volumes "mounted" in the fake
# mount table and Apache / PHP configuration dirs in a temp root.

load helpers

setup() {
  common_setup
  export SSM_AppRoot=$ROOT/var/www/pydio SSM_ConfigMount=$ROOT/mnt/pydio-config SSM_DataMount=$ROOT/mnt/pydio-data
  export SSM_WebUser=www-data SSM_WebService=apache2 SSM_AppPort=80 SSM_KeepAliveTimeout=65
  export APACHE_CONF_DIR=$ROOT/etc/apache2 PHP_CONF_DIR=$ROOT/etc/php/8.2/apache2/conf.d
  export LOCAL_CACHE_DIR=$ROOT/var/cache/pydio NODE_ID=node-a
  export HEALTH_DIR=$ROOT/usr/local/lib/pydio-autoscaler/health HEALTH_RUN_DIR=$ROOT/run/pydio-autoscaler/health TMPFILES_DIR=$ROOT/etc/tmpfiles.d
  mkdir -p "$SSM_AppRoot" "$SSM_ConfigMount" "$SSM_DataMount" "$PHP_CONF_DIR" \
    "$APACHE_CONF_DIR/sites-available" "$APACHE_CONF_DIR/sites-enabled"
  cp -a "$REPO_ROOT/test/scripts/fixtures/pydio/." "$SSM_AppRoot/"
  printf 'Listen 80\n' >"$APACHE_CONF_DIR/ports.conf"
  printf '<VirtualHost *:80>\n</VirtualHost>\n' >"$APACHE_CONF_DIR/sites-available/000-default.conf"
  ln -s ../sites-available/000-default.conf "$APACHE_CONF_DIR/sites-enabled/000-default.conf"
  fake_mounted "$SSM_ConfigMount" 10.0.1.10:/pydio-config
  fake_mounted "$SSM_DataMount" 10.0.1.10:/pydio-data
  # The document's first step, installHealthCheck, has run.
  SSM_WebUser=www-data bash "$SCRIPTS/install-health-check.sh" 2>/dev/null
  : >"$FAKE_STATE/calls"
}

teardown() {
  common_teardown
  # The real-Apache case stops its server; this only catches a failure midway.
  if [[ -s ${ROOT:-}/logs/httpd.pid ]]; then kill "$(cat "$ROOT/logs/httpd.pid")" 2>/dev/null || true; fi
}

site() { cat "$APACHE_CONF_DIR/sites-available/pydio-autoscaler.conf"; }

@test "points Pydio's data and shared cache at the config volume, its cache at the local dir" {
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  ctx=$SSM_AppRoot/conf/bootstrap_context.php
  grep -qxF "define(\"AJXP_DATA_PATH\", \"$SSM_ConfigMount/appdata\");" "$ctx"
  grep -qxF "define(\"AJXP_SHARED_CACHE_DIR\", \"$SSM_ConfigMount/cache\");" "$ctx"
  grep -qxF "define(\"AJXP_CACHE_DIR\", \"$LOCAL_CACHE_DIR\");" "$ctx"
  # Lines that derive from the defines, and comments, are untouched.
  grep -qF 'define("AJXP_PLUGINS_CACHE_FILE", AJXP_CACHE_DIR."/plugins_cache.ser");' "$ctx"
  grep -qF '// define("AJXP_FORCE_LOGPATH"' "$ctx"
  cmp "$ctx.orig-pydio-autoscaler" "$REPO_ROOT/test/scripts/fixtures/pydio/conf/bootstrap_context.php"
}

@test "repoints the shared files and personal folders to the data volume" {
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  repos=$SSM_AppRoot/conf/bootstrap_repositories.php
  grep -qF "\"PATH\"			=>	\"$SSM_DataMount/common\"," "$repos"
  grep -qF "\"PATH\"			=>	\"$SSM_DataMount/users/AJXP_USER\"," "$repos"
  ! grep -q AJXP_DATA_PATH "$repos" || false
  [ -d "$SSM_DataMount/common" ] && [ -d "$SSM_DataMount/users" ]
}

@test "follows a data mount that moved on a later run" {
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  export SSM_DataMount=$ROOT/srv/data
  mkdir -p "$SSM_DataMount"
  fake_mounted "$SSM_DataMount" 10.0.1.10:/pydio-data
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  repos=$SSM_AppRoot/conf/bootstrap_repositories.php
  grep -qF "\"$ROOT/srv/data/common\"" "$repos"
  grep -qF "\"$ROOT/srv/data/users/AJXP_USER\"" "$repos"
  ! grep -qF "$ROOT/mnt/pydio-data" "$repos" || false
}

@test "a second run changes no file" {
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  snapshot() { find "$ROOT" -path "$ROOT/run" -prune -o -type f -printf '%P %s %T@\n' | sort; }
  before=$(snapshot)
  sums=$(find "$ROOT" -type f -not -path "$ROOT/run/*" -exec md5sum {} + | sort)
  sleep 1
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  [ "$(snapshot)" = "$before" ]
  [ "$(find "$ROOT" -type f -not -path "$ROOT/run/*" -exec md5sum {} + | sort)" = "$sums" ]
  [[ $output == *"bootstrap_context.php: unchanged"* ]]
}

@test "sets the PHP limits and puts sessions on the config volume" {
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  ini=$PHP_CONF_DIR/99-pydio-autoscaler.ini
  grep -qx 'upload_max_filesize = 1024M' "$ini"
  grep -qx 'post_max_size = 1024M' "$ini"
  grep -qx 'max_file_uploads = 100' "$ini"
  grep -qx 'output_buffering = Off' "$ini"
  grep -qx "session.save_path = \"$SSM_ConfigMount/sessions\"" "$ini"
  [ "$(stat -c %a "$SSM_ConfigMount/sessions")" = 700 ]
  calls_of chown | grep -q "^chown -h 33:33 .*$SSM_ConfigMount/sessions"
}

@test "answers /check.txt with the health check (PHP, outside the web root) and keeps its requests out of the access log" {
  printf 'OK\n' >"$SSM_AppRoot/check.txt" # the static file earlier versions wrote
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  [ ! -e "$SSM_AppRoot/check.txt" ]
  [[ $output == *"removed the static $SSM_AppRoot/check.txt"* ]]
  site | grep -qxF "    AliasMatch \"^/check\\.txt\$\" \"$HEALTH_DIR/check.php/alb\""
  site | grep -qxF "    <Directory $HEALTH_DIR>"
  site | grep -qxF "        SetEnv PAS_HEALTH_CONFIG_MOUNT $SSM_ConfigMount"
  site | grep -qxF '        SetEnv PAS_HEALTH_CONFIG_DIRS "appdata cache sessions"'
  site | grep -qxF "        SetEnv PAS_HEALTH_DATA_MOUNT $SSM_DataMount"
  site | grep -qxF '        SetEnv PAS_HEALTH_DATA_DIRS "common users"'
  site | grep -qxF "        SetEnv PAS_HEALTH_LOCAL \"$SSM_AppRoot/conf/bootstrap_context.php $LOCAL_CACHE_DIR\""
  site | grep -qxF "        SetEnv PAS_HEALTH_RUN_DIR $HEALTH_RUN_DIR"
  site | grep -qxF '        SetEnv PAS_HEALTH_TIMEOUT 3'
  # Each volume has the directory the health check's per-node probe files go to, the web user's.
  for mount in "$SSM_ConfigMount" "$SSM_DataMount"; do
    [ -d "$mount/.pydio-autoscaler/health" ]
    calls_of chown | grep -qF "$mount/.pydio-autoscaler/health"
  done
  site | grep -qxF "    DocumentRoot $SSM_AppRoot"
  site | grep -qxF '    SetEnvIf Request_URI "^/check\.txt$" dontlog'
  site | grep -qxF '    CustomLog ${APACHE_LOG_DIR}/pydio-access.log combined env=!dontlog'
  site | grep -qxF '<VirtualHost *:80>'
  # ports.conf already listens on 80: no second Listen (Apache would refuse it).
  ! site | grep -q '^Listen' || false
  [ "$(readlink "$APACHE_CONF_DIR/sites-enabled/pydio-autoscaler.conf")" = ../sites-available/pydio-autoscaler.conf ]
  [ ! -e "$APACHE_CONF_DIR/sites-enabled/000-default.conf" ]
}

@test "keeps idle connections longer than the load balancer (KeepAliveTimeout), so Apache never closes one the LB reuses" {
  SSM_KeepAliveTimeout=125 run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  site | grep -qxF '    KeepAlive On'
  site | grep -qxF '    KeepAliveTimeout 125'
}

@test "listens on an AppPort that Apache does not listen on yet" {
  SSM_AppPort=8080 run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  site | grep -qx 'Listen 8080'
  site | grep -qxF '<VirtualHost *:8080>'
}

@test "first node: claims the install wizard and leaves it enabled" {
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  [ "$(cat "$SSM_ConfigMount/skip_install")" = node-a ]
  [ ! -e "$LOCAL_CACHE_DIR/first_run_passed" ]
  [[ $output == *"this node (node-a) is the first; wizard left enabled"* ]]
  # The install's plugin configuration is seeded once into the shared app data.
  cmp "$SSM_ConfigMount/appdata/plugins/boot.conf/bootstrap.json" "$SSM_AppRoot/data/plugins/boot.conf/bootstrap.json"
}

@test "first node re-run: still the first node, wizard still enabled" {
  run bash "$SCRIPTS/configure-app.sh"
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  [ ! -e "$LOCAL_CACHE_DIR/first_run_passed" ]
  [[ $output == *"claimed the install wizard earlier; wizard left enabled"* ]]
}

@test "later node: skips the wizard and keeps the shared configuration" {
  printf 'node-a\n' >"$SSM_ConfigMount/skip_install"
  mkdir -p "$SSM_ConfigMount/appdata/plugins/boot.conf"
  printf '{"configured": "by the first node"}\n' >"$SSM_ConfigMount/appdata/plugins/boot.conf/bootstrap.json"
  NODE_ID=node-b run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  for flag in first_run_passed admin_counted diag_result.php; do [ -e "$LOCAL_CACHE_DIR/$flag" ]; done
  [ "$(cat "$SSM_ConfigMount/skip_install")" = node-a ]
  grep -q 'by the first node' "$SSM_ConfigMount/appdata/plugins/boot.conf/bootstrap.json"
  [[ $output == *"install wizard claimed by 'node-a': skipped on this node"* ]]
}

@test "hands the app directories to the web user, the data volume's top folders only" {
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  calls=$(calls_of chown)
  grep -qF "$SSM_ConfigMount/appdata" <<<"$calls"
  grep -qF "$SSM_ConfigMount/cache" <<<"$calls"
  grep -qF "$LOCAL_CACHE_DIR" <<<"$calls"
  grep -qF "$SSM_DataMount/common" <<<"$calls"
  mkdir -p "$SSM_DataMount/users/alice/docs"
  : >"$FAKE_STATE/calls"
  run bash "$SCRIPTS/configure-app.sh"
  ! calls_of chown | grep -qF "$SSM_DataMount/users/alice" || false
}

@test "without systemd: starts Apache when it is not running" {
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of apachectl)" = "$(printf '%s\n' 'apachectl configtest' 'apachectl -k start')" ]
  [ -z "$(calls_of systemctl)" ]
}

@test "without systemd: restarts a running Apache gracefully" {
  fake_apache_running
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  [ "$(calls_of apachectl)" = "$(printf '%s\n' 'apachectl configtest' 'apachectl -k graceful')" ]
}

@test "with systemd: reloads an active service, starts an inactive one" {
  mkdir -p "$SYSTEMD_RUN_DIR"
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  calls_of systemctl | grep -qx 'systemctl enable --now apache2'
  : >"$FAKE_STATE/calls"
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  calls_of systemctl | grep -qx 'systemctl reload apache2'
  ! calls_of apachectl | grep -q '^apachectl -k ' || false
}

@test "leaves a running Apache alone when the new configuration does not pass configtest" {
  fake_apache_running
  FAKE_CONFIGTEST_RC=1 run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"apachectl configtest failed"* ]]
  ! calls_of apachectl | grep -q '^apachectl -k ' || false
}

@test "the health check's directories default to where install-health-check.sh puts them" {
  for knob in HEALTH_DIR HEALTH_RUN_DIR; do
    installs=$(grep -m1 "^$knob=" "$SCRIPTS/install-health-check.sh")
    configures=$(grep -m1 "^$knob=" "$SCRIPTS/configure-app.sh")
    [ -n "$installs" ] && [ "$installs" = "$configures" ]
  done
}

@test "refuses to run before the health check is installed (the document's first step)" {
  rm -r "$HEALTH_DIR"
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"$HEALTH_DIR/check.php not found: the document's installHealthCheck step installs it first"* ]]
  [ ! -e "$APACHE_CONF_DIR/sites-available/pydio-autoscaler.conf" ]
}

@test "refuses to write under a mount point that is not mounted" {
  : >"$FAKE_STATE/mounts"
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"$SSM_ConfigMount is not mounted: run pydio-mount-volumes first"* ]]
  [ ! -e "$SSM_ConfigMount/appdata" ]
}

@test "refuses an AppRoot that is not a Pydio 8 install" {
  rm "$SSM_AppRoot/conf/bootstrap_context.php"
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"bootstrap_context.php not found: is $SSM_AppRoot a Pydio 8 install?"* ]]
}

@test "refuses a bootstrap_context.php without the expected defines" {
  sed -i '/AJXP_SHARED_CACHE_DIR/d' "$SSM_AppRoot/conf/bootstrap_context.php"
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -ne 0 ]
  [[ $output == *'no define("AJXP_SHARED_CACHE_DIR", ...)'* ]]
}

@test "refuses a bootstrap_conf.php whose \$AJXP_INISET moves sessions off the config volume" {
  printf '<?php\n//$AJXP_INISET["session.save_path"] = AJXP_DATA_PATH."/tmp/sessions";\n' >"$SSM_AppRoot/conf/bootstrap_conf.php"
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ] # Pydio's shipped file: the line is commented out
  printf '  $AJXP_INISET["session.save_path"] = "/var/lib/php/sessions";\n' >>"$SSM_AppRoot/conf/bootstrap_conf.php"
  run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"bootstrap_conf.php sets session.save_path itself (line 3)"* ]]
}

@test "refuses an unknown web user" {
  SSM_WebUser=nobody-here run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -ne 0 ]
  [[ $output == *"web user 'nobody-here' does not exist"* ]]
}

@test "refuses injection and bad values in every parameter, touching nothing" {
  for name in AppRoot ConfigMount DataMount WebUser WebService AppPort KeepAliveTimeout; do
    for value in 'x; rm -rf /' '$(id)' '`id`' 'a b' $'a\nb' ''; do
      run env "SSM_$name=$value" bash "$SCRIPTS/configure-app.sh"
      [ "$status" -ne 0 ]
      [[ $output == *"SSM_$name"* ]]
    done
  done
  for pair in AppRoot=/var/www/../etc AppRoot=/etc ConfigMount=/mnt/.. AppPort=0 AppPort=65536 WebService=nginx WebUser=Root KeepAliveTimeout=0 KeepAliveTimeout=10000; do
    run env "SSM_$pair" bash "$SCRIPTS/configure-app.sh"
    [ "$status" -ne 0 ]
    [[ $output == *"SSM_${pair%%=*}"* ]]
  done
  [ -z "$(calls_of chown)$(calls_of apachectl)" ]
  cmp "$SSM_AppRoot/conf/bootstrap_context.php" "$REPO_ROOT/test/scripts/fixtures/pydio/conf/bootstrap_context.php"
}

@test "real Apache with mod_php: /check.txt runs the health check (200, then 503 naming a lost mount), never logged; without PHP it is 404, never 200" {
  [ -x /usr/sbin/apache2 ] || skip "apache2 is not installed"
  libphp=$(find /usr/lib/apache2/modules -name 'libphp*.so' | head -n 1)
  [ -n "$libphp" ] || skip "libapache2-mod-php is not installed"
  port=$((20000 + RANDOM % 20000))
  SSM_AppPort=$port run bash "$SCRIPTS/configure-app.sh"
  [ "$status" -eq 0 ]
  printf 'hello\n' >"$SSM_AppRoot/index.html"
  mkdir -p "$ROOT/logs"
  # What the web server sees in /proc/self/mountinfo on a node: both volumes mounted by glusterfs.
  printf '40 22 0:40 / %s rw - fuse.glusterfs 10.0.1.10:/pydio-config rw\n41 22 0:41 / %s rw - fuse.glusterfs 10.0.1.10:/pydio-data rw\n' \
    "$SSM_ConfigMount" "$SSM_DataMount" >"$ROOT/mountinfo"
  # A minimal server around the generated site: only the modules it needs (PHP as Debian loads it).
  server_conf() {
    cat <<CONF
ServerRoot /etc/apache2
ServerName h1-test
PidFile $ROOT/logs/httpd.pid
ErrorLog $ROOT/logs/error.log
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule setenvif_module /usr/lib/apache2/modules/mod_setenvif.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
SetEnv PAS_HEALTH_MOUNTINFO $ROOT/mountinfo
SetEnv PAS_HEALTH_NODE node-a
LogFormat "%h %l %u %t \"%r\" %>s %O" combined
CONF
    if [ "$1" = php ]; then
      printf 'LoadModule php_module %s\nInclude /etc/apache2/mods-available/php8.2.conf\n' "$libphp"
    fi
    printf 'Include %s\n' "$APACHE_CONF_DIR/sites-enabled/pydio-autoscaler.conf"
  }
  httpd() {
    server_conf "$1" >"$ROOT/httpd.conf"
    /usr/sbin/apache2 -t -f "$ROOT/httpd.conf"
    /usr/sbin/apache2 -k start -f "$ROOT/httpd.conf"
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$ROOT/logs/httpd.pid" ] && break; sleep 0.3; done
  }
  stop_httpd() {
    /usr/sbin/apache2 -k stop -f "$ROOT/httpd.conf"
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do [ -e "$ROOT/logs/httpd.pid" ] || break; sleep 0.3; done
  }
  get() { /usr/bin/curl -sS --retry 5 --retry-connrefused --retry-delay 1 -o "$ROOT/body" -w '%{http_code}' "http://127.0.0.1:$port$1"; }
  export APACHE_LOG_DIR=$ROOT/logs
  [ -f /etc/apache2/mods-available/php8.2.conf ] || skip "Debian's php8.2.conf is not installed"

  httpd php
  healthy=$(get /check.txt) && healthy_body=$(cat "$ROOT/body")
  page=$(get /index.html)
  for mount in "$SSM_ConfigMount" "$SSM_DataMount"; do grep -q '^node-a ' "$mount/.pydio-autoscaler/health/node-a"; done
  sed -i "\#$SSM_DataMount#d" "$ROOT/mountinfo"
  lost=$(get /check.txt) && lost_body=$(cat "$ROOT/body")
  stop_httpd
  [ "$healthy $healthy_body" = "200 OK" ]
  [ "$page" = 200 ]
  [ "$lost $lost_body" = "503 UNHEALTHY: data volume $SSM_DataMount: not mounted" ]
  grep -q 'GET /index.html' "$ROOT/logs/pydio-access.log"
  ! grep -q 'check.txt' "$ROOT/logs/pydio-access.log" || false

  # No PHP: the path info "/alb" is refused by the core handler, so the file is never served as 200.
  httpd no-php
  without_php=$(get /check.txt)
  stop_httpd
  [ "$without_php" = 404 ]
  ! grep -q '<?php' "$ROOT/body" || false
}
