/** Boot phases of the stack: packaged (cached), deployed into the emulator through the call recorder with IAM enforced, the boot members' CloudWatch agent, the ops reader. */
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { alarmStageParams } from '../alarms';
import { configureAgentOn, registerAwsDocuments } from '../control-plane/aws-documents';
import { createQueue } from '../control-plane/aws-setup';
import { identitiesOf } from '../iam/enforcer';
import { startRecorder, type Recorder } from '../lambda/recorder';
import { deployStack, type DeployedStack } from '../stack/deploy';
import { packageStack, type PackagedStack } from '../stack/package';
import type { TimelineEntry } from '../types';
import type { Front } from './emulator';
import { STAGE, STORAGE_DATA_DEVICE, STORAGE_EBS_DEVICE, TARGET_GROUP_PLACEHOLDER, type SandboxSettings } from './settings';
import type { Started } from './teardown';

/** The sandbox's own short waits (timings 'sandbox'): every wait found within 1-2 s, timeouts in minutes. */
const SANDBOX_WAITS: Readonly<Record<string, string>> = {
  retryBaseSeconds: '1',
  retryMaxSeconds: '2',
  ssmOnlineTimeoutSeconds: '120',
  commandTimeoutSeconds: '300',
  healthyTimeoutSeconds: '120',
  drainMaxSeconds: '120',
  launchHeartbeatTimeout: '600',
  terminateHeartbeatTimeout: '600',
};

/** The stage params the sandbox packages with: its groups, the placeholder target group, its waits (short, or production's with timings 'realistic'), the options' storage settings. */
export function sandboxStageParams(settings: SandboxSettings): Record<string, string> {
  const { alarms, dataDiskMiB, growInPlace, lockStaleSeconds } = settings;
  return {
    computeGroupName: settings.computeGroup,
    storageGroupName: settings.storageGroup,
    targetGroupArn: TARGET_GROUP_PLACEHOLDER,
    // timings 'realistic': serverless.yml's production waits and timeouts, as deployed.
    ...(settings.timings === 'sandbox' ? SANDBOX_WAITS : {}),
    // The front records scaling activities, so the alarm function's cooldown applies here as on AWS: short, like every sandbox wait.
    scaleCooldownSeconds: '30',
    ...(alarms !== undefined ? alarmStageParams(alarms) : {}),
    ...(dataDiskMiB !== undefined ? { storageBrickDevice: STORAGE_DATA_DEVICE } : {}),
    ...(growInPlace !== undefined ? { storageGrowInPlace: growInPlace.mode, storageGrowToGib: String(growInPlace.toGiB), storageBrickEbsDevice: STORAGE_EBS_DEVICE } : {}),
    ...(lockStaleSeconds !== undefined ? { storageLockStaleSeconds: String(lockStaleSeconds) } : {}),
  };
}

/** Phase "package": `sls package` of the stage the sandbox runs (sandboxStageParams), cached per source state and params. */
export async function packageSandboxStack(settings: SandboxSettings, marks: TimelineEntry[]): Promise<PackagedStack> {
  settings.say('packaging the stack (sls package, cached per source state)...');
  const packaged = await packageStack({ stage: STAGE, params: sandboxStageParams(settings) });
  marks.push({ at: Date.now(), kind: 'phase', text: `stack packaged (${packaged.packagedNow ? 'sls package ran' : 'from cache'})` });
  return packaged;
}

/** Phase "call recorder", the first step of the deploy: the functions reach the front through it, so every call they make is recorded. */
export async function startCallRecorder(settings: SandboxSettings, front: Front): Promise<Started & { recorder: Recorder }> {
  settings.say('deploying the stack into the emulator...');
  const recorder = await startRecorder(front.endpoint);
  return { recorder, teardowns: [{ what: 'recorder', stop: () => recorder.stop() }] };
}

/** Phase "deploy": the packaged template into the emulator, the target group placeholder replaced; the functions' roles enforced from then on. */
export async function deployIntoEmulator(front: Front, recorder: Recorder, packaged: PackagedStack, targetGroupArn: string): Promise<DeployedStack> {
  // AWS owns AWS-ConfigureAWSPackage and AmazonCloudWatch-ManageAgent: the emulator gets stand-ins under those names.
  await registerAwsDocuments(front.config);
  const stack = await deployStack({ endpoint: recorder.url, template: packaged.template, replace: { [TARGET_GROUP_PLACEHOLDER]: targetGroupArn } });
  // The functions' calls are checked against their roles as packaged from here on.
  front.cp.enforceIam(identitiesOf(stack));
  return stack;
}

/** Phase "boot agents": the boot members predate the stack (no launch flow ran there): ops start their CloudWatch agent with the stack's configuration. */
export async function configureBootAgents(settings: SandboxSettings, front: Front, storageIds: readonly string[], stack: DeployedStack, marks: TimelineEntry[]): Promise<void> {
  // No boot members (storageStartsEmpty): every member's launch flow starts its own agent.
  if (storageIds.length === 0) return;
  settings.say('starting the CloudWatch agent on the boot storage members (AWS-ConfigureAWSPackage, AmazonCloudWatch-ManageAgent)...');
  const agentStart = Date.now();
  await configureAgentOn(front.config, storageIds, stack.physicalId('StorageAgentConfigParameter'));
  marks.push({ at: Date.now(), kind: 'phase', text: `CloudWatch agent configured on ${storageIds.join(', ')}`, durationMs: Date.now() - agentStart });
}

/** Phase "ops reader": a queue subscribed to the stack's notifications topic, read by `notifications()`. */
export async function subscribeOpsReader(settings: SandboxSettings, front: Front, stack: DeployedStack): Promise<{ queueUrl: string; queueArn: string }> {
  const ops = await createQueue(front.endpoint, `${settings.name}-ops-reader`);
  await new SNSClient(front.config).send(new SubscribeCommand({ TopicArn: stack.physicalId('NotificationsTopic'), Protocol: 'sqs', Endpoint: ops.queueArn }));
  return ops;
}
