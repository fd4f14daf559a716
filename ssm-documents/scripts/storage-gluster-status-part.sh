#!/usr/bin/env bash
set -o errexit -o nounset -o pipefail
# storage-gluster-status-part: one part step of storage-gluster-status.
#
# Inputs (SSM parameters, interpolationType ENV_VAR):
#   SSM_ReadId  the read whose framed bundle storage-gluster-status.sh kept
#
# Run Command keeps the first 24,000 characters of each step's stdout. When the
# framed bundle is longer than one part, the first step keeps it in
# $GLUSTER_STATUS_DIR/<ReadId> with the offset of the next part in <ReadId>.next;
# each part step prints the next PART_CHARS characters and moves the offset on, so
# the document's part steps, run in order, print the rest. When nothing is left
# (or the bundle fitted one part) a part step prints nothing. The last part
# removes the files. The product joins the steps' outputs in order
# (lib/core/storage/status-frame.ts).

step=validate
log() { printf 'storage-gluster-status-part[%s]: %s\n' "$step" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
read_id=${SSM_ReadId:-manual}
[[ $read_id =~ ^[A-Za-z0-9-]{1,64}$ ]] || die "SSM_ReadId must be 1 to 64 letters, digits or '-', got '$read_id'"
# As in storage-gluster-status.sh.
PART_CHARS=20000
STATUS_DIR=${GLUSTER_STATUS_DIR:-/run/pydio-autoscaler/gluster-status}
framed=$STATUS_DIR/$read_id

step=print
[[ -f $framed.next ]] || exit 0
offset=$(<"$framed.next")
[[ $offset =~ ^[0-9]{1,9}$ ]] || die "$framed.next holds '$offset', not an offset"
[[ -f $framed ]] || die "$framed is gone while $framed.next says part at $offset is still to print"
size=$(wc -c <"$framed")
dd if="$framed" iflag=skip_bytes,count_bytes skip="$offset" count="$PART_CHARS" status=none
next=$((offset + PART_CHARS))
if ((next >= size)); then
  rm -f "$framed" "$framed.next"
  log "printed the last part (characters $offset to $size)"
else
  printf '%s\n' "$next" >"$framed.next"
  log "printed characters $offset to $next of $size"
fi
