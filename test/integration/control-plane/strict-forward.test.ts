/**
 * Requests the front forwards to moto are held to AWS's limits first: each
 * case below is one that moto 5.2.1 answers (checked with awscli, see the
 * catalogue entries) and AWS refuses, with AWS's error code; the same request
 * within the limit still reaches moto.
 */
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTagsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateDocumentCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { MotoServer } from '../../sandbox/control-plane/moto';
import { startHarness, startMoto, type Harness } from './harness';

jest.setTimeout(60_000);

let moto: MotoServer;
let h: Harness;

beforeAll(async () => {
  moto = await startMoto();
  h = await startHarness(moto);
});
afterAll(async () => {
  await h?.cp.stop();
  await moto?.stop();
});

// The SDK names each error by its modeled shape: wire code InvalidParameter is InvalidParameterException, and so on.
test('SNS Publish: a subject of 100 characters or with a line break, and an empty message, are InvalidParameter', async () => {
  const sns = new SNSClient(h.config);
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'strict-forward' }));
  await expect(sns.send(new PublishCommand({ TopicArn, Subject: 's'.repeat(100), Message: 'm' }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
  await expect(sns.send(new PublishCommand({ TopicArn, Subject: 'a\nb', Message: 'm' }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
  await expect(sns.send(new PublishCommand({ TopicArn, Message: '' }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
  await expect(sns.send(new PublishCommand({ TopicArn, Subject: 's'.repeat(99), Message: 'm' }))).resolves.toMatchObject({ MessageId: expect.any(String) });
});

test('SNS Publish MessageStructure=json: no default entry, or a body that is not a JSON object, is InvalidParameter even with no subscriber (moto 5.2.1 takes both)', async () => {
  const sns = new SNSClient(h.config);
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'strict-forward-json' }));
  await expect(sns.send(new PublishCommand({ TopicArn, MessageStructure: 'json', Message: '{"sqs":"x"}' }))).rejects.toMatchObject({ name: 'InvalidParameterException', message: 'Invalid parameter: Message Structure - No default entry in JSON message body' });
  await expect(sns.send(new PublishCommand({ TopicArn, MessageStructure: 'json', Message: '{"default":"x"} }' }))).rejects.toMatchObject({ name: 'InvalidParameterException', message: 'Invalid parameter: Message Structure - JSON message body failed to parse' });
  await expect(sns.send(new PublishCommand({ TopicArn, MessageStructure: 'json', Message: '{"default":"x"}' }))).resolves.toMatchObject({ MessageId: expect.any(String) });
});

test('SNS MessageStructure=json delivery: an SQS subscriber gets the sqs entry (a non-string one is ignored, as SNS does), a severity filter policy passes only what it lists and nothing without the attribute', async () => {
  const sns = new SNSClient(h.config);
  const sqs = new SQSClient(h.config);
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'strict-forward-delivery' }));
  const queue = async (name: string) => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl ?? '';
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn ?? '';
    return { url, arn };
  };
  const all = await queue('sf-all');
  const errorsOnly = await queue('sf-errors');
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: all.arn }));
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: errorsOnly.arn, Attributes: { FilterPolicy: JSON.stringify({ severity: ['warning', 'error'] }) } }));
  const severity = (value: string) => ({ severity: { DataType: 'String', StringValue: value } });
  await sns.send(new PublishCommand({ TopicArn, MessageStructure: 'json', Message: JSON.stringify({ default: 'text info', sqs: 'sqs info', https: '{}' }), MessageAttributes: severity('info') }));
  await sns.send(new PublishCommand({ TopicArn, MessageStructure: 'json', Message: JSON.stringify({ default: 'text error', sqs: { not: 'a string' } }), MessageAttributes: severity('error') }));
  await sns.send(new PublishCommand({ TopicArn, Message: 'an alarm without attributes' }));
  const read = async (url: string) => ((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }))).Messages ?? []).map((m) => (JSON.parse(m.Body ?? '{}') as { Message: string }).Message).sort();
  expect(await read(all.url)).toEqual(['an alarm without attributes', 'sqs info', 'text error']);
  expect(await read(errorsOnly.url)).toEqual(['text error']);
});

test('Parameter Store: a 16-level name is HierarchyLevelLimitExceededException, a 4,097-character value ValidationException', async () => {
  const ssm = new SSMClient(h.config);
  const deep = `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`;
  await expect(ssm.send(new PutParameterCommand({ Name: deep, Value: 'v', Type: 'String' }))).rejects.toMatchObject({ name: 'HierarchyLevelLimitExceededException' });
  await expect(ssm.send(new PutParameterCommand({ Name: '/strict/value', Value: 'v'.repeat(4097), Type: 'String' }))).rejects.toMatchObject({ name: 'ValidationException' });
  await expect(ssm.send(new PutParameterCommand({ Name: '/strict/value', Value: 'v'.repeat(4096), Type: 'String' }))).resolves.toMatchObject({ Version: 1 });
});

