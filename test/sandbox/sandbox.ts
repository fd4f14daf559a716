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
import { bootStorage, createAwsEnvironment } from './boot/aws-environment';
import { openControlPlaneLog, startFront, startMotoServer } from './boot/emulator';
import { startAlarmsIfAsked, startFunctionRunner, startScheduler } from './boot/functions';
import { makeHandles, scaleOutAtBoot } from './boot/handles';
import { clearLeftovers, prepareHostScripts } from './boot/host-state';
import { createHosts, startLoadBalancer } from './boot/hosts';
import { openRecords } from './boot/records';
import { resolveSettings } from './boot/settings';
import { configureBootAgents, deployIntoEmulator, packageSandboxStack, startCallRecorder, subscribeOpsReader } from './boot/stack';
import { Teardowns } from './boot/teardown';
import type { Sandbox, StartSandboxOptions, TimelineEntry } from './types';

export { STAGE } from './boot/settings';
export { CookieSession, requestLoop, type Answer, type LoopReport } from './browser';
export { SandboxError, SandboxTimeoutError } from './errors';
export { describeStatus, isSteady, measurePhase, unionMs } from './status';
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

/**
 * Runs the boot phases in order (boot/*.ts). Each phase hands back the teardowns of what it started;
 * they are kept as soon as it returns and run last-first by stop(), by a failed boot, or on a signal.
 */
export async function startSandbox(options: StartSandboxOptions = {}): Promise<Sandbox> {
  const settings = resolveSettings(options);
  await clearLeftovers(settings);
  const marks: TimelineEntry[] = [];
  const teardowns = new Teardowns();
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
    const env = await createAwsEnvironment(settings, front.endpoint);
    const storageIds = await bootStorage(settings, { front, env, hosts, recording, scripts, marks });
    const { recorder } = teardowns.keep(await startCallRecorder(settings, front));
    const stack = await deployIntoEmulator(front, recorder, packaged, env.targetGroupArn);
    await configureBootAgents(settings, front, storageIds, stack, marks);
    const ops = await subscribeOpsReader(settings, front, stack);
    const { runner } = teardowns.keep(await startFunctionRunner(settings, front, recorder, packaged, stack));
    const { scheduler } = teardowns.keep(await startScheduler(settings, front, runner, stack, log));
    const { alarms } = teardowns.keep(await startAlarmsIfAsked(settings, { moto, front, hosts, dataPlane, targetGroupArn: env.targetGroupArn, log }));
    const records = openRecords({ front, ops, recording, recorder, scheduler, marks });
    const { sandbox } = teardowns.keep(
      makeHandles(settings, { moto, front, targetGroupArn: env.targetGroupArn, hosts, dataPlane, recording, scripts, packaged, stack, runner, scheduler, alarms, records, marks, stop: teardowns.stopAll }),
    );
    marks.push({ at: Date.now(), kind: 'phase', text: 'emulator, storage, stack and runner ready', durationMs: Date.now() - bootStart });
    if (!settings.skipInitialScaleOut) await scaleOutAtBoot(settings, sandbox, front, marks);
    return sandbox;
  } catch (error) {
    await teardowns.stopAll().catch((e: unknown) => settings.say(`teardown after a failed start: ${String(e)}`));
    throw error;
  }
}
