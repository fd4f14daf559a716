/** A direct invoke of the storage function (dry-run plan or queued request), and the alarm side's StorageExpansionPort. */
import { decideInvocation } from '../../core/decisions';
import { malformedEvent } from '../../core/messages';
import { healthName, type HealthRecord } from '../../core/records';
import { encodeStorageRequest, volumeLabel, type StorageRequest } from '../../core/storage/flow-state';
import { commandLine } from '../../core/storage/gluster-actions';
import type { LayoutFix } from '../../core/storage/layout';
import * as storageMessages from '../../core/storage/messages';
import { planExpansion, type ExpansionPlan } from '../../core/storage/expand';
import { clusterGuard } from '../../core/storage/guards';
import { planShrink, type ShrinkPlan } from '../../core/storage/shrink';
import { STATUS_STEPS } from '../../core/storage/status-frame';
import type { QueuePort } from '../../ports/sqs';
import type { ParameterPort } from '../../ports/ssm';
import { MalformedEventError } from '../../errors';
import type { Log } from '../../logger';
import type { StorageExpansionPort } from '../../ports/storage';
import { pickMember, type StorageDeps } from './cluster';
import { lockHolder } from './lock';
import { stageLayoutFix } from './layout-steps';
import { asRunByStage, parseStorageRequest } from './requests';
import { readStatusParts, snapshotFromStatus, statusParameters } from './status-read';

/** What a direct invoke answers, synchronously. */
export type InvokeAnswer =
  | { readonly outcome: 'planned'; readonly dryRun: true; readonly plan: ExpansionPlan | ShrinkPlan | LayoutFix; readonly commands: readonly string[] }
  | { readonly outcome: 'accepted'; readonly dryRun: false; readonly request: StorageRequest; readonly note: string }
  | { readonly outcome: 'refused'; readonly reason: string }
  | { readonly outcome: 'rejected'; readonly error: string };

const POLL_MS = 2000;

/**
 * A manual operation invoked directly on the storage function.
 * Dry run: the Gluster status is read synchronously (SendCommand, then at
 * most storage.timing.syncStatusSeconds of polling, since the operator
 * waits), planned and answered; nothing changes. A real run is checked
 * against the lock and queued: the expand/shrink flow plans again from its
 * own status read (the plan arrives by notification).
 */
export async function handleStorageInvoke(payload: unknown, deps: StorageDeps, requestId: string): Promise<InvokeAnswer> {
  let request: StorageRequest;
  try {
    request = asRunByStage(parseStorageRequest(payload, 'manual invoke'), deps.config.dryRun);
  } catch (error) {
    if (!(error instanceof MalformedEventError)) throw error;
    deps.log.error('rejected malformed storage invoke', { error });
    await deps.notifier.publish(malformedEvent(deps.config.stage, error.message, JSON.stringify(payload) ?? String(payload)));
    return { outcome: 'rejected', error: error.message };
  }
  const refuse = async (reason: string): Promise<InvokeAnswer> => {
    await deps.notifier.publish(storageMessages.storageRefused(deps.config.stage, request.action, volumeLabel(request), reason));
    return { outcome: 'refused', reason };
  };

  const holder = await lockHolder(deps, requestId);
  if (!request.dryRun) {
    if (holder?.kind === 'held') return refuse(`another storage operation holds the cluster lock (${holder.holder}): one storage operation at a time`);
    await deps.queue.send(deps.storage.queueUrl, encodeStorageRequest(request), 0);
    return { outcome: 'accepted', dryRun: false, request, note: 'queued: the plan (or the refusal) follows by notification' };
  }

  const via = await pickMember(deps);
  if (!via) return refuse(`no in-service storage member with an online agent in ${deps.storage.groupName} to read the volumes from`);
  const commandId = await deps.ssm.sendCommand({
    documentName: deps.storage.documents.glusterStatus,
    instanceId: via.instanceId,
    parameters: statusParameters(deps),
    timeoutSeconds: deps.config.timing.commandTimeoutSeconds,
    comment: `pydio-autoscaler dry-run ${request.action} ${volumeLabel(request)}`,
  });
  const polls = Math.max(1, Math.floor((deps.storage.timing.syncStatusSeconds * 1000) / POLL_MS));
  let stdout: string | undefined;
  for (let poll = 0; poll < polls && stdout === undefined; poll += 1) {
    await deps.sleep(POLL_MS);
    const invocation = await deps.ssm.getInvocation(commandId, via.instanceId, STATUS_STEPS[0]);
    const decided = decideInvocation(invocation, 'gluster status', 0, deps.config.timing.commandTimeoutSeconds);
    if (decided.kind === 'fail') return refuse(`the Gluster status could not be read on ${via.instanceId}: ${decided.reason}`);
    if (decided.kind === 'next') stdout = await readStatusParts(deps, commandId, via.instanceId, invocation.stdout);
  }
  if (stdout === undefined) return refuse(`the Gluster status of ${via.instanceId} did not arrive within ${deps.storage.timing.syncStatusSeconds}s; retry, or drop dryRun to go through the queue`);
  const read = await snapshotFromStatus(deps, stdout, via);
  if (read.kind !== 'snapshot') return refuse('the Gluster status could not be read');
  const lockHeldBy = holder?.kind === 'held' ? holder.holder : undefined;

  // What the operation would set first: the quorum options the volumes lack for their layout.
  const fix = stageLayoutFix(deps, read.snapshot);
  const first = fix.steps.map(commandLine);
  if (request.action === 'layout') {
    const refusal = clusterGuard(read.snapshot, lockHeldBy);
    if (refusal) return refuse(refusal.reason);
    await deps.notifier.publish(storageMessages.layoutPlanned(deps.config.stage, fix, true));
    return { outcome: 'planned', dryRun: true, plan: fix, commands: first };
  }
  if (request.action === 'shrink') {
    const plan = planShrink(read.snapshot, request.volume, { headroom: deps.storage.settings.shrinkHeadroom, ...(lockHeldBy ? { lockHeldBy } : {}) });
    if (plan.kind === 'refused') return refuse(plan.reason);
    await deps.notifier.publish(storageMessages.shrinkPlanned(deps.config.stage, plan, true, fix));
    return { outcome: 'planned', dryRun: true, plan, commands: [...first, ...plan.commands] };
  }
  const plan = planExpansion(read.snapshot, { volume: request.volume, sets: request.sets, allowSameZone: request.allowSameZone, strategy: request.strategy, ...(lockHeldBy ? { lockHeldBy } : {}) }, deps.storage.settings);
  if (plan.kind === 'refused') return refuse(plan.reason);
  await deps.notifier.publish(storageMessages.expansionPlanned(deps.config.stage, plan, true, fix));
  return { outcome: 'planned', dryRun: true, plan, commands: [...first, ...plan.commands] };
}

