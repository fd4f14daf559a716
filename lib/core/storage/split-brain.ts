/** `gluster --xml volume heal <vol> info split-brain`: the entries in split-brain, per brick, with their paths. */
import { MalformedEventError, StepFailedError } from '../../errors';
import { childrenNamed, child, intOf, optionalChild, parseXml, textOf } from './xml';

/**
 * glfsheal (heal/src/glfs-heal.c, glusterfs 10.3) writes, per brick, one
 * `<file gfid="...">path</file>` per entry, the path when the brick can
 * resolve it and `<gfid:...>` when not, then `<status>` and
 * `<numberOfEntries>`; a brick it cannot ask has a free-text status and
 * `numberOfEntries` "-" or none. The same file is usually listed by every
 * brick of its replica set, one of them by gfid only
 * (fixtures/heal-info-split-brain.xml).
 *
 * storage-gluster-status.sh keeps at most SPLIT_BRAIN_FILES_PER_BRICK
 * `<file>` elements per brick (a split-brain of thousands of files would not
 * fit the document's output); `numberOfEntries` still counts them all.
 */

/** The script's SPLIT_BRAIN_FILES (test/unit/core/storage/split-brain.test.ts holds them equal). */
export const SPLIT_BRAIN_FILES_PER_BRICK = 50;

export interface SplitBrainFile {
  readonly gfid: string;
  /** The path in the volume, or `<gfid:...>` when the brick could not resolve it. */
  readonly path: string;
}

export interface SplitBrainBrick {
  readonly host: string;
  readonly path: string;
  /** The brick answered (status Connected and a count). */
  readonly connected: boolean;
  readonly status: string;
  /** Entries in split-brain on this brick (all of them, listed or not); 0 when it did not answer. */
  readonly entries: number;
  /** The ones listed (at most SPLIT_BRAIN_FILES_PER_BRICK). */
  readonly files: readonly SplitBrainFile[];
}

export interface SplitBrainInfo {
  readonly bricks: readonly SplitBrainBrick[];
}

const GFID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseHealInfoSplitBrain(xml: string): SplitBrainInfo {
  const what = 'gluster volume heal info split-brain';
  const doc = parseXml(xml, what);
  if (doc.name !== 'cliOutput') throw new MalformedEventError(`${what}: root element is <${doc.name}>, expected <cliOutput>`);
  const opRet = intOf(doc, 'opRet', what);
  if (opRet !== 0) {
    const message = optionalChild(doc, 'opErrstr', what)?.text.trim() || `opRet ${opRet}`;
    throw new StepFailedError(what, `gluster refused: ${message}`);
  }
  const bricks = childrenNamed(child(child(doc, 'healInfo', what), 'bricks', what), 'brick').map((brick): SplitBrainBrick => {
    const name = textOf(brick, 'name', what);
    const at = name.indexOf(':/');
    if (at <= 0) throw new MalformedEventError(`${what}: brick ${JSON.stringify(name)} is not host:/path`);
    const status = textOf(brick, 'status', what);
    const count = optionalChild(brick, 'numberOfEntries', what)?.text.trim();
    const connected = status === 'Connected' && count !== undefined && /^[0-9]+$/.test(count);
    const files = childrenNamed(brick, 'file').map((file): SplitBrainFile => {
      const gfid = file.attributes.gfid ?? '';
      if (!GFID.test(gfid)) throw new MalformedEventError(`${what}: a <file> of ${name} has no gfid attribute (got ${JSON.stringify(gfid)})`);
      const path = file.text;
      if (path === '') throw new MalformedEventError(`${what}: the <file> ${gfid} of ${name} names no path`);
      return { gfid, path };
    });
    const entries = connected ? Number(count) : 0;
    if (connected && files.length > entries) throw new MalformedEventError(`${what}: ${name} lists ${files.length} files but counts ${entries}`);
    return { host: name.slice(0, at), path: name.slice(at + 1), connected, status, entries, files };
  });
  return { bricks };
}

/**
 * The distinct files of a volume's split-brain listing: one per gfid, its
 * path where any brick resolved it (else `<gfid:...>`), sorted by path.
 */
export function splitBrainFiles(info: SplitBrainInfo): SplitBrainFile[] {
  const byGfid = new Map<string, string>();
  for (const brick of info.bricks) {
    for (const file of brick.files) {
      const known = byGfid.get(file.gfid);
      if (known === undefined || (known.startsWith('<gfid:') && !file.path.startsWith('<gfid:'))) byGfid.set(file.gfid, file.path);
    }
  }
  return [...byGfid.entries()].map(([gfid, path]) => ({ gfid, path })).sort((a, b) => a.path.localeCompare(b.path));
}
