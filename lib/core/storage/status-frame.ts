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
 */

/** GetCommandInvocation's StandardOutputContent: the first 24,000 characters of stdout. */
export const SSM_STDOUT_LIMIT = 24_000;

/** The last line of every plain bundle. */
export const BUNDLE_END = '### gluster-status end ###';

const FRAME_HEADER = /^### gluster-status-bundle encoding=gzip\+base64 bytes=([0-9]{1,10}) sha256=([0-9a-f]{64}) ###$/;
const FRAME_END = '### gluster-status-bundle end ###';
const WHAT = 'storage-gluster-status output';

function cut(stdout: string, missing: string): MalformedEventError {
  const atLimit = stdout.length >= SSM_STDOUT_LIMIT;
  return new MalformedEventError(
    `${WHAT}: ${missing}${atLimit ? `: the output was cut at Run Command's ${SSM_STDOUT_LIMIT.toLocaleString('en')}-character stdout limit (the cluster's status no longer fits one read)` : ' (output incomplete)'}`,
  );
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
    if (!lines.some((line) => line.trim() === BUNDLE_END)) throw cut(stdout, `no end marker "${BUNDLE_END}"`);
    return stdout;
  }
  if (lines[2]?.trim() !== FRAME_END) throw cut(stdout, `no "${FRAME_END}" line after the encoded bundle`);
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
