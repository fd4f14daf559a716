/**
 * The stand-ins of AWS-ConfigureAWSPackage and AmazonCloudWatch-ManageAgent
 * through the emulator's Run Command, sent the way the sandbox starts the
 * agent on members that predate the stack (configureAgentOn): each document's
 * working step is read by its plugin name, as a document with several steps
 * must be.
 */
import { AutoScalingClient, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { ListCommandInvocationsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { configureAgentOn, registerAwsDocuments } from '../../sandbox/control-plane/aws-documents';
import { createStageEnvironment } from '../../sandbox/control-plane/aws-setup';
import type { MotoServer } from '../../sandbox/control-plane/moto';
import { startHarness, startMoto, type Harness } from './harness';

jest.setTimeout(60_000);

let moto: MotoServer;
let h: Harness;

beforeAll(async () => {
  moto = await startMoto();
  h = await startHarness(moto);
  const env = await createStageEnvironment(h.cp.url, { prefix: 'h4a' });
  await new AutoScalingClient(h.config).send(new SetDesiredCapacityCommand({ AutoScalingGroupName: env.groupName, DesiredCapacity: 2 }));
  await registerAwsDocuments(h.config);
});
afterAll(async () => {
  await h?.cp.stop();
  await moto?.stop();
});

test('both documents run on every member with the flow\'s parameters; ManageAgent runs its three steps', async () => {
  const ids = h.hosts.launched.map((l) => l.instanceId);
  await configureAgentOn(h.config, ids, 'AmazonCloudWatch-pydio-autoscaler-test-storage', 20_000);
  const out = await new SSMClient(h.config).send(new ListCommandInvocationsCommand({ Details: true }));
  const byDocument = (name: string) => (out.CommandInvocations ?? []).filter((i) => i.DocumentName === name);
  expect(byDocument('AWS-ConfigureAWSPackage').map((i) => i.Status)).toEqual(['Success', 'Success']);
  const manage = byDocument('AmazonCloudWatch-ManageAgent');
  expect(manage.map((i) => i.Status)).toEqual(['Success', 'Success']);
  expect(manage[0]!.CommandPlugins!.map((p) => p.Name)).toEqual(['ControlCloudWatchAgentWindows', 'ControlCloudWatchAgentLinux', 'ControlCloudWatchAgentMacOS']);
});

test('a failed step is told with its output, not waited on', async () => {
  h.executor.failStep('AWS-ConfigureAWSPackage', 'configurePackage', { stdout: 'no route to the Distributor bucket' });
  const [id] = h.hosts.launched.map((l) => l.instanceId);
  await expect(configureAgentOn(h.config, [id!], 'AmazonCloudWatch-x', 20_000)).rejects.toThrow(/AWS-ConfigureAWSPackage on .*: Failed: no route to the Distributor bucket/);
});
