/**
 * The lifecycle flows end to end, on the API level: the packaged stack is
 * deployed into moto + the control-plane front (simulated hosts, Run Command
 * and health), and the REAL bundled lifecycle handler consumes its queue.
 * Assertions are on states: instance lifecycle states, target health, the
 * Run Command steps that ran (with their SSM_ variables), the notifications
 * ops receive, and the mutating API calls the handler made.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { JournalEntry } from '../../sandbox/control-plane/front';
import { eventually, GLUSTER_SERVERS, GROUP, OTHER_GROUP, STAGE, startFlowsEnvironment, type FlowsEnvironment, type Notification } from './harness';

jest.setTimeout(180_000);


/** The functions' log lines so far (one JSON object a line). */
function functionLog(): Record<string, unknown>[] {
  return fs.readFileSync(env.logFile, 'utf8').split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

let env: FlowsEnvironment;
const inbox: Notification[] = [];

beforeAll(async () => {
  env = await startFlowsEnvironment();
}, 400_000);

afterAll(async () => {
  await env?.stop();
});

const READ_ONLY = /^(Describe|Get|List|Receive)/;

/** Mutating calls (service:Operation -> count) the functions made since call index `from`. */
function mutatingCallsSince(from: number): Record<string, number> {
  return Object.fromEntries(Object.entries(env.recorder.countsSince(from)).filter(([key]) => !READ_ONLY.test(key.split(':')[1] ?? '')));
}

async function awaitNotification(predicate: (n: Notification) => boolean, what: string, timeoutMs = 60_000): Promise<Notification> {
  return eventually(async () => {
    const found = inbox.find(predicate);
    if (found !== undefined) return found;
    inbox.push(...(await env.readNotifications(0)));
    return inbox.find(predicate);
  }, `notification: ${what}`, timeoutMs, 0);
}

/** Everything that arrived within `ms` (nothing is expected to be missing after it). */
async function settleNotifications(ms = 2500): Promise<void> {
  inbox.push(...(await env.readNotifications(ms)));
}

function notificationsFor(instanceId: string): Notification[] {
  return inbox.filter((n) => n.attributes.instanceId === instanceId);
}

async function awaitGroup(predicate: (instances: { id: string; state: string }[]) => boolean, what: string, timeoutMs = 90_000) {
  return eventually(async () => {
    const instances = (await env.instances(GROUP)).map((i) => ({ id: i.InstanceId ?? '', state: i.LifecycleState ?? '' }));
    return predicate(instances) ? instances : undefined;
  }, what, timeoutMs, 250);
}

function stepsOn(instanceId: string) {
  return env.cp.steps.filter((s) => s.instanceId === instanceId).map((s) => ({ document: s.documentName, step: s.stepName, env: s.env }));
}

function lifecycleEvent(detail: Record<string, unknown>, transition: 'launch' | 'terminate' = 'launch'): string {
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': transition === 'launch' ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
    source: 'aws.autoscaling',
    account: '123456789012',
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'eu-west-1',
    resources: [],
    detail,
  });
}

const doc = (name: string) => `pydio-autoscaler-${STAGE}-${name}`;

test('the stack is deployed with the function wired to its queue, and the runner runs the bundled handler', () => {
  const fn = env.stack.functions.lifecycle;
  expect(fn).toBeDefined();
  expect(fn?.eventSources).toEqual([
    expect.objectContaining({ queueUrl: env.lifecycleQueueUrl, batchSize: 1, functionResponseTypes: ['ReportBatchItemFailures'], enabled: true }),
  ]);
  expect(fn?.environment).toMatchObject({
    COMPUTE_ASG_NAME: GROUP,
    TARGET_GROUP_ARN: env.targetGroupArn,
    LIFECYCLE_QUEUE_URL: env.lifecycleQueueUrl,
    DOC_MOUNT_VOLUMES: doc('mount-volumes'),
    RETRY_BASE_SECONDS: '1',
  });
  expect(env.stack.resources.OpsEmailSubscription?.status).toBe('skipped-condition');
});

