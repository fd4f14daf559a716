import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { MalformedEventError } from '../../errors';

/**
 * The frame around storage-gluster-status.sh's output. Run Command keeps only
 * "the first 24,000 characters written by the plugin to stdout"
 * (GetCommandInvocation, StandardOutputContent); Gluster's XML for two volumes
 * grows by about 4 KB per replica set, so the plain bundle is cut near the
 * fourth set. The script therefore prints the bundle gzip-compressed and
 * base64-encoded on one line between a header (raw size, SHA-256) and an end
 * line, and every bundle ends with its own end marker: output that was cut is
 * recognised and refused by name, never parsed as a smaller cluster.
 *
 * That limit holds per step, so the framed text is printed in parts of
 * STATUS_PART_CHARS: the document's first step prints the first part, each
 * part step the next one (storage-gluster-status-part.sh). The reader joins
 * the steps' outputs in order while the frame goes on (continuesInNextPart).
 */

/** GetCommandInvocation's StandardOutputContent: the first 24,000 characters of stdout. */
export const SSM_STDOUT_LIMIT = 24_000;

/** What one step of storage-gluster-status prints at most of the framed text (both scripts' PART_CHARS). */
export const STATUS_PART_CHARS = 20_000;

/** storage-gluster-status's steps, in the order their parts join. */
export const STATUS_STEPS = ['glusterStatus', 'part1', 'part2', 'part3', 'part4', 'part5', 'part6', 'part7'] as const;

/** The longest framed text the document can print. */
export const STATUS_MAX_CHARS = STATUS_PART_CHARS * STATUS_STEPS.length;

/** The last line of every plain bundle. */
export const BUNDLE_END = '### gluster-status end ###';

const FRAME_HEADER = /^### gluster-status-bundle encoding=gzip\+base64 bytes=([0-9]{1,10}) sha256=([0-9a-f]{64}) ###$/;
const FRAME_END = '### gluster-status-bundle end ###';
const WHAT = 'storage-gluster-status output';

function cut(stdout: string, missing: string, framed: boolean): MalformedEventError {
  const why = framed
    ? stdout.length >= STATUS_MAX_CHARS
      ? `: the encoded bundle is longer than the document's ${STATUS_STEPS.length} parts of ${STATUS_PART_CHARS.toLocaleString('en')} characters (the cluster's status no longer fits one read)`
      : ' (output incomplete: a part is missing or was cut)'
    : stdout.length >= SSM_STDOUT_LIMIT
      ? `: the output was cut at Run Command's ${SSM_STDOUT_LIMIT.toLocaleString('en')}-character stdout limit (the cluster's status no longer fits one read)`
      : ' (output incomplete)';
  return new MalformedEventError(`${WHAT}: ${missing}${why}`);
}

/**
 * Whether `read`, the parts read so far joined in step order, is a framed
 * bundle that goes on in the next step: its end line is not there yet and the
 * last part was a whole one.
 */
export function continuesInNextPart(read: string): boolean {
  if (read.length === 0 || read.length % STATUS_PART_CHARS !== 0) return false;
  const newline = read.indexOf('\n');
  if (!FRAME_HEADER.test((newline < 0 ? read : read.slice(0, newline)).trim())) return false;
  return !read.split('\n').some((line) => line.trim() === FRAME_END);
}

/**
 * The plain bundle (marker lines and XML) from the script's stdout, framed or
 * plain, always holding its end marker BUNDLE_END: output cut by SSM, or a
 * bundle the script did not finish writing, is refused here.
 */
export function unframeStatus(stdout: string): string {
  const lines = stdout.split('\n');
  const header = FRAME_HEADER.exec(lines[0]?.trim() ?? '');
  if (!header) {
    if (!lines.some((line) => line.trim() === BUNDLE_END)) throw cut(stdout, `no end marker "${BUNDLE_END}"`, false);
    return stdout;
  }
  if (lines[2]?.trim() !== FRAME_END) throw cut(stdout, `no "${FRAME_END}" line after the encoded bundle`, true);
  let plain: Buffer;
  try {
    plain = gunzipSync(Buffer.from(lines[1]?.trim() ?? '', 'base64'));
  } catch (error) {
    throw new MalformedEventError(`${WHAT}: the encoded bundle does not decompress: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const [, bytes, sha256] = header;
  const digest = createHash('sha256').update(plain).digest('hex');
  if (plain.length !== Number(bytes) || digest !== sha256) {
    throw new MalformedEventError(`${WHAT}: the decoded bundle is ${plain.length} bytes with SHA-256 ${digest}, the header says ${bytes} bytes, ${sha256}`);
  }
  const text = plain.toString('utf8');
  if (!text.split('\n').some((line) => line.trim() === BUNDLE_END)) {
    throw new MalformedEventError(`${WHAT}: the decoded bundle has no end marker "${BUNDLE_END}" (the script did not finish writing it)`);
  }
  return text;
}
