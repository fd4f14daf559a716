/** Boot phases that run the stack's code and feed it: the Lambda runner, and (alarms option) the metrics agent and alarm evaluator. */
import { startAlarms, type SandboxAlarms } from '../alarms';
import type { Logger } from '../control-plane/front';
import type { MotoServer } from '../control-plane/moto';
import type { HaproxyDataPlane, NamespaceHosts } from '../hosts';
import type { Recorder } from '../lambda/recorder';
import { LambdaRunner } from '../lambda/runner';
import { Scheduler } from '../lambda/scheduler';
import type { DeployedStack } from '../stack/deploy';
import type { PackagedStack } from '../stack/package';
import type { Front } from './emulator';
import { STAGE, type SandboxSettings } from './settings';
import type { Started } from './teardown';

/**
 * Phase "Lambda runner": the REAL bundled handlers, invoked by their event source mappings, calling AWS
 * through the recorder; their lines go to CloudWatch Logs as Lambda puts them, and the front's Lambda
 * Invoke API runs them (the operator CLI, `aws lambda invoke`, `sls invoke`).
 */
export async function startFunctionRunner(settings: SandboxSettings, front: Front, recorder: Recorder, packaged: PackagedStack, stack: DeployedStack): Promise<Started & { runner: LambdaRunner }> {
  const runner = await LambdaRunner.start({ packageDir: packaged.dir, stack, functionEndpoint: recorder.url, pollEndpoint: front.endpoint, logFile: settings.logFile, shipLogs: true });
  front.cp.attachFunctions(runner);
  return { runner, teardowns: [{ what: 'lambda runner', stop: () => runner.stop() }] };
}

/** Phase "scheduler": the stack's scheduled rules (the watch's) invoke their functions at their rate, on the compressed clock when asked. */
export async function startScheduler(settings: SandboxSettings, front: Front, runner: LambdaRunner, stack: DeployedStack, log: Logger): Promise<Started & { scheduler: Scheduler }> {
  const scheduler = await Scheduler.start({
    clientConfig: front.config,
    stack,
    invoke: (key, payload) => runner.invoke(key, payload, 'schedule'),
    minuteMs: settings.scheduleMinuteMs,
    log,
  });
  return { scheduler, teardowns: [{ what: 'scheduler', stop: () => scheduler.stop() }] };
}

export interface AlarmSeams {
  readonly moto: MotoServer;
  readonly front: Front;
  readonly hosts: NamespaceHosts;
  readonly dataPlane: HaproxyDataPlane;
  readonly targetGroupArn: string;
  readonly log: Logger;
}

/** Phase "alarms", only with the alarms option: the hosts' real CPU and brick disk usage become alarm states and state-change events. */
export async function startAlarmsIfAsked(settings: SandboxSettings, { moto, front, hosts, dataPlane, targetGroupArn, log }: AlarmSeams): Promise<Started & { alarms: SandboxAlarms | undefined }> {
  if (settings.alarms === undefined) return { alarms: undefined, teardowns: [] };
  const alarms = await startAlarms({
    settings: settings.alarms,
    motoUrl: moto.url,
    stage: STAGE,
    stateDir: settings.hostOptions.stateDir,
    groups: { compute: settings.computeGroup, storage: settings.storageGroup },
    exec: (id, argv, timeoutSeconds) => hosts.exec(id, argv, timeoutSeconds),
    lbUrl: dataPlane.urlOf(targetGroupArn),
    targetGroup: { arn: targetGroupArn, frontUrl: front.endpoint },
    log,
  });
  return { alarms, teardowns: [{ what: 'metrics agent and alarm evaluator', stop: () => alarms.stop() }] };
}