test('the test notification and another group\'s events are skipped: no action, no notification', async () => {
  const callsBefore = env.recorder.calls.length;
  const stepsBefore = env.cp.steps.length;
  const testNotification = await env.sendToLifecycleQueue(
    JSON.stringify({
      AccountId: '123456789012',
      RequestId: randomUUID(),
      AutoScalingGroupARN: `arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:${randomUUID()}:autoScalingGroupName/${GROUP}`,
      AutoScalingGroupName: GROUP,
      Service: 'AWS Auto Scaling',
      Event: 'autoscaling:TEST_NOTIFICATION',
      Time: new Date().toISOString(),
    }),
  );
  // An event of another group on our queue (a rule that matched too much).
  const foreign = await env.sendToLifecycleQueue(
    lifecycleEvent({
      LifecycleActionToken: randomUUID(),
      AutoScalingGroupName: OTHER_GROUP,
      LifecycleHookName: 'h6-other-launch',
      EC2InstanceId: 'i-0123456789abcdef0',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
    }),
  );
  // And the other group really launching: our rule must not route its event to us.
  const emitted = new Promise<JournalEntry>((resolve) => {
    const onEvent = (entry: JournalEntry) => {
      if (entry.event.detail.AutoScalingGroupName === OTHER_GROUP) {
        env.cp.events.off('event', onEvent);
        resolve(entry);
      }
    };
    env.cp.events.on('event', onEvent);
  });
  await env.setDesired(OTHER_GROUP, 1);
  const otherEvent = await emitted;

  for (const id of [testNotification, foreign]) {
    const invocation = await env.invocationFor(id);
    expect(invocation.outcome).toBe('success');
    expect(invocation.failedMessageIds).toEqual([]);
  }
  expect(otherEvent.deliveries).toEqual([]);
  await settleNotifications();
  expect(inbox).toEqual([]);
  expect(mutatingCallsSince(callsBefore)).toEqual({});
  expect(env.cp.steps.length).toBe(stepsBefore);
  const [other] = (await env.instances(OTHER_GROUP)).map((i) => i.LifecycleState);
  expect(other).toBe('Pending:Wait');
});

