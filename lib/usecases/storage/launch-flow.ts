/** The storage launch flow's steps: a new member prepares its brick, joins the pool, takes over a dead member's bricks or creates the volumes, and is protected. */
import { agentTooOld } from '../../core/decisions';
import { secondsSince } from '../../core/flow';
import { BOOTSTRAP_KEY, storageClaimKey, storageJoinsKey, storageLayoutGateKey } from '../../core/records';
import { bootstrapPlan, poolStart } from '../../core/storage/bootstrap';
import { describeLayout, layoutForZones } from '../../core/storage/layout';
import { eventOf, logKeys, selfOf, viaOf, type StorageFlowState, type StorageOutcome, type StorageStepOf } from '../../core/storage/flow-state';
import * as storageMessages from '../../core/storage/messages';
import type { StorageMember } from '../../core/storage/snapshot';
import { actionRef, signalFlow, type StepTable } from '../flow-runner';
import { AwsCallError } from '../../errors';
import { cloudWatchAgentStep } from './cloudwatch-agent';
import { pickMember, recordMember, type StorageDeps } from './cluster';
import { runDocumentStep, runPending } from './documents';
import * as notices from '../../core/storage/notices';
import { applyLayoutStep, layoutAtJoin, liftServerQuorum, PROBE_QUORUM_NOT_MET } from './layout-steps';
import { lockHolder } from './lock';
import { REPLACE, replacementCheck } from './replace-steps';
import { readSnapshotStep } from './status-read';

/** Tags a joined storage member carries (its state for ops; the flows read the Parameter Store record). */
export const MEMBER_STATE_TAG = 'pydio-autoscaler:storage-state';
export const MEMBER_SINCE_TAG = 'pydio-autoscaler:storage-state-since';

const nodeOf = (self: { instanceId: string; host: string }) => ({ instanceId: self.instanceId, host: self.host });

async function awaitAgent(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const inStep = secondsSince(state.stepStartedAt, deps.now());
  const self = selfOf(state);
  const [agent] = await deps.ssm.describeManagedInstances([self.instanceId]);
  const tooOld = agentTooOld(agent?.agentVersion);
  if (agent?.online && tooOld) return { kind: 'fail', reason: tooOld };
  if (agent?.online && agent.ipAddress) return { kind: 'next', patch: { self: { ...self, host: agent.ipAddress } } };
  if (inStep > deps.config.timing.ssmOnlineTimeoutSeconds) {
    return { kind: 'fail', reason: `SSM agent not online (or without an IP address) after ${Math.round(inStep)}s` };
  }
  // No event tells when the agent registers. Storage members launch a few at a time and an
  // expansion waits on their joins, so a look every half RETRY_BASE_SECONDS (one call each): the
  // agent is seen on average a quarter of the base late, not half of it. Only for the first
  // RETRY_MAX_SECONDS, within which agents register: an agent that never comes is then looked for
  // after a tenth of the wait (the engine's default), not every few seconds up to the timeout.
  if (inStep >= deps.config.timing.retryMaxSeconds) return { kind: 'wait', reason: 'SSM agent not online yet' };
  return { kind: 'wait', reason: 'SSM agent not online yet', delaySeconds: storageAgentLookSeconds(deps.config.timing) };
}

/** How often a storage launch looks for its SSM agent: half RETRY_BASE_SECONDS (at least 1 s, at most RETRY_MAX_SECONDS). */
export function storageAgentLookSeconds(timing: { readonly retryBaseSeconds: number; readonly retryMaxSeconds: number }): number {
  return Math.max(1, Math.min(Math.ceil(timing.retryBaseSeconds / 2), timing.retryMaxSeconds));
}

async function prepareBrick(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { storage } = deps;
  const result = await runDocumentStep(state, deps, storage.documents.prepareBrick, nodeOf(selfOf(state)), {
    Device: storage.brickDevice,
    BrickRoot: storage.settings.brickRoot,
    Volumes: storage.volumes.join(','),
  }, storage.documents.prepareBrick, { successOnly: true });
  return result.kind === 'result' ? { kind: 'next' } : result;
}

function cloudWatchAgent(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  return cloudWatchAgentStep(state, deps, nodeOf(selfOf(state)));
}

/**
 * The storage operation that holds the lock while it sets the volumes' quorum options for the
 * members it launched (its gate says 'applying'), or undefined: a probe waits for it. A volume set
 * that ran beside a probe hung glusterd until the CLI gave up ("Error : Request timed out", CI on
 * ac1d6ba); the member would also find the options unset and set them again.
 */
