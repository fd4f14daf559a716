import { parseHealInfoSplitBrain, type SplitBrainInfo } from './split-brain';
import { BUNDLE_END, unframeStatus } from './status-frame';
import { MalformedEventError, StepFailedError } from '../../errors';
import { childrenNamed, child, intOf, numberOf, optionalChild, parseXml, textOf, type XmlElement } from './xml';

/**
 * Parsers for `gluster --mode=script --xml ...` output into typed data. Pure:
 * text in, values out. Malformed output raises MalformedEventError naming the
 * command; a command Gluster itself refused (opRet != 0) raises
 * StepFailedError with Gluster's own message (`opErrstr`), except where the
 * refusal IS the answer (a rebalance that never ran is "none").
 *
 * Shapes verified against genuine glusterfs 10.3 output in
 * test/unit/core/storage/fixtures (see its README).
 */

/** A peer as `peer status` or `pool list` reports it. */
export interface PeerInfo {
  readonly uuid: string;
  /** The name it was probed with (an IP in this deployment); `localhost` for the node asked. */
  readonly hostname: string;
  readonly hostnames: readonly string[];
  readonly connected: boolean;
  /** Gluster's state text, e.g. "Peer in Cluster"; empty for the local node of `pool list`. */
  readonly state: string;
  readonly isLocal: boolean;
}

export interface VolumeBrickInfo {
  readonly host: string;
  readonly path: string;
  readonly hostUuid: string;
  readonly isArbiter: boolean;
}

export interface VolumeInfo {
  readonly name: string;
  readonly id: string;
  /** Created, Started or Stopped. */
  readonly status: string;
  readonly type: string;
  readonly brickCount: number;
  readonly replicaCount: number;
  readonly distCount: number;
  readonly arbiterCount: number;
  readonly disperseCount: number;
  /** In Gluster's order: replica sets are consecutive groups of replicaCount. */
  readonly bricks: readonly VolumeBrickInfo[];
  readonly options: Readonly<Record<string, string>>;
}

/** One brick of `volume status <vol> detail`. */
export interface BrickStatus {
  readonly host: string;
  readonly path: string;
  readonly peerId: string;
  readonly online: boolean;
  readonly pid: number;
  readonly port: number | undefined;
  /** Bytes of the file system holding the brick. */
  readonly sizeTotal: number;
  readonly sizeFree: number;
  readonly device: string;
  readonly fsName: string;
}

export interface VolumeStatusDetail {
  readonly volume: string;
  /** Only bricks whose node answered: a brick of a dead peer is missing here. */
  readonly bricks: readonly BrickStatus[];
}

export type TaskState = 'none' | 'in-progress' | 'completed' | 'stopped' | 'failed';

export interface TaskNodeStatus {
  readonly node: string;
  readonly state: TaskState;
  readonly statusText: string;
  readonly files: number;
  readonly size: number;
  readonly lookups: number;
  readonly failures: number;
  readonly skipped: number;
  readonly runtimeSeconds: number;
}

/** A rebalance or remove-brick migration, per node and in aggregate. */
export interface TaskStatus {
  readonly state: TaskState;
  /** Gluster's words for the overall state, or why there is none. */
  readonly statusText: string;
  readonly taskId?: string;
  readonly nodes: readonly TaskNodeStatus[];
  readonly files: number;
  readonly size: number;
  readonly failures: number;
  readonly runtimeSeconds: number;
}

export interface HealBrick {
  readonly host: string;
  readonly path: string;
  /** False when the brick could not be asked (its counts are then unknown). */
  readonly connected: boolean;
  readonly status: string;
  readonly total: number;
  readonly healPending: number;
  readonly splitBrain: number;
  readonly possiblyHealing: number;
}

export interface HealSummary {
  readonly bricks: readonly HealBrick[];
  /** Entries still to heal on the bricks that answered (pending + split-brain + possibly healing). */
  readonly pending: number;
  readonly splitBrain: number;
  /** Bricks that could not report: heal state unknown there. */
  readonly unreachable: number;
  /** Set when heal info could not run at all (its own words): the heal state of every brick is unknown. */
  readonly unavailable?: string;
}

