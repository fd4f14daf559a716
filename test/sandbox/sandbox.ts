/**
 * The whole sandbox as one emulator: moto + the control-plane front with the
 * REAL seams (namespace hosts, HAProxy), a storage group whose two instances
 * (two zones) boot GlusterFS, the packaged stack deployed into the emulator,
 * the REAL bundled handlers run by the Lambda runner, and the ops reader of
 * the notifications topic. Boot ends by scaling compute 0 -> 1 through the
 * real scale-out flow.
 *
 * Everything started is stopped by `stop()` (idempotent), also on SIGINT,
 * SIGTERM and an uncaught failure when `handleSignals` is on.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ListCommandInvocationsCommand } from '@aws-sdk/client-ssm';
import { Teardowns } from './boot/teardown';
import { openControlPlaneLog, startFront, startMotoServer } from './boot/emulator';
import { clearLeftovers, prepareHostScripts } from './boot/host-state';
import { createHosts, startLoadBalancer } from './boot/hosts';
import { bootStorage, createAwsEnvironment } from './boot/aws-environment';
import { startAlarmsIfAsked, startFunctionRunner } from './boot/functions';
import { configureBootAgents, deployIntoEmulator, packageSandboxStack, startCallRecorder, subscribeOpsReader } from './boot/stack';
import { resolveSettings, STAGE } from './boot/settings';
import { SandboxError, SandboxTimeoutError } from './errors';
import { describeStatus, isSteady, measurePhase } from './status';
import type {
  HostStatus,
  PhaseReport,
  Sandbox,
  SandboxStatus,
  SnsNotification,
  StartSandboxOptions,
  StepTiming,
  StorageHostKill,
  TimelineEntry,
} from './types';

export { SandboxError, SandboxTimeoutError } from './errors';
export { STAGE } from './boot/settings';
export { describeStatus, isSteady, measurePhase, unionMs } from './status';
export { CookieSession, requestLoop, type Answer, type LoopReport } from './browser';
export type {
  HostStatus,
  InstanceStatus,
  PhaseReport,
  Sandbox,
  SandboxStatus,
  SnsNotification,
  StartSandboxOptions,
  StepTiming,
  StorageHostKill,
  TargetStatus,
  TimelineEntry,
  TimelineKind,
} from './types';

// ---------------------------------------------------------------- helpers

const MUTATING_ACTIONS = new Set([
  'CompleteLifecycleAction',
  'RecordLifecycleActionHeartbeat',
  'RegisterTargets',
  'DeregisterTargets',
  'SendCommand',
  'Publish',
  'PutParameter',
  'DeleteParameter',
]);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}


// ---------------------------------------------------------------- start

export async function startSandbox(options: StartSandboxOptions = {}): Promise<Sandbox> {
  const settings = resolveSettings(options);
  const { computeMax, say, hostOptions, computeGroup, storageGroup, logFile } = settings;
  const alarmSettings = settings.alarms;

  await clearLeftovers(settings);

  const marks: TimelineEntry[] = [];
  const phaseWindows: { name: string; start: number; end: number }[] = [];
  const teardowns = new Teardowns();
  const stopAll = teardowns.stopAll;
  if (settings.handleSignals) teardowns.handleSignals();

  try {
    const bootStart = Date.now();
    const packaged = await packageSandboxStack(settings, marks);
    const { moto } = teardowns.keep(await startMotoServer(settings));
    const { scripts } = teardowns.keep(prepareHostScripts(settings));
    const { dataPlane } = teardowns.keep(await startLoadBalancer(settings));
    const { hosts, recording } = teardowns.keep(createHosts(settings, dataPlane, scripts));
    const { log } = teardowns.keep(openControlPlaneLog(settings));
    const front = teardowns.keep(await startFront(settings, { moto, hosts, recording, dataPlane, scripts, log }));
    const { cp, endpoint, asg, elb, ec2, ssm, sqs } = front;
    const cpEvents = front.events;

    const env = await createAwsEnvironment(settings, front.endpoint);
    const { targetGroupArn } = env;
    const storageIds = await bootStorage(settings, { front, env, hosts, recording, scripts, marks });
    const { recorder } = teardowns.keep(await startCallRecorder(settings, front));
    const stack = await deployIntoEmulator(front, recorder, packaged, targetGroupArn);
    await configureBootAgents(settings, front, storageIds, stack, marks);
    const ops = await subscribeOpsReader(settings, front, stack);
    const { runner } = teardowns.keep(await startFunctionRunner(settings, front, recorder, packaged, stack));
    const { alarms } = teardowns.keep(await startAlarmsIfAsked(settings, { moto, front, hosts, dataPlane, targetGroupArn, log }));

    // ---- handles -------------------------------------------------------

    const received: SnsNotification[] = [];
    const notifications = async (): Promise<SnsNotification[]> => {
      for (let round = 0; round < 20; round += 1) {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: ops.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        const messages = out.Messages ?? [];
        if (messages.length === 0) break;
        for (const m of messages) {
          const envelope = JSON.parse(m.Body ?? '{}') as { Subject?: string; Message?: string; Timestamp?: string; MessageAttributes?: Record<string, { Value?: string }> };
          const attributes: Record<string, string> = {};
          for (const [k, v] of Object.entries(envelope.MessageAttributes ?? {})) if (typeof v?.Value === 'string') attributes[k] = v.Value;
          const at = envelope.Timestamp !== undefined ? Date.parse(envelope.Timestamp) : Date.now();
          received.push({ at: Number.isNaN(at) ? Date.now() : at, subject: envelope.Subject ?? '', message: envelope.Message ?? '', attributes });
          await sqs.send(new DeleteMessageCommand({ QueueUrl: ops.queueUrl, ReceiptHandle: m.ReceiptHandle }));
        }
      }
      return [...received].sort((a, b) => a.at - b.at);
    };

    const stepTimings = async (): Promise<StepTiming[]> => {
      const out = await ssm.send(new ListCommandInvocationsCommand({ Details: true }));
      const timings: StepTiming[] = [];
      for (const inv of out.CommandInvocations ?? []) {
        for (const p of inv.CommandPlugins ?? []) {
          if (p.ResponseStartDateTime === undefined) continue;
          timings.push({
            commandId: inv.CommandId ?? '',
            instanceId: inv.InstanceId ?? '',
            documentName: inv.DocumentName ?? '',
            stepName: p.Name ?? '',
            status: p.Status ?? '',
            start: p.ResponseStartDateTime.getTime(),
            ...(p.ResponseFinishDateTime !== undefined ? { end: p.ResponseFinishDateTime.getTime() } : {}),
          });
        }
      }
      return timings.sort((a, b) => a.start - b.start);
    };

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
    teardowns.keep({ teardowns: [{
      what: 'storage host failures not noticed yet',
      stop: async () => {
        for (const [timer, fail] of unnoticed) {
          clearTimeout(timer);
          fail(new SandboxError('the sandbox stopped before the group noticed the failed instance'));
        }
        unnoticed.clear();
      },
    }] });
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

    const phase = async <T>(phaseName: string, work: () => Promise<T>): Promise<T> => {
      const start = Date.now();
      marks.push({ at: start, kind: 'phase', text: `phase ${phaseName} begins` });
      try {
        return await work();
      } finally {
        const end = Date.now();
        phaseWindows.push({ name: phaseName, start, end });
        marks.push({ at: end, kind: 'phase', text: `phase ${phaseName} ends`, durationMs: end - start });
      }
    };

    const phases = async (): Promise<PhaseReport[]> => {
      const steps = await stepTimings();
      return phaseWindows.map((w) => measurePhase(w.name, w.start, w.end, steps));
    };

    const timeline = async (): Promise<TimelineEntry[]> => {
      const entries: TimelineEntry[] = [...marks];
      for (const { at, entry } of cpEvents) {
        const d = entry.event.detail;
        entries.push({ at, kind: 'event', text: `${entry.event['detail-type']} ${d.EC2InstanceId ?? ''} (hook ${String(d.LifecycleHookName ?? '')}) -> ${entry.deliveries.length} delivery(ies)` });
      }
      for (const l of recording.launched) entries.push({ at: l.at, kind: 'host', text: `host up: ${l.instanceId} ${l.privateIp} ${l.availabilityZone} (${l.groupName})` });
      for (const t of recording.terminated) entries.push({ at: t.at, kind: 'host', text: `host gone: ${t.instanceId}` });
      for (const c of recorder.calls) {
        if (c.status !== 200 || !MUTATING_ACTIONS.has(c.operation)) continue;
        entries.push({ at: c.at, kind: 'action', text: `lambda: ${c.service}:${c.operation}`, durationMs: c.durationMs });
      }
      for (const s of await stepTimings()) {
        entries.push({ at: s.start, kind: 'command', text: `${s.documentName.replace(`pydio-autoscaler-${STAGE}-`, '')}/${s.stepName} on ${s.instanceId}: ${s.status}`, ...(s.end !== undefined ? { durationMs: s.end - s.start } : {}) });
      }
      for (const n of await notifications()) {
        const first = n.message.split('\n').filter((l) => l.trim() !== '').slice(0, 2).join(' | ');
        entries.push({ at: n.at, kind: 'sns', text: `${n.attributes.eventType ?? ''} "${n.subject}" — ${first}` });
      }
      return entries.sort((a, b) => a.at - b.at);
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
      notifications,
      timeline,
      phase,
      phases,
      stepTimings,
      injectFaultOnNextLaunch: (fault) => recording.injectOnNextLaunch(fault),
      killStorageHost,
      preformatNextStorageDisk: (marker) => scripts.preformatNext(marker),
      stop: stopAll,
    };
    marks.push({ at: Date.now(), kind: 'phase', text: 'emulator, storage, stack and runner ready', durationMs: Date.now() - bootStart });

    if (!settings.skipInitialScaleOut) {
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
    return sandbox;
  } catch (error) {
    await stopAll().catch((e: unknown) => say(`teardown after a failed start: ${String(e)}`));
    throw error;
  }
}
