/** Boot phase "handles": the Sandbox over everything the boot started (status and waits, operator actions, faults), and the boot's closing scale-out. */
import fs from 'node:fs';
import path from 'node:path';
import { DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SandboxAlarms } from '../alarms';
import type { MotoServer } from '../control-plane/moto';
import { SandboxError, SandboxTimeoutError } from '../errors';
import type { HaproxyDataPlane, NamespaceHosts } from '../hosts';
import type { LambdaRunner } from '../lambda/runner';
import type { Scheduler } from '../lambda/scheduler';
import type { DeployedStack } from '../stack/deploy';
import type { PackagedStack } from '../stack/package';
import { describeStatus, isSteady } from '../status';
import type { HostStatus, Sandbox, SandboxStatus, StorageHostKill, TimelineEntry } from '../types';
import type { Front } from './emulator';
import type { HostScripts } from './host-state';
import type { RecordingHosts } from './hosts';
import type { Records } from './records';
import { STAGE, type SandboxSettings } from './settings';
import type { Started } from './teardown';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Everything the earlier phases started or made, which the handles read and act on. */
export interface Booted {
  readonly moto: MotoServer;
  readonly front: Front;
  readonly targetGroupArn: string;
  readonly hosts: NamespaceHosts;
  readonly dataPlane: HaproxyDataPlane;
  readonly recording: RecordingHosts;
  readonly scripts: HostScripts;
  readonly packaged: PackagedStack;
  readonly stack: DeployedStack;
  readonly runner: LambdaRunner;
  readonly scheduler: Scheduler;
  readonly alarms: SandboxAlarms | undefined;
  readonly records: Records;
  readonly marks: TimelineEntry[];
  /** Stops everything the boot kept (Teardowns.stopAll). */
  readonly stop: () => Promise<void>;
}