export interface CommandResult {
  readonly ok: boolean;
  readonly errno: number;
  readonly message: string;
}

/** `host:/path` into its parts; refuses anything else. */
export function splitBrick(text: string, what: string): { host: string; path: string } {
  const at = text.indexOf(':/');
  if (at <= 0) throw new MalformedEventError(`${what}: brick ${JSON.stringify(text)} is not host:/path`);
  return { host: text.slice(0, at), path: text.slice(at + 1) };
}

function root(xml: string, what: string): XmlElement {
  const doc = parseXml(xml, what);
  if (doc.name !== 'cliOutput') throw new MalformedEventError(`${what}: root element is <${doc.name}>, expected <cliOutput>`);
  return doc;
}

/** opRet/opErrno/opErrstr of any command. */
export function parseCommandResult(xml: string, what = 'gluster command'): CommandResult {
  const doc = root(xml, what);
  const opRet = intOf(doc, 'opRet', what);
  const errno = optionalChild(doc, 'opErrno', what) ? intOf(doc, 'opErrno', what) : 0;
  const errstr = optionalChild(doc, 'opErrstr', what)?.text.trim() ?? '';
  const output = optionalChild(doc, 'output', what)?.text.trim() ?? '';
  return { ok: opRet === 0, errno, message: errstr || output };
}

function requireOk(doc: XmlElement, what: string): void {
  const opRet = intOf(doc, 'opRet', what);
  if (opRet !== 0) {
    const message = optionalChild(doc, 'opErrstr', what)?.text.trim() || optionalChild(doc, 'output', what)?.text.trim() || `opRet ${opRet}`;
    throw new StepFailedError(what, `gluster refused: ${message}`);
  }
}

function parsePeers(xml: string, what: string): PeerInfo[] {
  const doc = root(xml, what);
  requireOk(doc, what);
  const list = child(doc, 'peerStatus', what);
  return childrenNamed(list, 'peer').map((peer) => {
    const hostname = textOf(peer, 'hostname', what);
    const names = optionalChild(peer, 'hostnames', what);
    const connected = intOf(peer, 'connected', what);
    if (connected !== 0 && connected !== 1) throw new MalformedEventError(`${what}: <connected> is ${connected}, expected 0 or 1`);
    return {
      uuid: textOf(peer, 'uuid', what),
      hostname,
      hostnames: names ? childrenNamed(names, 'hostname').map((h) => h.text.trim()) : [hostname],
      connected: connected === 1,
      state: optionalChild(peer, 'stateStr', what)?.text.trim() ?? '',
      isLocal: hostname === 'localhost' && !optionalChild(peer, 'stateStr', what),
    };
  });
}

/** `gluster --xml peer status`: the other peers (never the local node). */
export function parsePeerStatus(xml: string): PeerInfo[] {
  return parsePeers(xml, 'gluster peer status');
}

/** `gluster --xml pool list`: every node of the pool, the local one as `localhost`. */
export function parsePoolList(xml: string): PeerInfo[] {
  return parsePeers(xml, 'gluster pool list');
}

/** A peer counts as a full member once it is "Peer in Cluster" and connected. */
export function isPeerInCluster(peer: PeerInfo): boolean {
  return peer.connected && (peer.isLocal || peer.state === 'Peer in Cluster');
}

