#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# pydio-configure-app (step installHealthCheck): install the load balancer's health check,
# the PHP script Apache answers /check.txt with (configure-app.sh maps the URL to it).
#
# What /check.txt then proves: 200 only when PHP runs, the node's own Pydio paths exist,
# and each Gluster volume is mounted (fuse.glusterfs at its mount point in the web server's
# /proc/self/mountinfo), answers, holds the directories Pydio writes to (writable by the
# web user) and takes a small write of this node's probe file, fsync'ed and read back,
# within PAS_HEALTH_TIMEOUT seconds. Otherwise 503 and one line naming what is broken.
#
# Why a detached probe: PHP's max_execution_time does not count time blocked in system
# calls on Linux, so a PHP request that touched a hung FUSE mount would hold its Apache
# worker for as long as the mount hangs. check.php never touches the volumes itself: it
# starts probe.sh with `setsid -f` (not its child, so never waited for or left a zombie),
# reads one line from it, and stops waiting at the deadline. A probe holds a lock per
# volume while it runs; a probe that finds a lock held for longer than the deadline
# reports the volume hung at once without touching it, so a hung mount costs at most one
# blocked probe per volume (plus probes that wait at most the deadline for the lock).
#
# Inputs (SSM parameters, interpolationType ENV_VAR):
#   SSM_WebUser  user Apache runs PHP as: owns the probes' lock directory
# Knobs (environment; defaults are the real system paths):
#   HEALTH_DIR (/usr/local/lib/pydio-autoscaler/health): check.php and probe.sh, root-owned
#   HEALTH_RUN_DIR (/run/pydio-autoscaler/health): the probes' locks, owned by WebUser
#   TMPFILES_DIR (/etc/tmpfiles.d): systemd-tmpfiles recreates HEALTH_RUN_DIR at boot
# Idempotent: files are rewritten only when their content differs.

HEALTH_DIR=${HEALTH_DIR:-/usr/local/lib/pydio-autoscaler/health}
HEALTH_RUN_DIR=${HEALTH_RUN_DIR:-/run/pydio-autoscaler/health}
TMPFILES_DIR=${TMPFILES_DIR:-/etc/tmpfiles.d}
MANAGED='pydio-autoscaler'

