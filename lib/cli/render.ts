/**
 * What the operator CLI prints (pure: data in, text out). Tables are plain
 * text, columns separated by two spaces, a long cell cut with an ellipsis.
 */
import { expansionPlanned, shrinkPlanned } from '../core/storage/messages';
import type { ExpansionPlan } from '../core/storage/expand';
import type { ShrinkPlan } from '../core/storage/shrink';
import type { ClusterStatus, GroupStatus, Section } from '../usecases/status';
import type { StorageStatus } from '../ports/storage';
import type { Entry } from './decisions';

const MAX_CELL = 72;

function cell(value: unknown): string {
  const s = value === undefined || value === null ? '-' : String(value).replace(/\s+/g, ' ');
  return s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 1)}…` : s;
}

/** A table with a header row; an empty table is its `empty` line. */
export function table(header: readonly string[], rows: readonly (readonly unknown[])[], empty = '(none)'): string {
  if (rows.length === 0) return `  ${empty}`;
  const cells = [header.map(cell), ...rows.map((r) => header.map((_, i) => cell(r[i])))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd()).join('\n');
}

function section<T>(title: string, s: Section<T> | undefined, body: (value: T) => string): string {
  if (s === undefined) return '';
  return s.available ? `${title}\n${body(s as T)}` : `${title}\n  unavailable: ${s.reason}`;
}

function groupBlock(title: string, g: Section<GroupStatus> | undefined): string {
  return section(title, g, (group) =>
    [
      `  ${group.name}: desired ${group.desired} (min ${group.min}, max ${group.max}); ${Object.entries(group.lifecycleStates).map(([state, n]) => `${n} ${state}`).join(', ') || 'no instances'}`,
      table(
        ['instance', 'zone', 'lifecycle', 'health', 'scale-in protected', 'hook pending'],
        group.instances.map((i) => [i.instanceId, i.availabilityZone, i.lifecycleState, i.healthStatus, i.protectedFromScaleIn ? 'yes' : 'no', i.lifecyclePending ? 'yes' : 'no']),
        'no instances',
      ),
    ].join('\n'),
  );
}

function storageBlock(s: StorageStatus): string {
  if (!s.available) return `Gluster volumes\n  unavailable: ${s.reason}`;
  return [
    'Gluster volumes',
    table(['volume', 'status', 'replica', 'healthy'], s.volumes.map((v) => [v.name, v.status, v.replicaCount, v.healthy ? 'yes' : 'NO'])),
    'Bricks',
    table(['volume', 'brick', 'online'], s.bricks.map((b) => [b.volume, `${b.host}:${b.path}`, b.online ? 'yes' : 'NO'])),
    'Peers',
    table(['peer', 'state'], s.peers.map((p) => [p.host, p.state])),
    ...(s.tasks.length > 0 ? ['Running tasks', table(['volume', 'task', 'status'], s.tasks.map((t) => [t.volume, t.kind, t.status]))] : []),
  ].join('\n');
}

export function renderStatus(s: ClusterStatus): string {
  const targets = section('Target group', s.targets, (t) =>
    [`  ${t.targetGroupArn}: ${t.healthy} healthy of ${t.targets.length}`, table(['target', 'port', 'state', 'reason'], t.targets.map((x) => [x.instanceId, x.port, x.state, x.reason]), 'no targets')].join('\n'),
  );
  return [
    `Stage ${s.stage} at ${s.at}${s.dryRun ? ' (the stage runs in DRY RUN: its functions change nothing)' : ''}`,
    '',
    groupBlock('Compute group', s.groups.compute),
    ...(s.groups.storage ? ['', groupBlock('Storage group', s.groups.storage)] : []),
    '',
    targets,
    '',
    storageBlock(s.storage),
  ].join('\n');
}

function isExpansion(plan: ExpansionPlan | ShrinkPlan): plan is ExpansionPlan {
  return 'strategy' in plan;
}

/** A planned expansion or shrink, in the words of the notification ops receive for it (lib/core/storage/messages.ts). */
export function renderPlan(stage: string, plan: ExpansionPlan | ShrinkPlan, dryRun: boolean): string {
  return (isExpansion(plan) ? expansionPlanned(stage, plan, dryRun) : shrinkPlanned(stage, plan, dryRun)).body;
}

const TIME = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function renderEntries(entries: readonly Entry[], window: string, truncated: boolean): string {
  const rows = entries.map((e) =>
    e.kind === 'decision'
      ? [
          TIME(e.at),
          'alarm',
          `${e.decision}${e.group !== undefined && e.from !== undefined && e.to !== undefined ? ` ${e.group} ${e.from}->${e.to}` : ''}${e.dryRun ? ' (dry run)' : ''}`,
          `${e.outcome}${e.outcomeNote ? `: ${e.outcomeNote}` : ''}`,
          e.notice ? `${e.notice.severity} ${e.notice.subject}` : 'logged only',
        ]
      : [TIME(e.at), e.function, 'notice', e.eventType, `${e.severity} ${e.subject}`],
  );
  return [
    `Decisions and notices of the last ${window}${truncated ? ' (more matched than were read: narrow --since)' : ''}`,
    table(['time (UTC)', 'function', 'decision', 'outcome', 'notice'], rows, `nothing in the last ${window} (CloudWatch Logs may take a few minutes to show new lines)`),
  ].join('\n');
}