/** `gluster --xml volume info [vol]`. A missing volume raises StepFailedError ("Volume does not exist"). */
export function parseVolumeInfo(xml: string): VolumeInfo[] {
  const what = 'gluster volume info';
  const doc = root(xml, what);
  requireOk(doc, what);
  const volumes = child(child(doc, 'volInfo', what), 'volumes', what);
  const list = childrenNamed(volumes, 'volume').map((vol): VolumeInfo => {
    const name = textOf(vol, 'name', what);
    const where = `${what} (${name})`;
    const bricks = childrenNamed(child(vol, 'bricks', where), 'brick').map((brick) => {
      const named = optionalChild(brick, 'name', where);
      const full = named ? named.text.trim() : brick.text.trim();
      const arbiter = optionalChild(brick, 'isArbiter', where);
      return {
        ...splitBrick(full, where),
        hostUuid: optionalChild(brick, 'hostUuid', where)?.text.trim() ?? brick.attributes.uuid ?? '',
        isArbiter: arbiter ? arbiter.text.trim() === '1' : false,
      };
    });
    const options: Record<string, string> = {};
    const opts = optionalChild(vol, 'options', where);
    for (const option of opts ? childrenNamed(opts, 'option') : []) {
      options[textOf(option, 'name', where)] = textOf(option, 'value', where);
    }
    const brickCount = intOf(vol, 'brickCount', where);
    if (brickCount !== bricks.length) {
      throw new MalformedEventError(`${where}: brickCount says ${brickCount} but ${bricks.length} bricks are listed`);
    }
    const replicaCount = intOf(vol, 'replicaCount', where);
    if (replicaCount < 1) throw new MalformedEventError(`${where}: replicaCount is ${replicaCount}`);
    return {
      name,
      id: textOf(vol, 'id', where),
      status: textOf(vol, 'statusStr', where),
      type: textOf(vol, 'typeStr', where),
      brickCount,
      replicaCount,
      distCount: intOf(vol, 'distCount', where),
      arbiterCount: optionalChild(vol, 'arbiterCount', where) ? intOf(vol, 'arbiterCount', where) : 0,
      disperseCount: optionalChild(vol, 'disperseCount', where) ? intOf(vol, 'disperseCount', where) : 0,
      bricks,
      options,
    };
  });
  const count = optionalChild(volumes, 'count', what);
  if (count && Number(count.text.trim()) !== list.length) {
    throw new MalformedEventError(`${what}: count says ${count.text.trim()} but ${list.length} volumes are listed`);
  }
  return list;
}

/** `gluster --xml volume status <vol> detail`: brick processes with their file system sizes. */
export function parseVolumeStatusDetail(xml: string): VolumeStatusDetail {
  const what = 'gluster volume status detail';
  const doc = root(xml, what);
  requireOk(doc, what);
  const volumes = childrenNamed(child(child(doc, 'volStatus', what), 'volumes', what), 'volume');
  if (volumes.length !== 1) throw new MalformedEventError(`${what}: expected one volume, got ${volumes.length}`);
  const vol = volumes[0] as XmlElement;
  const volume = textOf(vol, 'volName', what);
  const bricks = childrenNamed(vol, 'node')
    // Daemons (self-heal, NFS) appear as nodes whose path is not a brick path.
    .filter((node) => textOf(node, 'path', what).startsWith('/'))
    .map((node): BrickStatus => {
      const status = intOf(node, 'status', what);
      const port = optionalChild(node, 'port', what)?.text.trim();
      const sizeTotal = intOf(node, 'sizeTotal', what);
      const sizeFree = intOf(node, 'sizeFree', what);
      if (sizeTotal < 0 || sizeFree < 0 || sizeFree > sizeTotal) {
        throw new MalformedEventError(`${what}: brick sizes out of range (total ${sizeTotal}, free ${sizeFree})`);
      }
      return {
        host: textOf(node, 'hostname', what),
        path: textOf(node, 'path', what),
        peerId: textOf(node, 'peerid', what),
        online: status === 1,
        pid: intOf(node, 'pid', what),
        port: port && /^[0-9]+$/.test(port) ? Number(port) : undefined,
        sizeTotal,
        sizeFree,
        device: optionalChild(node, 'device', what)?.text.trim() ?? '',
        fsName: optionalChild(node, 'fsName', what)?.text.trim() ?? '',
      };
    });
  return { volume, bricks };
}

/** gf_defrag_status_t: 0 not started, 1 started, 2 stopped, 3 complete, 4 failed, 5-8 the same for fix-layout. */
function taskState(code: number, what: string): TaskState {
  switch (code) {
    case 0: return 'none';
    case 1: case 5: return 'in-progress';
    case 2: case 6: return 'stopped';
    case 3: case 7: return 'completed';
    case 4: case 8: return 'failed';
    default: throw new MalformedEventError(`${what}: unknown task status code ${code}`);
  }
}