step=validate
log() { printf 'install-health-check[%s]: %s\n' "$step" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -n ${SSM_WebUser+set} ]] || die "SSM_WebUser is not set (parameter WebUser missing; SSM Agent 3.3.2746.0+ with interpolationType ENV_VAR is required)"
[[ $SSM_WebUser =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die "SSM_WebUser must be a user name ([a-z0-9_-], at most 32), got '$SSM_WebUser'"
web_user=$SSM_WebUser
PATH_RE='^(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}){1,16}$'
for knob in HEALTH_DIR HEALTH_RUN_DIR TMPFILES_DIR; do
  [[ ${!knob} =~ $PATH_RE ]] || die "$knob must be an absolute path of [A-Za-z0-9._-] segments, got '${!knob}'"
done

step=preflight
passwd_entry=$(getent passwd "$web_user") || die "web user '$web_user' does not exist on this host"
IFS=: read -r _ _ web_uid web_gid _ <<<"$passwd_entry"
[[ $web_uid =~ ^[0-9]+$ && $web_gid =~ ^[0-9]+$ ]] || die "getent passwd $web_user gave no numeric uid/gid: '$passwd_entry'"
# check.php starts the probe detached with setsid; the probe locks with flock (util-linux).
for tool in setsid flock; do
  command -v "$tool" >/dev/null || die "$tool (util-linux) is not installed: the health check needs it"
done

# Replaces $1 by the content on stdin only when it differs, with mode $2. Prints "changed" or "unchanged".
write_if_changed() {
  local target=$1 mode=$2 tmp
  tmp=$(mktemp "$(dirname "$target")/.h1.XXXXXX")
  cat >"$tmp"
  if [[ -f $target ]] && cmp -s "$tmp" "$target" && [[ $(stat -c %a "$target") == "$mode" ]]; then
    rm -f "$tmp"
    echo unchanged
  else
    chmod "$mode" "$tmp"
    mv -f "$tmp" "$target"
    echo changed
  fi
}

step=install
mkdir -p "$HEALTH_DIR"
result=$(write_if_changed "$HEALTH_DIR/check.php" 644 <<'PHP'
<?php
// Managed by pydio-autoscaler (install-health-check.sh): rewritten on every run.
// The load balancer's health check. Apache answers /check.txt with this script (configure-app.sh:
// AliasMatch to check.php with the path info "/alb", which only a PHP handler accepts: without
// PHP the answer is 404, never this file's text with 200). Settings come from the site's SetEnv
// lines (getenv), or from the environment under php-cli.
//
// 200 "OK" only when every check passes; otherwise 503 and ONE line naming what is broken.
// The volumes are touched only by probe.sh, started detached: this request never blocks on a
// hung mount; it stops waiting at PAS_HEALTH_TIMEOUT.
declare(strict_types=1);
ini_set('display_errors', '0');

const FUSE_TYPE = 'fuse.glusterfs';
const PROBE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ABSOLUTE_PATH = '~^(/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$~';

final class Misconfigured extends RuntimeException
{
}

/** A setting from the site's SetEnv (or the environment); $default null = required. */
function setting(string $name, ?string $default = null): string
{
    $value = getenv($name);
    if ($value === false || $value === '') {
        if ($default === null) {
            throw new Misconfigured("$name is not set");
        }
        return $default;
    }
    return $value;
}

function absolutePath(string $name, ?string $default = null): string
{
    $value = setting($name, $default);
    if (preg_match(ABSOLUTE_PATH, $value) !== 1 || str_contains($value, '/..')) {
        throw new Misconfigured("$name must be an absolute path, got '$value'");
    }
    return $value;
}

/** @return list<string> */
function words(string $name, string $pattern): array
{
    $words = preg_split('/\s+/', trim(setting($name)), -1, PREG_SPLIT_NO_EMPTY) ?: [];
    foreach ($words as $word) {
        if (preg_match($pattern, $word) !== 1) {
            throw new Misconfigured("$name holds '$word', which is not allowed there");
        }
    }
    return $words;
}

/** The file system type mounted at $path (the topmost mount), or null when nothing is mounted there. */
function mountedType(string $mountinfo, string $path): ?string
{
    $type = null;
    foreach (explode("\n", $mountinfo) as $line) {
        // "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw": field 5 is the
        // mount point (octal escapes for blanks), the first field after " - " the type.
        $split = strpos($line, ' - ');
        if ($split === false) {
            continue;
        }
        $fields = explode(' ', substr($line, 0, $split));
        $point = preg_replace_callback('/\\\\([0-7]{3})/', fn (array $m): string => chr((int) octdec($m[1])), $fields[4] ?? '');
        if ($point === $path) {
            $type = explode(' ', substr($line, $split + 3))[0];
        }
    }
    return $type;
}

function oneLine(string $text, int $max = 300): string
{
    $line = trim((string) preg_replace('/\s+/', ' ', $text));
    return strlen($line) > $max ? substr($line, 0, $max) . '...' : $line;
}

/**
 * Runs probe.sh for each volume at once, detached (setsid -f: the probe is not our child, so a
 * probe stuck in the kernel is never waited for), and collects one line from each until the deadline.
 *
 * @param array<string, array{mount: string, dirs: list<string>}> $volumes
 * @return array<string, string> label => problem (no entry: healthy)
 */
function probeVolumes(array $volumes, string $node, string $runDir, float $timeout): array
{
    $setsid = null;
    foreach (['/usr/bin/setsid', '/bin/setsid'] as $candidate) {
        if (is_executable($candidate)) {
            $setsid = $candidate;
            break;
        }
    }
    if ($setsid === null) {
        throw new Misconfigured('setsid (util-linux) is not installed');
    }
    if (!function_exists('proc_open')) {
        throw new Misconfigured('proc_open is disabled in PHP (disable_functions)');
    }
    $problems = [];
    $running = [];
    foreach ($volumes as $label => $volume) {
        $command = [$setsid, '-f', '/bin/bash', __DIR__ . '/probe.sh', $label, $volume['mount'], $node, $runDir, (string) $timeout, ...$volume['dirs']];
        $pipes = [];
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, '/', ['PATH' => PROBE_PATH, 'LC_ALL' => 'C']);
        if ($process === false) {
            $problems[$label] = 'cannot start the probe';
            continue;
        }
        stream_set_blocking($pipes[1], false);
        $running[$label] = ['process' => $process, 'pipe' => $pipes[1], 'out' => ''];
    }
    $deadline = microtime(true) + $timeout;
    $open = $running;
    while ($open !== [] && ($left = $deadline - microtime(true)) > 0) {
        $read = array_map(fn (array $r) => $r['pipe'], array_values($open));
        $write = $except = null;
        if (@stream_select($read, $write, $except, (int) $left, (int) (fmod($left, 1.0) * 1e6)) === false) {
            break;
        }
        foreach ($open as $label => $r) {
            $chunk = fread($r['pipe'], 4096);
            if (is_string($chunk) && $chunk !== '') {
                $running[$label]['out'] .= $chunk;
            } elseif (feof($r['pipe'])) {
                unset($open[$label]);
            }
        }
        foreach ($open as $label => $r) {
            if (str_contains($running[$label]['out'], "\n")) {
                unset($open[$label]);
            }
        }
    }
    foreach ($running as $label => $r) {
        fclose($r['pipe']);
        proc_close($r['process']); // setsid itself: it exited right after forking the probe
        $answer = strtok($r['out'], "\n");
        $answer = $answer === false ? '' : $answer;
        $mount = $volumes[$label]['mount'];
        if ($answer === 'ok') {
            continue;
        }
        if (isset($open[$label])) {
            $problems[$label] = sprintf('no answer within %gs (mount hung?)', $timeout);
        } elseif (preg_match('/^busy ([0-9]+)$/', $answer, $m) === 1) {
            $problems[$label] = sprintf('a probe started %ds ago has not finished (mount hung?)', max(0, time() - (int) $m[1]));
        } elseif (str_starts_with($answer, 'fail ')) {
            $problems[$label] = oneLine(substr($answer, 5));
        } else {
            $problems[$label] = $answer === '' ? 'the probe ended without an answer' : 'the probe answered: ' . oneLine($answer);
        }
    }
    return $problems;
}

/** @return list<string> what is broken, one phrase each */
function problems(): array
{
    $volumes = [];
    foreach (['config', 'data'] as $label) {
        $upper = strtoupper($label);
        $volumes[$label] = [
            'mount' => absolutePath("PAS_HEALTH_{$upper}_MOUNT"),
            'dirs' => words("PAS_HEALTH_{$upper}_DIRS", '~^[A-Za-z0-9_-][A-Za-z0-9._-]*$~'),
        ];
    }
    $localPaths = words('PAS_HEALTH_LOCAL', ABSOLUTE_PATH);
    $runDir = absolutePath('PAS_HEALTH_RUN_DIR');
    $timeoutText = setting('PAS_HEALTH_TIMEOUT', '3');
    if (preg_match('/^[0-9]{1,2}(\.[0-9]{1,3})?$/', $timeoutText) !== 1 || (float) $timeoutText < 0.1) {
        throw new Misconfigured("PAS_HEALTH_TIMEOUT must be seconds between 0.1 and 99, got '$timeoutText'");
    }
    $mountinfoPath = absolutePath('PAS_HEALTH_MOUNTINFO', '/proc/self/mountinfo');
    $node = setting('PAS_HEALTH_NODE', (string) gethostname());
    if (preg_match('/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/', $node) !== 1) {
        throw new Misconfigured("the node name '$node' cannot name a probe file");
    }

    $problems = [];
    foreach ($localPaths as $path) {
        if (!file_exists($path)) {
            $problems[] = "$path is missing";
        } elseif (is_dir($path) ? !is_writable($path) : !is_readable($path)) {
            $problems[] = sprintf('%s is not %s by %s', $path, is_dir($path) ? 'writable' : 'readable', currentUser());
        }
    }
    if (!is_dir($runDir) || !is_writable($runDir)) {
        $problems[] = "$runDir is missing or not writable (re-run pydio-configure-app; systemd-tmpfiles creates it at boot)";
    }
    $mountinfo = @file_get_contents($mountinfoPath);
    if ($mountinfo === false) {
        throw new Misconfigured("cannot read $mountinfoPath");
    }
    $toProbe = [];
    foreach ($volumes as $label => $volume) {
        $type = mountedType($mountinfo, $volume['mount']);
        if ($type === null) {
            $problems[] = "$label volume {$volume['mount']}: not mounted";
        } elseif ($type !== FUSE_TYPE) {
            $problems[] = "$label volume {$volume['mount']}: mounted as $type, not " . FUSE_TYPE;
        } else {
            $toProbe[$label] = $volume;
        }
    }
    if ($toProbe !== [] && is_dir($runDir)) {
        foreach (probeVolumes($toProbe, $node, $runDir, (float) $timeoutText) as $label => $problem) {
            $problems[] = "$label volume {$volumes[$label]['mount']}: $problem";
        }
    }
    return $problems;
}

function currentUser(): string
{
    if (function_exists('posix_geteuid') && function_exists('posix_getpwuid')) {
        $entry = posix_getpwuid(posix_geteuid());
        if (is_array($entry)) {
            return $entry['name'];
        }
    }
    return 'uid ' . getmyuid();
}

header('Content-Type: text/plain; charset=utf-8');
header('Cache-Control: no-store');
try {
    $problems = problems();
} catch (Misconfigured $e) {
    $problems = ['health check misconfigured: ' . $e->getMessage()];
} catch (Throwable $e) {
    $problems = ['health check error: ' . oneLine($e->getMessage())];
}
if ($problems === []) {
    echo "OK\n";
} else {
    http_response_code(503);
    echo 'UNHEALTHY: ', oneLine(implode('; ', $problems), 1000), "\n";
}
if (PHP_SAPI === 'cli') {
    // By hand (`sudo -u www-data php check.php` with the site's PAS_HEALTH_* set): the status as exit code.
    exit($problems === [] ? 0 : 1);
}
PHP
)
log "$HEALTH_DIR/check.php: $result"

result=$(write_if_changed "$HEALTH_DIR/probe.sh" 755 <<'PROBE'
#!/usr/bin/env bash
# Managed by pydio-autoscaler (install-health-check.sh): rewritten on every run.
# probe.sh <label> <mount> <node> <run-dir> <seconds> [dir...]
# One volume's probe for check.php, which starts it detached and stops listening after
# <seconds>. Prints ONE line: "ok", "fail <what is broken>", or "busy <epoch>" when another
# probe of this volume has held the lock since <epoch> for <seconds> or more (a hung mount:
# this probe then touches nothing). Runs as the web user.
set -o nounset -o pipefail
fail() { printf 'fail %s\n' "${*//$'\n'/ }"; exit 1; }
(($# >= 5)) || fail "probe.sh needs <label> <mount> <node> <run-dir> <seconds> [dir...], got $#"
label=$1 mount=$2 node=$3 run_dir=$4 seconds=$5
shift 5
# Keep nothing of the web server's (listening sockets, logs) while this may block on a volume
# (255 is bash's own copy of this script).
for fd in "/proc/$$/fd/"*; do
  fd=${fd##*/}
  if ((fd > 2 && fd != 255)); then exec {fd}>&-; fi
done
lock=$run_dir/$label.lock
{ exec 9<>"$lock"; } 2>/dev/null || fail "cannot open the lock $lock"
if ! flock -n 9; then
  since=''
  read -r since <"$lock" || true
  now=$(date +%s)
  # A recent holder is a concurrent check (several load balancer nodes check each target): wait for it.
  if [[ ! $since =~ ^[0-9]+$ ]] || ((now - since < ${seconds%.*})); then
    flock -w "$seconds" 9 || since=${since:-$now}
  fi
  if ! flock -n 9; then
    printf 'busy %s\n' "$since"
    exit 3
  fi
fi
date +%s >"$lock"
out=$(stat -c %i -- "$mount/" 2>&1) || fail "$out"
for dir in "$@"; do
  [[ -d $mount/$dir ]] || fail "$mount/$dir is missing"
  [[ -w $mount/$dir ]] || fail "$mount/$dir is not writable by $(id -un)"
done
probe_dir=$mount/.pydio-autoscaler/health
[[ -d $probe_dir && -w $probe_dir ]] || fail "$probe_dir is missing or not writable by $(id -un)"
file=$probe_dir/$node
token="$node $$ $(date +%s%N)"
# fsync: the write reaches the bricks, not only the client's write-behind cache.
out=$(printf '%s\n' "$token" | dd of="$file" conv=fsync status=none 2>&1) || fail "cannot write $file: $out"
read -r back <"$file" 2>/dev/null || fail "cannot read $file back"
[[ $back == "$token" ]] || fail "$file read back differs from what was written"
echo ok
PROBE
)
log "$HEALTH_DIR/probe.sh: $result"

step=run-dir
# Locks live on the node (never on a volume that may hang), in a tmpfs that systemd-tmpfiles
# recreates at boot for the web user.
mkdir -p "$HEALTH_RUN_DIR"
chown "$web_uid:$web_gid" "$HEALTH_RUN_DIR"
chmod 0700 "$HEALTH_RUN_DIR"
mkdir -p "$TMPFILES_DIR"
result=$(write_if_changed "$TMPFILES_DIR/$MANAGED-health.conf" 644 <<EOF
# Managed by $MANAGED (install-health-check.sh): the health check probes' locks.
d $HEALTH_RUN_DIR 0700 $web_user $web_user -
EOF
)
log "$TMPFILES_DIR/$MANAGED-health.conf: $result"
step=end
log "health check installed in $HEALTH_DIR (locks in $HEALTH_RUN_DIR)"
