#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# storage-gluster-status: everything the storage planner reads, from one member.
#
# Inputs (SSM parameters, interpolationType ENV_VAR):
#   SSM_Volumes   comma-separated Gluster volume names
#   SSM_Encoding  gzip-base64 (what the product reads) or plain (for a person)
#   SSM_ReadId    names this read's file for the part steps (storage-gluster-status-part.sh)
#
# The bundle: XML documents of `gluster --mode=script --xml ...`, each after a
# marker line `### gluster-status <section> [<volume>] rc=<exit> ###` (parsed by
# lib/core/storage/gluster-parse.ts parseStatusBundle): pool-list, volume-info, then
# per started volume volume-status-detail, rebalance-status, heal-info-summary, and
# heal-info-split-brain when that summary counts split-brain entries (the files in
# split-brain with their paths, at most SPLIT_BRAIN_FILES per brick: the
# numberOfEntries of each brick still counts them all; nothing is resolved);
# last the line `### gluster-status end ###`, so a bundle that was cut shows it.
# Volumes that do not exist (yet) or are not started get no per-volume sections.
# Run Command keeps only the first 24,000 characters of stdout, which the plain
# bundle passes near four replica sets: gzip-base64 prints a header line with the
# bundle's size and SHA-256, the gzip-compressed bundle base64-encoded on one
# line, and `### gluster-status-bundle end ###` (lib/core/storage/status-frame.ts).
# That limit is per step, so the framed text is printed in parts of PART_CHARS: this
# step prints the first and keeps the rest in $GLUSTER_STATUS_DIR/<ReadId> for the
# document's part steps, which print one part each, in order (about 48 replica sets a
# part; the document has 8 steps).
# Read-only for Gluster. Exit 0 unless glusterd does not answer.

step=validate
log() { printf 'storage-gluster-status[%s]: %s\n' "$step" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
VOLUME_RE='^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'
[[ -n ${SSM_Volumes+set} ]] || die "SSM_Volumes is not set (parameter Volumes missing)"
[[ -n $SSM_Volumes && $SSM_Volumes != *, && $SSM_Volumes != ,* ]] || die "SSM_Volumes must be a comma-separated list of volume names, got '$SSM_Volumes'"
volumes=()
IFS=',' read -r -a volumes <<<"$SSM_Volumes"
for v in "${volumes[@]}"; do
  [[ $v =~ $VOLUME_RE ]] || die "SSM_Volumes has a bad volume name '$v'"
done
encoding=${SSM_Encoding:-gzip-base64}
[[ $encoding == gzip-base64 || $encoding == plain ]] || die "SSM_Encoding must be gzip-base64 or plain, got '$encoding'"
read_id=${SSM_ReadId:-manual}
[[ $read_id =~ ^[A-Za-z0-9-]{1,64}$ ]] || die "SSM_ReadId must be 1 to 64 letters, digits or '-', got '$read_id'"
# Each step's stdout is kept up to 24,000 characters; a part stays well under it.
PART_CHARS=20000
# SPLIT_BRAIN_FILES_PER_BRICK of lib/core/storage/split-brain.ts (a unit test holds them equal).
SPLIT_BRAIN_FILES=50
STATUS_DIR=${GLUSTER_STATUS_DIR:-/run/pydio-autoscaler/gluster-status}

# section <name> [<volume>] -- <gluster args...>: marker, then the XML (whatever the exit status).
section() {
  local name=$1 volume='' out rc
  shift
  if [[ $1 != -- ]]; then volume=" $1"; shift; fi
  shift
  set +o errexit
  out=$(gluster --mode=script --xml "$@" 2>/dev/null)
  rc=$?
  set -o errexit
  if [[ $name == heal-info-split-brain ]]; then out=$(first_files <<<"$out"); fi
  printf '### gluster-status %s%s rc=%s ###\n%s\n' "$name" "$volume" "$rc" "$out"
  return "$rc"
}

# first_files: the heal info split-brain XML with at most SPLIT_BRAIN_FILES <file> elements
# per brick. glfsheal writes each <file> from its own line; a path's newline would continue it,
# and a path cannot hold a literal </file> (the XML writer escapes it), so an element dropped
# is every line from its start to the line that closes it.
first_files() {
  awk -v max="$SPLIT_BRAIN_FILES" '
    /<brick[ >]/ { n = 0 }
    !skip && /^[[:space:]]*<file[ >]/ {
      n++
      if (n > max) {
        if (index($0, "</file>") == 0 && $0 !~ /\/>[[:space:]]*$/) skip = 1
        next
      }
    }
    skip { if (index($0, "</file>") > 0) skip = 0; next }
    { print }'
}

bundle=$(mktemp)
trap 'rm -f "$bundle"' EXIT
{
  step=pool
  section pool-list -- pool list || die "gluster pool list failed: is glusterd running?"
  step=volumes
  section volume-info -- volume info || true
  for v in "${volumes[@]}"; do
    step=$v
    info=$(gluster --mode=script volume info "$v" 2>/dev/null) || info=''
    if ! grep -q '^Status: Started' <<<"$info"; then
      log "volume $v does not exist or is not started: no status sections"
      continue
    fi
    section volume-status-detail "$v" -- volume status "$v" detail || true
    section rebalance-status "$v" -- volume rebalance "$v" status || true
    summary=$(section heal-info-summary "$v" -- volume heal "$v" info summary) || true
    printf '%s\n' "$summary"
    if grep -Eq '<numberOfEntriesInSplitBrain>[1-9]' <<<"$summary"; then
      log "volume $v has entries in split-brain: listing them (reported, never resolved here)"
      section heal-info-split-brain "$v" -- volume heal "$v" info split-brain || true
    fi
  done
  printf '### gluster-status end ###\n'
} >"$bundle"

step=print
if [[ $encoding == plain ]]; then
  cat "$bundle"
  exit 0
fi
bytes=$(wc -c <"$bundle")
sha=$(sha256sum "$bundle")
mkdir -p "$STATUS_DIR"
chmod 0700 "$STATUS_DIR"
# Parts of reads whose part steps never ran (the command was cancelled or timed out).
find "$STATUS_DIR" -maxdepth 1 -type f -mmin +60 -delete
framed=$STATUS_DIR/$read_id
{
  printf '### gluster-status-bundle encoding=gzip+base64 bytes=%s sha256=%s ###\n' "$bytes" "${sha%% *}"
  gzip -9 -n -c "$bundle" | base64 -w 0
  printf '\n### gluster-status-bundle end ###\n'
} >"$framed"
size=$(wc -c <"$framed")
dd if="$framed" iflag=count_bytes count="$PART_CHARS" status=none
if ((size > PART_CHARS)); then
  printf '%s\n' "$PART_CHARS" >"$framed.next"
  log "bundle of $bytes bytes printed gzip-compressed: part 1 of $(((size + PART_CHARS - 1) / PART_CHARS)), the rest in $framed for the part steps"
else
  rm -f "$framed"
  log "bundle of $bytes bytes printed gzip-compressed"
fi
