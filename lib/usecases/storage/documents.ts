/** Documents as storage steps: send, wait, read the invocation; Gluster commands (one allow-listed command, or the pending ones one per pass). */
import type { CommandInvocation } from '../../ports/ssm';
import { decideInvocation, outputTail } from '../../core/decisions';
import { jitteredBackoffSeconds, readLagSeconds, secondsSince } from '../../core/flow';
import { logKeys, viaOf, type Node, type StorageFlowState, type StorageOutcome } from '../../core/storage/flow-state';
import { commandLine, commandParameters, type GlusterStep } from '../../core/storage/gluster-actions';
import { parseCommandResult } from '../../core/storage/gluster-parse';
import type { StorageDeps } from './cluster';

export type DocumentResult = { readonly kind: 'result'; readonly stdout: string } | Exclude<StorageOutcome, { kind: 'next' } | { kind: 'done' }>;

/** How a step reads its document's run. */
export interface DocumentRead {
  /** The step whose output a successful run returns (default: the last). */
  readonly report?: string;
  /**
   * The step uses nothing of a successful run but its success (stdout is never read): when the
   * command's status-change event said Success ("The command successfully ran on all
   * invocations"), that is the result, with no read of the invocation, which Run Command's
   * eventual consistency can still show Pending or InProgress for a moment after the event.
   */
  readonly successOnly?: boolean;
}

/**
 * One document run as part of a step: the first call sends it and parks the
 * flow on it (resumed by the command's status-change event, or by the
 * safety-net continuation); later calls read the invocation until it ended.
 */
export async function runDocumentStep(
  state: StorageFlowState,
  deps: StorageDeps,
  documentName: string,
  on: Node,
  parameters: Record<string, string>,
  what: string,
  read: DocumentRead = {},
): Promise<DocumentResult> {
  const { config } = deps;
  if (!state.command) {
    const commandId = await deps.ssm.sendCommand({
      documentName,
      instanceId: on.instanceId,
      parameters,
      timeoutSeconds: config.timing.commandTimeoutSeconds,
      comment: `pydio-autoscaler ${state.flow} ${state.step} ${on.instanceId}`,
    });
    deps.log.info('command sent', { flow: state.flow, step: state.step, instanceId: on.instanceId, commandId, documentName, what });
    // Resumed by the command's status-change event; the continuation is the safety net. A dry run
    // sends no command, so no event comes: its continuation reads the pretended success at once.
    const command = { id: commandId, instanceId: on.instanceId, host: on.host, sentAt: deps.now().toISOString() };
    if (config.dryRun) return { kind: 'wait', reason: `${what} sent to ${on.instanceId} (dry run)`, delaySeconds: 1, patch: { command } };
    return { kind: 'wait', reason: `${what} sent to ${on.instanceId}`, patch: { command }, resumeOn: commandId };
  }
  // The event's word on a command of one instance; any other end is read for its reason and output.
  if (read.successOnly && state.ended === 'Success') return { kind: 'result', stdout: '' };
  const invocation = await deps.ssm.getInvocation(state.command.id, state.command.instanceId, read.report);
  return readInvocation(invocation, state, deps, what);
}

/** glusterd's cluster-wide transaction lock is busy: another member's command holds it for a moment. */
export const GLUSTER_BUSY = /Another transaction is in progress|Locking failed on|has been locked by another/i;

/**
 * When a command glusterd turned away for the moment comes back: a random delay between 1 s and
 * twice RETRY_BASE_SECONDS. Jittered: the flows that collided on glusterd (status reads of several
 * flows on one member) would collide again if they all came back after the same delay.
 */
function glusterRetrySeconds(deps: StorageDeps): number {
  const { retryBaseSeconds, retryMaxSeconds } = deps.config.timing;
  return jitteredBackoffSeconds(1, retryBaseSeconds, retryMaxSeconds, deps.random);
}

/**
 * A command refused only because glusterd was busy is sent again on a later
 * delivery, after a random delay between 1 s and twice RETRY_BASE_SECONDS
 * (the command is forgotten so the step re-sends it), within the
 * step's command timeout; after that it is a failure like any other.
 */
export function busyOrFail(state: StorageFlowState, deps: StorageDeps, message: string, fail: DocumentResult): DocumentResult {
  if (!GLUSTER_BUSY.test(message)) return fail;
  if (secondsSince(state.stepStartedAt, deps.now()) > deps.config.timing.commandTimeoutSeconds) return fail;
  const delaySeconds = glusterRetrySeconds(deps);
  deps.log.info('glusterd busy with another transaction: retrying', { flow: state.flow, step: state.step, delaySeconds });
  return { kind: 'wait', reason: 'glusterd is busy with another transaction', delaySeconds, patch: { command: undefined } };
}

/**
 * glusterd could not gather one node's part of a rebalance or remove-brick status: that node's
 * rebalance process did not answer (starting, or exiting once its migration ended). A peer's is
 * reported as "Brick ops failed on <host>. Glusterd Syncop Mgmt brick op 'Rebalance' failed ..."
 * (seen on a remove-brick status read in the sandbox, real glusterd 10, the migration itself
 * fine); the member's own as the second sentence alone (glusterd-syncop.c).
 */