function parseTaskNode(node: XmlElement, name: string, what: string): TaskNodeStatus {
  return {
    node: name,
    state: taskState(intOf(node, 'status', what), what),
    statusText: textOf(node, 'statusStr', what),
    files: intOf(node, 'files', what),
    size: intOf(node, 'size', what),
    lookups: intOf(node, 'lookups', what),
    failures: intOf(node, 'failures', what),
    skipped: intOf(node, 'skipped', what),
    runtimeSeconds: numberOf(node, 'runtime', what),
  };
}

/** Overall state from the nodes: any failure wins, then any still running, then stopped; all done is completed. */
function overall(states: readonly TaskState[]): TaskState {
  if (states.length === 0) return 'none';
  for (const s of ['failed', 'in-progress', 'stopped'] as const) if (states.includes(s)) return s;
  return states.every((s) => s === 'completed') ? 'completed' : 'none';
}

function parseTask(xml: string, element: 'volRebalance' | 'volRemoveBrick', what: string): TaskStatus {
  const doc = root(xml, what);
  const result = parseCommandResult(xml, what);
  if (!result.ok) {
    // Gluster answers "not started" / "not a distribute volume" with an error: there is no task.
    if (/not started|not a distribute volume|no .*in progress|only 1 brick/i.test(result.message)) {
      return { state: 'none', statusText: result.message, nodes: [], files: 0, size: 0, failures: 0, runtimeSeconds: 0 };
    }
    throw new StepFailedError(what, `gluster refused: ${result.message || `errno ${result.errno}`}`);
  }
  const task = child(doc, element, what);
  const nodes = childrenNamed(task, 'node').map((node) => parseTaskNode(node, textOf(node, 'nodeName', what), what));
  const aggregate = optionalChild(task, 'aggregate', what);
  const agg = aggregate ? parseTaskNode(aggregate, 'aggregate', what) : undefined;
  const state = overall(nodes.map((n) => n.state));
  const taskId = optionalChild(task, 'task-id', what)?.text.trim();
  return {
    state,
    statusText: agg && agg.state === state ? agg.statusText : state,
    ...(taskId ? { taskId } : {}),
    nodes,
    files: agg?.files ?? nodes.reduce((sum, n) => sum + n.files, 0),
    size: agg?.size ?? nodes.reduce((sum, n) => sum + n.size, 0),
    failures: agg?.failures ?? nodes.reduce((sum, n) => sum + n.failures, 0),
    runtimeSeconds: agg?.runtimeSeconds ?? Math.max(0, ...nodes.map((n) => n.runtimeSeconds)),
  };
}

/** `gluster --xml volume rebalance <vol> status`. */
export function parseRebalanceStatus(xml: string): TaskStatus {
  return parseTask(xml, 'volRebalance', 'gluster volume rebalance status');
}

/** `gluster --xml volume remove-brick <vol> ... status`. */
export function parseRemoveBrickStatus(xml: string): TaskStatus {
  return parseTask(xml, 'volRemoveBrick', 'gluster volume remove-brick status');
}

/** `gluster --xml volume heal <vol> info summary`. */
export function parseHealInfoSummary(xml: string): HealSummary {
  const what = 'gluster volume heal info summary';
  const doc = root(xml, what);
  // Without server quorum the bricks are stopped and heal info cannot even load the volume
  // (fixtures/heal-info-summary-server-quorum-lost.xml): every brick's heal state is unknown.
  const result = parseCommandResult(xml, what);
  if (!result.ok && /Not able to fetch volfile/i.test(result.message)) return { bricks: [], pending: 0, splitBrain: 0, unreachable: 0, unavailable: result.message };
  requireOk(doc, what);
  const bricks = childrenNamed(child(child(doc, 'healInfo', what), 'bricks', what), 'brick').map((brick): HealBrick => {
    const status = textOf(brick, 'status', what);
    const counted = optionalChild(brick, 'totalNumberOfEntries', what) !== undefined;
    const connected = status === 'Connected' && counted;
    const count = (name: string) => (connected && optionalChild(brick, name, what) ? intOf(brick, name, what) : 0);
    return {
      ...splitBrick(textOf(brick, 'name', what), what),
      connected,
      status,
      total: count('totalNumberOfEntries'),
      healPending: count('numberOfEntriesInHealPending'),
      splitBrain: count('numberOfEntriesInSplitBrain'),
      possiblyHealing: count('numberOfEntriesPossiblyHealing'),
    };
  });
  return {
    bricks,
    pending: bricks.reduce((sum, b) => sum + b.healPending + b.splitBrain + b.possiblyHealing, 0),
    splitBrain: bricks.reduce((sum, b) => sum + b.splitBrain, 0),
    unreachable: bricks.filter((b) => !b.connected).length,
  };
}