async function layoutBeingSet(state: StorageFlowState, deps: StorageDeps): Promise<string | undefined> {
  const lock = await lockHolder(deps, state.operationId);
  if (lock?.kind !== 'held') return undefined;
  // A live holder renews its lock on every delivery, at least once per RETRY_MAX_SECONDS (its
  // commands' safety nets): one silent for twice that is dead, and its gate stops no join (its
  // lock only expires after lockStaleSeconds, longer than the join timeout).
  if (lock.ageSeconds > 2 * deps.config.timing.retryMaxSeconds) return undefined;
  return (await deps.coordination.read(storageLayoutGateKey(lock.holder))) === 'applying' ? lock.holder : undefined;
}

async function peerProbe(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const self = selfOf(state);
  const setter = state.command ? undefined : await layoutBeingSet(state, deps);
  if (setter !== undefined) {
    const inStep = secondsSince(state.stepStartedAt, deps.now());
    const reason = `${setter} is setting the volumes' quorum options; no peer probe beside a volume set`;
    if (inStep > deps.storage.timing.joinTimeoutSeconds) return { kind: 'fail', reason: `${reason}, still after ${Math.round(inStep)}s` };
    // Set while this member booted, usually done before it gets here: a few seconds between looks.
    return { kind: 'wait', reason, delaySeconds: storageAgentLookSeconds(deps.config.timing) };
  }
  let via = state.command ? { instanceId: state.command.instanceId, host: state.command.host } : await pickMember(deps, [self.instanceId]);
  if (!via) {
    const group = await deps.autoScaling.describeGroup(deps.storage.groupName);
    const start = poolStart(self.instanceId, group?.instances ?? []);
    if (start.kind === 'wait') {
      const inStep = secondsSince(state.stepStartedAt, deps.now());
      if (inStep > deps.storage.timing.joinTimeoutSeconds) return { kind: 'fail', reason: `no member to be probed from after ${Math.round(inStep)}s: ${start.reason}` };
      return { kind: 'wait', reason: start.reason };
    }
    // The first member: a pool of one, nothing to probe from.
    return { kind: 'next', skipTo: 'bootstrap', patch: { via: nodeOf(self) }, warning: 'no other healthy storage member: this node starts the pool' };
  }
  via = { instanceId: via.instanceId, host: via.host };
  const result = await runDocumentStep(state, deps, deps.storage.documents.peerProbe, via, { Peers: self.host }, `peer probe of ${self.host} from ${via.instanceId}`, { successOnly: true });
  if (result.kind === 'result') return { kind: 'next', skipTo: 'await-connected', patch: { via } };
  // Server quorum lost: the pool takes no new peer. Lifted once, when that is safe (lift-server-quorum).
  if (result.kind === 'fail' && PROBE_QUORUM_NOT_MET.test(`${result.reason}\n${result.output ?? ''}`) && !state.quorumLift) {
    return { kind: 'next', skipTo: 'lift-server-quorum', patch: { via, command: undefined } };
  }
  return result;
}

async function awaitConnected(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const inStep = secondsSince(state.stepStartedAt, deps.now());
  const self = selfOf(state);
  const read = await readSnapshotStep(state, deps, viaOf(state));
  if (read.kind !== 'snapshot') return read;
  const me = read.snapshot.members.find((m) => m.instanceId === self.instanceId);
  if (me?.peerState !== 'connected') {
    if (inStep > deps.storage.timing.joinTimeoutSeconds) return { kind: 'fail', reason: `${self.host} is not "Peer in Cluster (Connected)" after ${Math.round(inStep)}s (${me?.peerState ?? 'not seen'})` };
    return { kind: 'wait', reason: `${self.host} is ${me?.peerState ?? 'not seen'} in the pool` };
  }
  return replacementCheck(state, deps, read.snapshot, me);
}

async function bootstrap(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { config, storage } = deps;
  const read = await readSnapshotStep(state, deps, viaOf(state));
  if (read.kind !== 'snapshot') return read;
  const plan = bootstrapPlan(read.snapshot.members, layoutForZones(read.snapshot.group.zones), {
    volumes: storage.volumes,
    brickRoot: storage.settings.brickRoot,
    existing: read.snapshot.volumes,
    force: storage.settings.forceBricks ?? false,
  });
  if (plan.kind === 'done') return layoutAtJoin(state, deps, read.snapshot);
  if (plan.kind === 'wait') return { kind: 'next', skipTo: 'protect', warning: `volumes not created yet: ${plan.reason}; a later member creates them` };
  // Once, whoever of the joining members gets there first; never again once they were created.
  const claim = await deps.coordination.take(BOOTSTRAP_KEY, state.operationId, config.timing.claimTtlSeconds);
  if (!claim.taken && claim.holder) {
    return { kind: 'next', skipTo: 'protect', warning: `another member is creating the volumes (${claim.holder.owner})` };
  }
  if (!claim.taken) {
    const reason = `the volumes were created once already (${(await deps.coordination.read(BOOTSTRAP_KEY)) ?? 'bootstrap record'}) and Gluster does not list ${plan.steps.filter((s) => s.action === 'volume-create').map((s) => s.volume).join(', ')}: they are not created again; find out what happened to them`;
    await deps.notifier.publish(storageMessages.storageRefused(config.stage, 'bootstrap', storage.volumes.join(', '), reason));
    return { kind: 'next', skipTo: 'protect', warning: reason };
  }
  await deps.notifier.publish(storageMessages.storageStarted(config.stage, 'bootstrap', storage.volumes.join(', '), plan.commands));
  const first = plan.members[0] as StorageMember;
  return { kind: 'next', patch: { pending: plan.steps, bootstrapClaimed: true, bootstrapLayout: describeLayout(plan.layout), via: { instanceId: first.instanceId, host: first.host } } };
}

