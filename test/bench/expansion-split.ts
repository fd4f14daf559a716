/**
 * Where the time of a storage expansion goes, from a real sandbox run: Gluster's
 * own work (the storage-gluster-command steps: add-brick, rebalance start and
 * status polls) against everything else. Shared by the expansion e2e
 * (test/e2e/storage/expand.test.ts) and the bench (test/bench/expansion.ts).
 *
 * - gluster: sum of the storage-gluster-command step durations, by action
 *   (the action is the step's SSM_Action, seen as the control plane ran it);
 * - documents: every document step in the window (prepare-brick, peer-probe,
 *   status reads, gluster commands), as a sum and as wall time (union);
 * - control plane: the wall time no document was running (events, queue,
 *   continuation delays, Lambda, lifecycle completion).
 */
import type { StepRun } from '../sandbox/control-plane/run-command';
import type { Sandbox } from '../sandbox/sandbox';

export interface ExpansionSplit {
  readonly wallSeconds: number;
  /** Gluster's own work: the storage-gluster-command steps (sum). */
  readonly glusterSeconds: number;
  /** The same, per SSM_Action (add-brick, rebalance-start, rebalance-status ...), with the number of runs. */
  readonly glusterByAction: Readonly<Record<string, { seconds: number; runs: number }>>;
  readonly documentsSumSeconds: number;
  readonly documentsWallSeconds: number;
  /** Wall time without any document running: our control plane's overhead. */
  readonly controlPlaneSeconds: number;
}

/** Starts noting which Gluster action each storage-gluster-command ran (commandId -> SSM_Action); call before the expansion. */
export function watchGlusterActions(sb: Sandbox): { readonly actions: ReadonlyMap<string, string>; stop(): void } {
  const actions = new Map<string, string>();
  const onStep = (run: StepRun): void => {
    if (run.documentName.includes('gluster-command') && run.env.SSM_Action !== undefined) actions.set(run.commandId, run.env.SSM_Action);
  };
  sb.controlPlane.events.on('step', onStep);
  return { actions, stop: () => void sb.controlPlane.events.off('step', onStep) };
}

/** The split of the phase named `phaseName` (run through sb.phase), from the sandbox's step timings. */
export async function measureExpansionSplit(sb: Sandbox, phaseName: string, actions: ReadonlyMap<string, string>): Promise<ExpansionSplit> {
  const phase = (await sb.phases()).find((p) => p.name === phaseName);
  if (phase === undefined) throw new Error(`no phase named '${phaseName}' was measured`);
  const end = phase.start + phase.seconds * 1000;
  const steps = (await sb.stepTimings()).filter((t) => t.start >= phase.start && t.start <= end && t.end !== undefined);
  const byAction: Record<string, { seconds: number; runs: number }> = {};
  let glusterSeconds = 0;
  for (const t of steps.filter((s) => s.documentName.includes('gluster-command'))) {
    const seconds = ((t.end ?? t.start) - t.start) / 1000;
    glusterSeconds += seconds;
    const action = actions.get(t.commandId) ?? 'unknown';
    const entry = (byAction[action] ??= { seconds: 0, runs: 0 });
    entry.seconds += seconds;
    entry.runs += 1;
  }
  return {
    wallSeconds: phase.seconds,
    glusterSeconds,
    glusterByAction: byAction,
    documentsSumSeconds: phase.documentsSeconds,
    documentsWallSeconds: phase.documentsWallSeconds,
    controlPlaneSeconds: phase.overheadSeconds,
  };
}

/** One line per figure, for a log or the bench output. */
export function formatSplit(split: ExpansionSplit): string[] {
  const s = (n: number) => `${n.toFixed(1)} s`;
  const actions = Object.entries(split.glusterByAction)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([action, v]) => `  ${action.padEnd(24)} ${s(v.seconds)} (${v.runs} run${v.runs === 1 ? '' : 's'})`);
  return [
    `expansion wall time        ${s(split.wallSeconds)}`,
    `Gluster's own work         ${s(split.glusterSeconds)} (storage-gluster-command steps, sum)`,
    ...actions,
    `all documents              ${s(split.documentsSumSeconds)} sum, ${s(split.documentsWallSeconds)} wall (prepare-brick, peer-probe, status reads, Gluster commands)`,
    `control plane overhead     ${s(split.controlPlaneSeconds)} (wall time with no document running: events, queue, continuation delays, Lambda, lifecycle completion)`,
  ];
}