/** Phase "handles": the Sandbox itself. Its teardown ends the storage host failures the group has not noticed yet (their `noticed` rejects). */
export function makeHandles(settings: SandboxSettings, booted: Booted): Started & { sandbox: Sandbox } {
  const { computeGroup, storageGroup, computeMax, hostOptions, logFile } = settings;
  const { moto, front, targetGroupArn, hosts, dataPlane, recording, scripts, packaged, stack, runner, scheduler, alarms, records, marks } = booted;
  const { cp, endpoint, asg, ec2, elb } = front;

  const status = async (): Promise<SandboxStatus> => {
    const groupsOut = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [computeGroup, storageGroup] }));
    const groups = groupsOut.AutoScalingGroups ?? [];
    const ids = groups.flatMap((g) => (g.Instances ?? []).map((i) => i.InstanceId ?? '')).filter((id) => id !== '');
    const ips = new Map<string, string>();
    if (ids.length > 0) {
      const d = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
      for (const i of (d.Reservations ?? []).flatMap((r) => r.Instances ?? [])) ips.set(i.InstanceId ?? '', i.PrivateIpAddress ?? '');
    }
    const roleOf = (g: string): 'compute' | 'storage' => (g === storageGroup ? 'storage' : 'compute');
    const th = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    const hostsNow: HostStatus[] = [];
    const hostsDir = path.join(hostOptions.stateDir, 'hosts');
    for (const id of fs.existsSync(hostsDir) ? fs.readdirSync(hostsDir).sort() : []) {
      const dir = path.join(hostsDir, id);
      const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8').trim() : '');
      hostsNow.push({ instanceId: id, role: read('role'), ip: read('ip'), running: fs.existsSync(path.join(dir, 'ready')) });
    }
    return {
      groups: groups.map((g) => ({ name: g.AutoScalingGroupName ?? '', role: roleOf(g.AutoScalingGroupName ?? ''), desired: g.DesiredCapacity ?? 0, min: g.MinSize ?? 0, max: g.MaxSize ?? 0 })),
      instances: groups.flatMap((g) =>
        (g.Instances ?? []).map((i) => ({
          instanceId: i.InstanceId ?? '',
          groupName: g.AutoScalingGroupName ?? '',
          role: roleOf(g.AutoScalingGroupName ?? ''),
          lifecycleState: i.LifecycleState ?? '',
          health: i.HealthStatus ?? '',
          availabilityZone: i.AvailabilityZone ?? '',
          privateIp: ips.get(i.InstanceId ?? '') ?? '',
        })),
      ),
      targets: (th.TargetHealthDescriptions ?? []).map((t) => ({
        instanceId: t.Target?.Id ?? '',
        port: t.Target?.Port ?? 0,
        state: t.TargetHealth?.State ?? 'unknown',
        ...(t.TargetHealth?.Reason !== undefined ? { reason: t.TargetHealth.Reason } : {}),
      })),
      hosts: hostsNow,
    };
  };

  const waitForState = async (predicate: (s: SandboxStatus) => boolean, timeoutMs: number, what = 'the wanted cluster state'): Promise<SandboxStatus> => {
    if (!(timeoutMs > 0)) throw new SandboxError(`waitForState timeout must be > 0 ms, got ${timeoutMs}`);
    const deadline = Date.now() + timeoutMs;
    let last: SandboxStatus | undefined;
    let lastError: unknown;
    for (let i = 0; i < 100_000; i += 1) {
      try {
        last = await status();
        if (predicate(last)) return last;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() >= deadline) break;
      await sleep(500);
    }
    throw new SandboxTimeoutError(
      `timed out after ${timeoutMs / 1000}s waiting for ${what}; last status: ${last === undefined ? 'none' : describeStatus(last)}${lastError !== undefined ? `; last error: ${String(lastError)}` : ''}`,
    );
  };

  // Instance failures the group has not noticed yet: ended (rejected) when the sandbox stops first.
  const unnoticed = new Map<NodeJS.Timeout, (error: Error) => void>();
  const teardowns = [
    {
      what: 'storage host failures not noticed yet',
      stop: async () => {
        for (const [timer, fail] of unnoticed) {
          clearTimeout(timer);
          fail(new SandboxError('the sandbox stopped before the group noticed the failed instance'));
        }
        unnoticed.clear();
      },
    },
  ];
  const killStorageHost = async (instanceId: string, killOptions: { noticeAfterSeconds?: number } = {}): Promise<StorageHostKill> => {
    const notice = killOptions.noticeAfterSeconds ?? 5;
    if (!(Number.isFinite(notice) && notice >= 0 && notice <= 600)) throw new SandboxError(`noticeAfterSeconds must be 0-600, got ${notice}`);
    const instance = (await status()).instances.find((i) => i.instanceId === instanceId);
    if (instance === undefined) throw new SandboxError(`killStorageHost: ${instanceId} is no instance of ${storageGroup}`);
    if (instance.role !== 'storage') throw new SandboxError(`killStorageHost: ${instanceId} belongs to ${instance.groupName}, not the storage group ${storageGroup}`);
    await scripts.crashHost(instanceId);
    const crashedAt = Date.now();
    marks.push({ at: crashedAt, kind: 'host', text: `host crashed: ${instanceId} ${instance.privateIp} ${instance.availabilityZone} (processes killed, network gone)` });
    const noticed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        unnoticed.delete(timer);
        marks.push({ at: Date.now(), kind: 'event', text: `EC2 status check failed: ${instanceId} Unhealthy in ${storageGroup} -> terminate hook, replacement` });
        cp.instanceFailed(instanceId).then(resolve, reject);
      }, notice * 1000);
      unnoticed.set(timer, reject);
    });
    // A caller that never awaits `noticed` must not see an unhandled rejection at stop.
    noticed.catch(() => undefined);
    return { instanceId, availabilityZone: instance.availabilityZone, privateIp: instance.privateIp, crashedAt, noticed };
  };

  const setDesiredCapacity = async (n: number): Promise<void> => {
    if (!Number.isInteger(n) || n < 0 || n > computeMax) throw new SandboxError(`desired capacity must be an integer 0-${computeMax}, got ${n}`);
    marks.push({ at: Date.now(), kind: 'action', text: `operator: SetDesiredCapacity ${computeGroup} -> ${n}` });
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: computeGroup, DesiredCapacity: n }));
  };

  const sandbox: Sandbox = {
    lbUrl: dataPlane.urlOf(targetGroupArn),
    endpoint,
    motoUrl: moto.url,
    stateDir: hostOptions.stateDir,
    logFile,
    computeGroup,
    storageGroup,
    targetGroupArn,
    stage: STAGE,
    stack,
    template: packaged.template,
    hosts,
    dataPlane,
    controlPlane: cp,
    alarms,
    setDesiredCapacity,
    waitForState,
    status,
    invoke: (fn, payload) => runner.invoke(fn, payload),
    schedule: { rules: () => scheduler.rules(), runs: () => [...scheduler.runs], fireNow: (ruleName) => scheduler.fireNow(ruleName) },
    dropNextLifecycleEvent: (transition, groupName) => {
      const detailType = transition === 'launch' ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action';
      marks.push({ at: Date.now(), kind: 'action', text: `fault armed: the next ${transition} lifecycle event of ${groupName} is lost before any queue` });
      cp.dropNextEvent(`the next ${transition} lifecycle event of ${groupName}`, (event) => event['detail-type'] === detailType && event.detail.AutoScalingGroupName === groupName);
    },
    invokeConcurrently: (fn, payloads) => runner.invokeConcurrently(fn, payloads),
    dropNextMessage: (fn, matches) => runner.dropNext(fn, matches),
    notifications: records.notifications,
    timeline: records.timeline,
    phase: records.phase,
    phases: records.phases,
    stepTimings: records.stepTimings,
    apiCalls: records.apiCalls,
    injectFaultOnNextLaunch: (fault) => recording.injectOnNextLaunch(fault),
    killStorageHost,
    preformatNextStorageDisk: (marker) => scripts.preformatNext(marker),
    stop: booted.stop,
  };
  return { sandbox, teardowns };
}

/** Phase "boot scale-out": compute 0 -> 1 through the real scale-out flow; with alarms, MinSize raised so scale-in stops there. */
export async function scaleOutAtBoot(settings: SandboxSettings, sandbox: Sandbox, front: Front, marks: TimelineEntry[]): Promise<void> {
  const { computeGroup, say } = settings;
  const alarmSettings = settings.alarms;
  const { phase, setDesiredCapacity, waitForState } = sandbox;
  const { asg } = front;
  say('scaling compute 0 -> 1 through the real scale-out flow...');
  await phase('boot scale-out 0->1', async () => {
    await setDesiredCapacity(1);
    await waitForState((s) => isSteady(s, computeGroup, 1), 240_000, 'one compute instance InService with a healthy target');
  });
  if (alarmSettings !== undefined && alarmSettings.computeMin > 0) {
    // Alarm-driven scale-in must stop at the group's minimum.
    marks.push({ at: Date.now(), kind: 'action', text: `operator: MinSize ${computeGroup} -> ${alarmSettings.computeMin}` });
    await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: computeGroup, MinSize: alarmSettings.computeMin }));
    if (alarmSettings.computeMin > 1) await waitForState((s) => isSteady(s, computeGroup, alarmSettings.computeMin), 240_000, `${alarmSettings.computeMin} compute instances (MinSize)`);
  }
}