/**
 * Once every volume is created and started, the bootstrap claim becomes a
 * permanent record (no owner, no expiry), which no later member can take:
 * the volumes are never created a second time.
 */
async function createVolumes(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { config, storage } = deps;
  const now = deps.now();
  const outcome = await runPending(state, deps);
  if (outcome.kind !== 'next' || outcome.skipTo !== undefined) return outcome;
  await deps.coordination.write(BOOTSTRAP_KEY, JSON.stringify({ createdBy: state.operationId, instanceId: selfOf(state).instanceId, volumes: storage.volumes, at: now.toISOString() }));
  await deps.notifier.publish(storageMessages.storageSucceeded(config.stage, 'bootstrap', storage.volumes.join(', '), secondsSince(state.stepStartedAt, now), [
    `Volumes ${storage.volumes.join(', ')} created as ${state.bootstrapLayout ?? 'planned'} and started.`,
  ]));
  return { ...outcome, patch: { ...outcome.patch, bootstrapClaimed: false } };
}

async function protect(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const now = deps.now();
  const self = selfOf(state);
  await deps.autoScaling.setInstanceProtection(deps.storage.groupName, [self.instanceId], true);
  await recordMember(deps, { instanceId: self.instanceId, host: self.host, zone: self.zone, state: 'joined', lastSeen: now.toISOString() });
  // The tag is for people (the record above is what the flows read): a refused tag is a warning of the join.
  try {
    await deps.tags?.tagInstance(self.instanceId, { [MEMBER_STATE_TAG]: 'joined', [MEMBER_SINCE_TAG]: now.toISOString() });
  } catch (error) {
    return { kind: 'next', warning: `could not tag ${self.instanceId} with its state (${error instanceof Error ? error.message : String(error)}); it is protected and recorded` };
  }
  return { kind: 'next' };
}

/**
 * The operation holding the storage lock (an expansion waiting for its new members) is told that
 * this member joined: it looks at once instead of at its safety net. Best effort: the member has
 * joined whatever this says, so a refused call is only logged (the safety net looks anyway).
 */
async function wakeExpansion(state: StorageFlowState, deps: StorageDeps): Promise<void> {
  try {
    const lock = await lockHolder(deps, state.operationId);
    if (lock?.kind !== 'held') return;
    await signalFlow(deps, deps.storage.queueUrl, storageJoinsKey(lock.holder));
  } catch (error) {
    if (!(error instanceof AwsCallError)) throw error;
    deps.log.warn('could not wake the storage operation waiting for this member; it looks again on its own', { ...logKeys(state), error: error.message });
  }
}

async function complete(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { config } = deps;
  const now = deps.now();
  const self = selfOf(state);
  const event = eventOf(state);
  await deps.autoScaling.completeLifecycleAction(actionRef(event), 'CONTINUE');
  await wakeExpansion(state, deps);
  await deps.notifier.publish(notices.memberJoined(config.stage, self.instanceId, self.host, self.zone, secondsSince(state.startedAt, now), state.warnings));
  await deps.coordination.release(storageClaimKey(event), state.operationId);
  return { kind: 'next' };
}

export const STORAGE_LAUNCH: StepTable<StorageStepOf<'storage-launch'>, StorageFlowState, StorageDeps> = {
  'await-agent': awaitAgent,
  'prepare-brick': prepareBrick,
  'install-cloudwatch-agent': cloudWatchAgent,
  'configure-cloudwatch-agent': cloudWatchAgent,
  'peer-probe': peerProbe,
  'lift-server-quorum': liftServerQuorum,
  'await-connected': awaitConnected,
  ...REPLACE,
  bootstrap,
  'create-volumes': createVolumes,
  'apply-layout': (state, deps) => applyLayoutStep(state, deps),
  protect,
  complete,
};
