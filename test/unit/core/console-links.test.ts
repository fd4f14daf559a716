import { autoScalingGroupUrl, consoleLinks, instanceUrl, locationOfArn, logStreamUrl, targetGroupUrl, type NoticeContext } from '../../../lib/core/console-links';
import { buildNotification, type Notification } from '../../../lib/core/notification';

const EU = { partition: 'aws', region: 'eu-west-1', account: '123456789012' };
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio-tg/0123456789abcdef';

describe('locationOfArn', () => {
  it.each([
    ['arn:aws:sns:eu-west-1:123456789012:pydio-autoscaler-prod-notifications', EU],
    ['arn:aws-cn:sns:cn-north-1:123456789012:t', { partition: 'aws-cn', region: 'cn-north-1', account: '123456789012' }],
    ['arn:aws:iam::123456789012:role/r', undefined],
    ['not an arn', undefined],
  ])('%s -> %j', (arn, expected) => {
    expect(locationOfArn(arn)).toEqual(expected);
  });
});

describe('console URLs', () => {
  it.each([
    ['instance', instanceUrl(EU, 'i-0abc'), 'https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#InstanceDetails:instanceId=i-0abc'],
    ['group', autoScalingGroupUrl(EU, 'pydio compute'), 'https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#AutoScalingGroupDetails:id=pydio%20compute;view=details'],
    ['target group', targetGroupUrl(EU, TG), `https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#TargetGroup:targetGroupArn=${TG}`],
    ['log stream', logStreamUrl(EU, '/aws/lambda/f', '2026/11/21/[$LATEST]ab'), 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Ff/log-events/2026$252F11$252F21$252F$255B$2524LATEST$255Dab'],
    ['another partition: no link', instanceUrl({ ...EU, partition: 'aws-cn', region: 'cn-north-1' }, 'i-0abc'), undefined],
    ['a region that is not one: no link', instanceUrl({ ...EU, region: 'eu-west-1/../x' }, 'i-0abc'), undefined],
  ])('%s', (_what, url, expected) => {
    expect(url).toBe(expected);
  });
});

describe('consoleLinks: what each notice links to', () => {
  const context: NoticeContext = { location: EU, computeGroupName: 'pydio-compute', storageGroupName: 'pydio-storage', targetGroupArn: TG, logGroupName: '/aws/lambda/f', logStreamName: 's' };
  const notice = (eventType: Notification['eventType'], attributes: Record<string, string>) => buildNotification({ stage: 'prod', eventType, severity: 'info', subject: 's', body: 'b', attributes });
  const labels = (n: Notification, c: NoticeContext = context) => consoleLinks(n, c).map((link) => link.label.split(' ')[0] ?? '');

  it.each([
    ['a compute flow: instance, group, target group, log', notice('lifecycle.failed', { instanceId: 'i-1', asgName: 'pydio-compute', flow: 'compute-launch' }), ['Instance', 'Auto', 'Target', 'Log']],
    ['a compute scaling decision: group, target group, log', notice('scaling.decided', { asgName: 'pydio-compute', alarmName: 'a' }), ['Auto', 'Target', 'Log']],
    ['a storage member: instance, the storage group, log', notice('lifecycle.succeeded', { instanceId: 'i-2', tier: 'storage' }), ['Instance', 'Auto', 'Log']],
    ['a storage operation: the storage group, log', notice('storage.planned', { volume: 'pydio-data', operation: 'expand' }), ['Auto', 'Log']],
    ['a malformed event: the log only', notice('event.malformed', {}), ['Log']],
  ])('%s', (_case, n, expected) => {
    expect(labels(n)).toEqual(expected);
  });

  it('leaves out what the function does not know', () => {
    const n = notice('lifecycle.failed', { instanceId: 'i-1', asgName: 'pydio-compute', flow: 'compute-launch' });
    expect(labels(n, { location: EU })).toEqual(['Instance', 'Auto']);
    expect(consoleLinks(n, {})).toEqual([]);
    expect(labels(notice('storage.planned', { volume: 'v' }), { location: EU, storageGroupName: '' })).toEqual([]);
  });
});