export const GATHER_FAILED = /Glusterd Syncop Mgmt brick op 'Rebalance' failed/;

/**
 * A status read refused with GATHER_FAILED: read again after glusterRetrySeconds (as busyOrFail),
 * while the refusals in a row have lasted at most the command timeout; then the flow fails with
 * the last refusal. The first refusal of a run is kept in statusRefusedSince, which the next read
 * that answers forgets (a step-scoped field).
 */
export function statusRefused(state: StorageFlowState, deps: StorageDeps, reason: string, output?: string): Extract<StorageOutcome, { kind: 'wait' | 'fail' }> {
  const now = deps.now();
  const since = state.statusRefusedSince ?? now.toISOString();
  const refusedFor = secondsSince(since, now);
  if (refusedFor > deps.config.timing.commandTimeoutSeconds) return { kind: 'fail', reason: `${reason}; refused for ${Math.round(refusedFor)}s`, ...(output !== undefined ? { output } : {}) };
  const delaySeconds = glusterRetrySeconds(deps);
  deps.log.info('glusterd could not gather the status from a node: reading again', { ...logKeys(state), delaySeconds, reason });
  return { kind: 'wait', reason: `glusterd could not gather the status from a node: ${reason}`, delaySeconds, patch: { statusRefusedSince: since } };
}

/** A status read in flight (sent, or its read lagging) keeps the start of the refusals before it; the read that answers forgets it. */
export function keepRefusals<R extends DocumentResult>(state: StorageFlowState, result: R): R {
  if (result.kind !== 'wait' || state.statusRefusedSince === undefined) return result;
  return { ...result, patch: { ...result.patch, statusRefusedSince: state.statusRefusedSince } };
}

function readInvocation(invocation: CommandInvocation, state: StorageFlowState, deps: StorageDeps, what: string): DocumentResult {
  const elapsed = secondsSince(state.command?.sentAt ?? state.stepStartedAt, deps.now());
  const decided = decideInvocation(invocation, what, elapsed, deps.config.timing.commandTimeoutSeconds);
  if (decided.kind === 'wait' && state.ended) {
    // The event said it ended; the read lags it: look again within seconds.
    const reason = `${what} ended (${state.ended}) but still reads ${invocation.status}: Run Command's reads lag its events`;
    return { kind: 'wait', reason, delaySeconds: readLagSeconds(state.attempt, deps.config.timing.retryBaseSeconds), patch: { command: state.command, ended: state.ended } };
  }
  if (decided.kind === 'wait') return { kind: 'wait', reason: decided.reason, patch: { command: state.command }, ...(state.command ? { resumeOn: state.command.id } : {}) };
  if (decided.kind !== 'fail') return { kind: 'result', stdout: invocation.stdout };
  // Gluster explains a refusal in its XML answer: say that, not only the exit code.
  const gluster = glusterMessage(invocation.stdout);
  const fail: DocumentResult = { kind: 'fail', reason: gluster ? `${decided.reason}: gluster says ${JSON.stringify(gluster)}` : decided.reason, output: decided.output ?? outputTail(invocation) };
  return busyOrFail(state, deps, `${gluster ?? ''}\n${invocation.stdout}\n${invocation.stderr}`, fail);
}

function glusterMessage(stdout: string): string | undefined {
  if (!stdout.includes('<cliOutput>')) return undefined;
  try {
    const result = parseCommandResult(stdout.slice(stdout.indexOf('<?xml') >= 0 ? stdout.indexOf('<?xml') : stdout.indexOf('<cliOutput>')));
    return result.ok ? undefined : result.message || `errno ${result.errno}`;
  } catch {
    return undefined;
  }
}

/** One allow-listed Gluster command (storage-gluster-command) run on `on`. */
export async function runGlusterStep(state: StorageFlowState, deps: StorageDeps, step: GlusterStep, on: Node): Promise<DocumentResult> {
  const result = await runDocumentStep(state, deps, deps.storage.documents.glusterCommand, on, commandParameters(step), commandLine(step));
  if (result.kind !== 'result') return result;
  // Idempotent skips (volume already created/started) print no XML.
  if (result.stdout.trim() === '') return result;
  const parsed = parseCommandResult(result.stdout, commandLine(step));
  if (!parsed.ok) {
    const reason = `${commandLine(step)}: gluster refused: ${parsed.message || `errno ${parsed.errno}`}`;
    return busyOrFail(state, deps, reason, { kind: 'fail', reason });
  }
  return result;
}

/** Runs the pending Gluster commands one per pass; 'next' when none is left. */
export async function runPending(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const [head, ...rest] = state.pending ?? [];
  if (!head) return { kind: 'next', patch: { pending: [] } };
  const result = await runGlusterStep(state, deps, head, viaOf(state));
  if (result.kind !== 'result') return result;
  deps.log.info('gluster command done', { ...logKeys(state), command: commandLine(head) });
  // Same step again for the next command, or on.
  return rest.length ? { kind: 'next', skipTo: state.step, patch: { pending: rest } } : { kind: 'next', patch: { pending: [] } };
}