test('EC2 CreateTags: a key starting aws: (any case) and a 129-character key are refused', async () => {
  const ec2 = new EC2Client(h.config);
  const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1 }));
  const id = run.Instances?.[0]?.InstanceId ?? '';
  await expect(ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'AWS:x', Value: 'v' }] }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  await expect(ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'k'.repeat(129), Value: 'v' }] }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  await expect(ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'pydio-autoscaler:storage-state', Value: 'joined' }] }))).resolves.toBeDefined();
});

test('CloudWatch: DescribeAlarms with 101 names, and GetMetricStatistics over 1,440 datapoints or with period 45, are refused', async () => {
  const cw = new CloudWatchClient(h.config);
  const names = Array.from({ length: 101 }, (_, i) => `alarm-${i}`);
  await expect(cw.send(new DescribeAlarmsCommand({ AlarmNames: names }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('less than or equal to 100') });
  await expect(cw.send(new DescribeAlarmsCommand({ AlarmNames: names.slice(0, 100) }))).resolves.toMatchObject({ MetricAlarms: [] });
  const end = new Date('2026-11-21T12:00:00Z');
  const query = (seconds: number, period: number) => new GetMetricStatisticsCommand({
    Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', StartTime: new Date(end.getTime() - seconds * 1000), EndTime: end, Period: period, Statistics: ['Average'],
  });
  await expect(cw.send(query(1441 * 60, 60))).rejects.toMatchObject({ name: 'InvalidParameterCombinationException' });
  await expect(cw.send(query(600, 45))).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
  await expect(cw.send(query(1440 * 60, 60))).resolves.toMatchObject({ Datapoints: [] });
});

test('SQS: a retention of 14 days and a second, or a visibility timeout over 12 hours, is InvalidAttributeValue; the stack values pass', async () => {
  const sqs = new SQSClient(h.config);
  await expect(sqs.send(new CreateQueueCommand({ QueueName: 'strict-retention', Attributes: { MessageRetentionPeriod: '1209601' } }))).rejects.toMatchObject({ name: 'InvalidAttributeValue' });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'strict-retention', Attributes: { MessageRetentionPeriod: '1209600', VisibilityTimeout: '360' } }));
  await expect(sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { VisibilityTimeout: '43201' } }))).rejects.toMatchObject({ name: 'InvalidAttributeValue' });
});

test('SSM CreateDocument: content over 64 KB is MaxDocumentSizeExceeded', async () => {
  const ssm = new SSMClient(h.config);
  const content = (pad: number) => JSON.stringify({ schemaVersion: '2.2', description: 'x'.repeat(pad), mainSteps: [{ action: 'aws:runShellScript', name: 's', inputs: { runCommand: ['true'] } }] });
  await expect(ssm.send(new CreateDocumentCommand({ Name: 'strict-big', Content: content(64 * 1024), DocumentType: 'Command', DocumentFormat: 'JSON' }))).rejects.toMatchObject({ name: 'MaxDocumentSizeExceeded' });
  await expect(ssm.send(new CreateDocumentCommand({ Name: 'strict-small', Content: content(100), DocumentType: 'Command', DocumentFormat: 'JSON' }))).resolves.toBeDefined();
});

test('EventBridge PutRule: a rate with the wrong number for its unit, a zero rate and a cron of five fields are "Parameter ScheduleExpression is not valid."', async () => {
  const events = new EventBridgeClient(h.config);
  for (const expression of ['rate(3 minute)', 'rate(1 minutes)', 'rate(0 minutes)', 'rate(5 weeks)', 'cron(0 0 * * ?)', 'every minute']) {
    await expect(events.send(new PutRuleCommand({ Name: 'strict-schedule', ScheduleExpression: expression }))).rejects.toMatchObject({ name: 'ValidationException', message: 'Parameter ScheduleExpression is not valid.' });
  }
  for (const expression of ['rate(1 minute)', 'rate(5 minutes)', 'rate(1 hour)', 'cron(0 12 * * ? *)']) {
    await expect(events.send(new PutRuleCommand({ Name: 'strict-schedule', ScheduleExpression: expression }))).resolves.toMatchObject({ RuleArn: expect.stringContaining(':rule/strict-schedule') });
  }
});