/** The alarm side's view of the storage tier: StorageExpansionPort of lib/ports/storage.ts. */
export type StorageExpansion = StorageExpansionPort;

export interface StorageExpansionDeps {
  readonly stage: string;
  /** A health record older than this is trusted neither as healthy nor as unhealthy (STORAGE_HEALTH_MAX_AGE_SECONDS). */
  readonly healthMaxAgeSeconds: number;
  /** STORAGE_QUEUE_URL: where the storage function reads its requests. */
  readonly queueUrl: string;
  readonly ssm: Pick<ParameterPort, 'getParameter'>;
  readonly queue: QueuePort;
  readonly log: Log;
  readonly now: () => Date;
}

/** Needs only the queue URL and GetParameter: the alarm function builds it without the storage configuration. */
export function createStorageExpansion(deps: StorageExpansionDeps): StorageExpansion {
  return {
    async requestExpansion(input) {
      let request: StorageRequest;
      try {
        request = parseStorageRequest({ volume: input.volume, sets: input.sets, dryRun: input.dryRun, reason: input.reason.slice(0, 200) }, 'alarm');
      } catch (error) {
        if (error instanceof MalformedEventError) return { accepted: false, reason: error.message };
        throw error;
      }
      await deps.queue.send(deps.queueUrl, encodeStorageRequest(request), 0);
      deps.log.info('storage expansion requested', { volume: request.volume, sets: request.sets, reason: request.reason });
      return { accepted: true };
    },
    async volumesHealth() {
      const raw = await deps.ssm.getParameter(healthName(deps.stage));
      // Unknown health neither blocks nor clears: the caller decides (a scale-out goes ahead, saying so); an expansion checks every guard rail on a fresh read anyway.
      if (raw === undefined) return { healthy: 'unknown', reason: 'no Gluster health recorded yet (the storage function records one at every health read)' };
      let record: Partial<HealthRecord>;
      try {
        record = JSON.parse(raw) as Partial<HealthRecord>;
      } catch {
        return { healthy: 'unknown', reason: 'the recorded Gluster health is unreadable' };
      }
      const at = typeof record.at === 'string' ? Date.parse(record.at) : NaN;
      if (!Number.isFinite(at) || typeof record.healthy !== 'boolean') return { healthy: 'unknown', reason: 'the recorded Gluster health is incomplete' };
      const age = Math.max(0, (deps.now().getTime() - at) / 1000);
      if (age > deps.healthMaxAgeSeconds) {
        return { healthy: 'unknown', reason: `the last Gluster health read is ${Math.round(age)}s old, more than the ${deps.healthMaxAgeSeconds}s it is trusted for (STORAGE_HEALTH_MAX_AGE_SECONDS)` };
      }
      return record.healthy ? { healthy: true } : { healthy: false, reason: record.reason ?? 'unhealthy' };
    },
  };
}
