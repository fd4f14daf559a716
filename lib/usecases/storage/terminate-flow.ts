/** The storage terminate flow's steps: record the leaving member and the bricks it still held, complete. */
import { storageClaimKey } from '../../core/records';
import { eventOf, selfOf, type StorageFlowState, type StorageOutcome, type StorageStepOf } from '../../core/storage/flow-state';
import { actionRef, type StepTable } from '../flow-runner';
import { pickMember, readMembers, recordMember, type StorageDeps } from './cluster';
import * as notices from '../../core/storage/notices';
import { readSnapshotStep } from './status-read';

async function inspect(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const now = deps.now();
  const self = selfOf(state);
  const records = await readMembers(deps);
  const record = records.find((r) => r.instanceId === self.instanceId);
  // No record (a member that never joined through this function): the address its
  // agent last reported, which SSM keeps for an instance whose agent went silent.
  const host = record?.host || self.host || ((await deps.ssm.describeManagedInstances([self.instanceId]))[0]?.ipAddress ?? '');
  const me = { ...self, host };
  const departed = async (lastSeen: string = now.toISOString()) => {
    if (host) await recordMember(deps, { instanceId: self.instanceId, host, zone: self.zone, state: 'departed', lastSeen });
  };
  const via = state.command ? { instanceId: state.command.instanceId, host: state.command.host } : await pickMember(deps, [self.instanceId]);
  if (!via) {
    await departed();
    return { kind: 'next', patch: { self: me }, warning: 'no other healthy storage member to read the volumes from: bricks of this node unknown' };
  }
  const read = await readSnapshotStep(state, deps, via);
  if (read.kind === 'wait') return read;
  if (read.kind === 'fail') {
    await departed();
    return { kind: 'next', patch: { self: me }, warning: `could not read the volumes (${read.reason}): bricks of this node unknown` };
  }
  const held = host ? read.snapshot.volumes.flatMap((v) => v.bricks.filter((b) => b.host === host).map((b) => ({ volume: v.name, brick: b }))) : [];
  // A dead node's bricks stopped serving before the hook fired: its last moment known to be
  // serving is at latest when the group started terminating it (the start of this flow), not now.
  const dead = held.length > 0 && held.every((h) => !h.brick.online);
  await departed(dead ? state.startedAt : now.toISOString());
  return { kind: 'next', patch: { self: me, bricksHeld: held.map((h) => `${h.volume}: ${h.brick.host}:${h.brick.path}`) } };
}

async function complete(state: StorageFlowState, deps: StorageDeps): Promise<StorageOutcome> {
  const { config } = deps;
  const self = selfOf(state);
  const event = eventOf(state);
  await deps.autoScaling.completeLifecycleAction(actionRef(event), 'CONTINUE');
  await deps.notifier.publish(notices.memberLeaving(config.stage, self.instanceId, self.host, self.zone, state.bricksHeld ?? [], state.warnings));
  await deps.coordination.release(storageClaimKey(event), state.operationId);
  return { kind: 'next' };
}

export const STORAGE_TERMINATE: StepTable<StorageStepOf<'storage-terminate'>, StorageFlowState, StorageDeps> = {
  inspect,
  complete,
};