/**
 * The output of storage-gluster-status.sh: XML documents, each after a marker
 * line `### gluster-status <section> [<volume>] rc=<n> ###`, then BUNDLE_END.
 */
export interface StatusBundle {
  readonly pool: readonly PeerInfo[];
  readonly volumes: readonly VolumeInfo[];
  readonly details: Readonly<Record<string, VolumeStatusDetail>>;
  readonly rebalance: Readonly<Record<string, TaskStatus>>;
  readonly heal: Readonly<Record<string, HealSummary>>;
  /** Only for volumes whose heal summary counted split-brain entries (the script lists them then). */
  readonly splitBrain: Readonly<Record<string, SplitBrainInfo>>;
}

export const STATUS_MARKER = /^### gluster-status ([a-z-]+)(?: ([A-Za-z0-9][A-Za-z0-9_-]{0,63}))? rc=([0-9]{1,3}) ###$/;

const SECTIONS = ['pool-list', 'volume-info', 'volume-status-detail', 'rebalance-status', 'heal-info-summary', 'heal-info-split-brain'] as const;
type Section = (typeof SECTIONS)[number];
const PER_VOLUME: readonly Section[] = ['volume-status-detail', 'rebalance-status', 'heal-info-summary', 'heal-info-split-brain'];

/**
 * Splits the status script's stdout (framed or plain: status-frame.ts) into
 * its documents and parses each. Nothing after the end marker is read.
 */
export function parseStatusBundle(stdout: string): StatusBundle {
  const what = 'storage-gluster-status output';
  const parts: Array<{ section: Section; volume?: string; lines: string[] }> = [];
  // unframeStatus refuses a bundle without its end marker.
  const all = unframeStatus(stdout).split('\n');
  for (const line of all.slice(0, all.findIndex((l) => l.trim() === BUNDLE_END))) {
    if (line.startsWith('### ')) {
      const m = STATUS_MARKER.exec(line);
      if (!m) throw new MalformedEventError(`${what}: bad marker line ${JSON.stringify(line)}`);
      const section = m[1] as Section;
      if (!SECTIONS.includes(section)) throw new MalformedEventError(`${what}: unknown section ${section}`);
      if (PER_VOLUME.includes(section) !== (m[2] !== undefined)) {
        throw new MalformedEventError(`${what}: section ${section} ${m[2] ? 'takes no volume' : 'needs a volume'}`);
      }
      parts.push({ section, ...(m[2] ? { volume: m[2] } : {}), lines: [] });
    } else if (parts.length > 0) {
      (parts[parts.length - 1] as { lines: string[] }).lines.push(line);
    } else if (line.trim() !== '') {
      throw new MalformedEventError(`${what}: text before the first marker: ${JSON.stringify(line.slice(0, 80))}`);
    }
  }
  const one = (section: Section) => {
    const found = parts.filter((p) => p.section === section);
    if (found.length !== 1) throw new MalformedEventError(`${what}: expected one ${section} section, got ${found.length}`);
    return (found[0] as { lines: string[] }).lines.join('\n');
  };
  const perVolume = <T>(section: Section, parse: (xml: string) => T): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const p of parts.filter((q) => q.section === section)) {
      const volume = p.volume as string;
      if (volume in out) throw new MalformedEventError(`${what}: ${section} of ${volume} appears twice`);
      out[volume] = parse(p.lines.join('\n'));
    }
    return out;
  };
  return {
    pool: parsePoolList(one('pool-list')),
    volumes: parseVolumeInfo(one('volume-info')),
    details: perVolume('volume-status-detail', parseVolumeStatusDetail),
    rebalance: perVolume('rebalance-status', parseRebalanceStatus),
    heal: perVolume('heal-info-summary', parseHealInfoSummary),
    splitBrain: perVolume('heal-info-split-brain', parseHealInfoSplitBrain),
  };
}