test('a malformed event gives a malformed notification and no action', async () => {
  const callsBefore = env.recorder.calls.length;
  const stepsBefore = env.cp.steps.length;
  const notJson = await env.sendToLifecycleQueue('{"detail-type": "EC2 Instance-launch Lifecycle Action", oops');
  const noInstance = await env.sendToLifecycleQueue(
    lifecycleEvent({ LifecycleActionToken: randomUUID(), AutoScalingGroupName: GROUP, LifecycleHookName: doc('compute-launch'), LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' }),
  );
  for (const id of [notJson, noInstance]) expect((await env.invocationFor(id)).outcome).toBe('success');

  const first = await awaitNotification((n) => n.attributes.eventType === 'event.malformed' && n.message.includes('not JSON'), 'malformed: not JSON');
  const second = await awaitNotification((n) => n.attributes.eventType === 'event.malformed' && n.message.includes('EC2InstanceId'), 'malformed: no EC2InstanceId');
  for (const n of [first, second]) {
    expect(n.attributes.severity).toBe('error');
    expect(n.subject).toContain('malformed');
  }
  expect(mutatingCallsSince(callsBefore)).toEqual({ 'sns:Publish': 2 });
  expect(env.cp.steps.length).toBe(stepsBefore);
  expect(await env.instances(GROUP)).toEqual([]);
});

let servedBy = '';

test('scale-out 0 -> 1: prepared on the instance, registered healthy, in service, ops told', async () => {
  const callsBefore = env.recorder.calls.length;
  await env.setDesired(GROUP, 1);
  const [instance] = await awaitGroup((list) => list.length === 1 && list[0]?.state === 'InService', 'one InService instance');
  const id = instance?.id ?? '';
  servedBy = id;

  expect(await env.targetHealth(id)).toEqual({ state: 'healthy' });
  expect(stepsOn(id)).toEqual([
    {
      document: doc('mount-volumes'),
      step: 'mountVolumes',
      env: { SSM_ConfigVolume: 'pydio-config', SSM_DataVolume: 'pydio-data', SSM_Servers: GLUSTER_SERVERS, SSM_ConfigMount: '/mnt/pydio-config', SSM_DataMount: '/mnt/pydio-data' },
    },
    expect.objectContaining({ document: doc('configure-app'), step: 'installHealthCheck' }),
    expect.objectContaining({ document: doc('configure-app'), step: 'configure' }),
    expect.objectContaining({ document: doc('configure-app'), step: 'checkHealth' }),
  ]);
  expect(stepsOn(id)[2]?.env).toEqual({
    SSM_AppRoot: '/var/www/pydio',
    SSM_ConfigMount: '/mnt/pydio-config',
    SSM_DataMount: '/mnt/pydio-data',
    SSM_WebUser: 'www-data',
    SSM_WebService: 'apache2',
    SSM_AppPort: '80',
    // The load balancer's idle timeout (60 s by default) + 5 s.
    SSM_KeepAliveTimeout: '65',
  });

  await awaitNotification((n) => n.attributes.instanceId === id && n.attributes.eventType === 'lifecycle.succeeded', 'scale-out succeeded');
  await settleNotifications(1200);
  expect(notificationsFor(id).map((n) => n.attributes.eventType)).toEqual(['lifecycle.started', 'lifecycle.succeeded']);
  expect(notificationsFor(id)[1]?.subject).toContain(`${id} is in service`);

  const mutating = mutatingCallsSince(callsBefore);
  expect(mutating['autoscaling:CompleteLifecycleAction']).toBe(1);
  expect(mutating['elasticloadbalancing:RegisterTargets']).toBe(1);
  expect(mutating['ssm:SendCommand']).toBe(2);
  // Waits are continuation messages put back on the queue with a delay.
  expect(mutating['sqs:SendMessage']).toBeGreaterThanOrEqual(2);
  expect(env.runner.journal.every((i) => i.outcome === 'success')).toBe(true);
  // A document's end resumes the flow: its command's status-change event reached the queue and ran
  // the next step (at least one of the two here: a loaded machine may let a 2 s safety net come first).
  // Either way each command was acted on once: two commands sent, above.
  const resumed = functionLog().filter((line) => line.message === "resumed by its command's status-change event" && line.instanceId === id);
  expect(resumed.length).toBeGreaterThanOrEqual(1);
  expect(resumed.every((line) => line.status === 'Success')).toBe(true);
});

test('scale-in 1 -> 0: deregistered and drained, drain document run, instance gone', async () => {
  expect(servedBy).not.toBe('');
  const id = servedBy;
  const callsBefore = env.recorder.calls.length;
  // Systems Manager's events are best effort: the drain command's end is lost, and the flow's safety net finds it.
  const lost = (event: { 'detail-type': string; detail: Record<string, unknown> }) =>
    event['detail-type'] === 'EC2 Command Status-change Notification' && String(event.detail['document-name']).endsWith('-drain-node') && event.detail.status === 'Success';
  env.cp.dropNextEvent('the drain command\'s end event', lost);
  await env.setDesired(GROUP, 0);
  await awaitGroup((list) => list.length === 0, 'the group to be empty');

  expect(env.dataPlane.calls.filter((c) => c.op === 'deregister' && c.target.instanceId === id)).toHaveLength(1);
  expect(['unused', 'absent']).toContain((await env.targetHealth(id)).state);
  expect(stepsOn(id).map((s) => `${s.document}:${s.step}`)).toEqual([
    `${doc('mount-volumes')}:mountVolumes`,
    `${doc('configure-app')}:installHealthCheck`,
    `${doc('configure-app')}:configure`,
    `${doc('configure-app')}:checkHealth`,
    `${doc('drain-node')}:drainNode`,
  ]);
  expect(stepsOn(id)[4]?.env).toEqual({ SSM_ConfigMount: '/mnt/pydio-config', SSM_DataMount: '/mnt/pydio-data', SSM_WebService: 'apache2' });
  expect(env.hosts.terminated).toContain(id);

  await awaitNotification((n) => n.attributes.instanceId === id && n.attributes.flow === 'compute-terminate' && n.attributes.eventType === 'lifecycle.succeeded', 'scale-in succeeded');
  expect(notificationsFor(id).filter((n) => n.attributes.flow === 'compute-terminate').map((n) => n.attributes.eventType)).toEqual(['lifecycle.started', 'lifecycle.succeeded']);
  const mutating = mutatingCallsSince(callsBefore);
  expect(mutating['elasticloadbalancing:DeregisterTargets']).toBe(1);
  expect(mutating['autoscaling:CompleteLifecycleAction']).toBe(1);
  expect(mutating['ssm:SendCommand']).toBe(1);
  expect(env.cp.journal.filter((entry) => entry.dropped !== undefined && lost(entry.event))).toHaveLength(1);
  expect(functionLog().filter((line) => line.message === "resumed by its command's status-change event" && line.instanceId === id && line.flow === 'compute-terminate')).toEqual([]);
});

test('a duplicate EventBridge delivery of the same event changes nothing twice', async () => {
  const callsBefore = env.recorder.calls.length;
  const duplicated = new Promise<string>((resolve, reject) => {
    const onEvent = (entry: JournalEntry) => {
      if (entry.event.detail.AutoScalingGroupName !== GROUP) return;
      env.cp.events.off('event', onEvent);
      // The same event, delivered a second time (EventBridge is at-least-once).
      env.sendToLifecycleQueue(JSON.stringify(entry.event)).then(resolve, reject);
    };
    env.cp.events.on('event', onEvent);
  });
  await env.setDesired(GROUP, 1);
  const duplicateId = await duplicated;
  const [instance] = await awaitGroup((list) => list.length === 1 && list[0]?.state === 'InService', 'one InService instance');
  const id = instance?.id ?? '';
  expect((await env.invocationFor(duplicateId)).outcome).toBe('success');

  expect(stepsOn(id).map((s) => s.step)).toEqual(['mountVolumes', 'installHealthCheck', 'configure', 'checkHealth']);
  expect(env.dataPlane.calls.filter((c) => c.op === 'register' && c.target.instanceId === id)).toHaveLength(1);
  await awaitNotification((n) => n.attributes.instanceId === id && n.attributes.eventType === 'lifecycle.succeeded', 'scale-out succeeded');
  await settleNotifications(1500);
  expect(notificationsFor(id).map((n) => n.attributes.eventType)).toEqual(['lifecycle.started', 'lifecycle.succeeded']);
  expect(mutatingCallsSince(callsBefore)['autoscaling:CompleteLifecycleAction']).toBe(1);
  expect(await env.targetHealth(id)).toEqual({ state: 'healthy' });

  // Leave the group empty for the next test.
  await env.setDesired(GROUP, 0);
  await awaitGroup((list) => list.length === 0, 'the group to be empty');
});

test('a failing configure step ends in ABANDON, the group launches a replacement, ops get the step and the output tail', async () => {
  const launchedBefore = env.hosts.launched.length;
  env.executor.failStep('configure-app', 'configure', {
    exitCode: 1,
    stdout: 'configure: writing bootstrap_context.php',
    stderr: 'configure: h6 simulated failure: /mnt/pydio-config/conf is read-only',
  });
  await env.setDesired(GROUP, 1);
  const first = await eventually(async () => env.hosts.launched[launchedBefore]?.instanceId, 'the first launch');
  // Only the first attempt fails: once its configure run happened, later runs succeed.
  // The configure step's run (installHealthCheck, before it, gets the same parameters).
  await eventually(async () => (env.executor.runs.some((r) => r.instanceId === first && r.script.includes('# pydio-configure-app (step configure)')) ? true : undefined), 'the failing configure run');
  env.executor.setStepResult('configure-app', 'configure', { exitCode: 0 });

  const failed = await awaitNotification((n) => n.attributes.instanceId === first && n.attributes.eventType === 'lifecycle.failed', 'scale-out failed');
  expect(failed.attributes.step).toBe('configure-app');
  expect(failed.subject).toContain('FAILED at configure-app');
  expect(failed.message).toContain('ABANDON');
  expect(failed.message).toContain('/mnt/pydio-config/conf is read-only');

  const [replacement] = await awaitGroup((list) => list.length === 1 && list[0]?.state === 'InService' && list[0].id !== first, 'a replacement InService');
  expect(env.hosts.terminated).toContain(first);
  expect(stepsOn(first).map((s) => s.step)).toEqual(['mountVolumes', 'installHealthCheck', 'configure']);
  expect(env.dataPlane.calls.filter((c) => c.target.instanceId === first)).toEqual([]);
  expect(await env.targetHealth(replacement?.id ?? '')).toEqual({ state: 'healthy' });
  await awaitNotification((n) => n.attributes.instanceId === replacement?.id && n.attributes.eventType === 'lifecycle.succeeded', 'replacement in service');
});

test('every invocation ended without error and none waited idle for long', () => {
  expect(env.runner.journal.length).toBeGreaterThan(10);
  expect(env.runner.journal.filter((i) => i.outcome !== 'success')).toEqual([]);
  // Waiting is done with delayed messages, never inside an invocation.
  expect(Math.max(...env.runner.journal.map((i) => i.durationMs))).toBeLessThan(5000);
});

test('the status function answers with its read-only role (direct invoke)', async () => {
  const from = env.cp.iamDecisions.length;
  const answer = await env.runner.invoke('status', {});
  expect(answer.outcome).toBe('success');
  const decisions = env.cp.iamDecisions.slice(from).filter((d) => d.functionName === env.stack.functions.status?.functionName);
  expect(decisions.filter((d) => !d.allowed)).toEqual([]);
  expect(new Set(decisions.map((d) => d.action))).toEqual(new Set(['autoscaling:DescribeAutoScalingGroups', 'elasticloadbalancing:DescribeTargetHealth']));
});

test('every call the function made was checked against its packaged role, and every one was allowed', () => {
  const decisions = env.cp.iamDecisions;
  expect(decisions.filter((d) => !d.allowed)).toEqual([]);
  const actions = new Set(decisions.map((d) => d.action));
  // The flows above exercise each permission of the lifecycle role (and Lambda's polling with it).
  for (const action of [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:SendMessage',
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
    'ssm:SendCommand',
    'ssm:GetCommandInvocation',
    'ssm:DescribeInstanceInformation',
    'autoscaling:CompleteLifecycleAction',
    'elasticloadbalancing:RegisterTargets',
    'elasticloadbalancing:DeregisterTargets',
    'elasticloadbalancing:DescribeTargetHealth',
    'sns:Publish',
  ]) {
    expect(actions).toContain(action);
  }
  // SendCommand was authorized on our documents and on compute instances only.
  const sendCommand = decisions.filter((d) => d.action === 'ssm:SendCommand').map((d) => d.resource);
  expect(sendCommand.every((r) => /:document\/pydio-autoscaler-h6it-|:instance\/i-/.test(r))).toBe(true);
});
