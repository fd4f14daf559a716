import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  InvalidTargetException,
  RegisterTargetsCommand,
  type TargetHealthStateEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { createElbv2Client, createTargetGroupPort } from '../../../lib/aws/elbv2';
import type { TargetState } from '../../../lib/ports/elbv2';
import { AwsCallError } from '../../../lib/errors';
import { awsError, recordingLog } from './helpers';

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio/0123456789abcdef';

function port(dryRun = false) {
  const log = recordingLog();
  return { log, targets: createTargetGroupPort(new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }), { dryRun, log }) };
}

const invalidTarget = () => new InvalidTargetException({ message: 'The following targets are not in a running state: i-0abc', $metadata: {} });

beforeEach(() => elbMock.reset());

describe('registerTarget / deregisterTarget', () => {
  it.each([
    ['registerTarget', RegisterTargetsCommand],
    ['deregisterTarget', DeregisterTargetsCommand],
  ] as const)('%s sends the instance and port', async (method, Command) => {
    // Prepare
    elbMock.on(Command).resolves({});
    // Act
    await port().targets[method](TG, 'i-0abc', 80);
    // Assess
    expect(elbMock.commandCalls(Command)[0].args[0].input).toEqual({ TargetGroupArn: TG, Targets: [{ Id: 'i-0abc', Port: 80 }] });
  });

  it.each(['registerTarget', 'deregisterTarget'] as const)('%s in dry run sends nothing', async (method) => {
    const { targets, log } = port(true);
    await targets[method](TG, 'i-0abc', 80);
    expect(elbMock.calls()).toHaveLength(0);
    expect(log.infos[0][1]).toMatchObject({ dryRun: true, instanceId: 'i-0abc', TargetGroupArn: TG });
  });

  it('register wraps InvalidTarget: a launch cannot go on without its target', async () => {
    elbMock.on(RegisterTargetsCommand).rejects(invalidTarget());
    const error = await port().targets.registerTarget(TG, 'i-0abc', 80).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect((error as AwsCallError).operation).toBe('RegisterTargets');
  });

  it('deregister treats InvalidTarget (instance gone) as done, with a warning', async () => {
    elbMock.on(DeregisterTargetsCommand).rejects(invalidTarget());
    const { targets, log } = port();
    await expect(targets.deregisterTarget(TG, 'i-0abc', 80)).resolves.toBeUndefined();
    expect(log.warn).toHaveBeenCalledTimes(1);
  });

  it('deregister wraps other failures', async () => {
    elbMock.on(DeregisterTargetsCommand).rejects(awsError('TargetGroupNotFoundException', 'no such group'));
    await expect(port().targets.deregisterTarget(TG, 'i-0abc', 80)).rejects.toThrow(/DeregisterTargets: TargetGroupNotFoundException/);
  });
});

describe('describeTargetHealth', () => {
  it('asks about the one target', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    await port().targets.describeTargetHealth(TG, 'i-0abc', 80);
    expect(elbMock.commandCalls(DescribeTargetHealthCommand)[0].args[0].input).toEqual({ TargetGroupArn: TG, Targets: [{ Id: 'i-0abc', Port: 80 }] });
  });

  it.each<[TargetHealthStateEnum, string | undefined, TargetState]>([
    ['initial', 'Elb.RegistrationInProgress', 'initial'],
    ['healthy', undefined, 'healthy'],
    ['unhealthy', 'Target.ResponseCodeMismatch', 'unhealthy'],
    ['unused', 'Target.NotInUse', 'unused'],
    ['unused', 'Target.NotRegistered', 'absent'],
    ['draining', 'Target.DeregistrationInProgress', 'draining'],
    ['unhealthy.draining', 'Target.FailedHealthChecks', 'draining'],
    ['unavailable', 'Target.HealthCheckDisabled', 'unavailable'],
  ])('maps %s (%s) to %s', async (state, reason, expected) => {
    elbMock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [{
        Target: { Id: 'i-0abc', Port: 80 },
        TargetHealth: { State: state, ...(reason ? { Reason: reason as never, Description: `why: ${reason}` } : {}) },
      }],
    });
    const health = await port().targets.describeTargetHealth(TG, 'i-0abc', 80);
    expect(health).toEqual({ state: expected, ...(reason ? { reason, description: `why: ${reason}` } : {}) });
  });

  it.each([
    ['no description at all', () => elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] })],
    ['a description for another target only', () => elbMock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [{ Target: { Id: 'i-other', Port: 80 }, TargetHealth: { State: 'healthy' } }],
    })],
    ['InvalidTarget', () => elbMock.on(DescribeTargetHealthCommand).rejects(invalidTarget())],
  ])('reads %s as absent', async (_case, prepare) => {
    prepare();
    await expect(port().targets.describeTargetHealth(TG, 'i-0abc', 80)).resolves.toEqual({ state: 'absent' });
  });

  it('fails on a state it does not know', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [{ Target: { Id: 'i-0abc', Port: 80 }, TargetHealth: { State: 'sleepy' as TargetHealthStateEnum } }],
    });
    await expect(port().targets.describeTargetHealth(TG, 'i-0abc', 80)).rejects.toThrow(/unknown target state "sleepy"/);
  });

  it('still reads health in dry run', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    await port(true).targets.describeTargetHealth(TG, 'i-0abc', 80);
    expect(elbMock.commandCalls(DescribeTargetHealthCommand)).toHaveLength(1);
  });
});

describe('describeSettings', () => {
  const attrs = (pairs: Record<string, string>) => ({ Attributes: Object.entries(pairs).map(([Key, Value]) => ({ Key, Value })) });

  it('reads app-cookie stickiness and the deregistration delay', async () => {
    elbMock.on(DescribeTargetGroupAttributesCommand).resolves(attrs({
      'stickiness.enabled': 'true',
      'stickiness.type': 'app_cookie',
      'stickiness.app_cookie.cookie_name': 'Pydio',
      'stickiness.app_cookie.duration_seconds': '86400',
      'deregistration_delay.timeout_seconds': '120',
    }));
    const settings = await port().targets.describeSettings(TG);
    expect(elbMock.commandCalls(DescribeTargetGroupAttributesCommand)[0].args[0].input).toEqual({ TargetGroupArn: TG });
    expect(settings).toEqual({ stickinessEnabled: true, stickinessType: 'app_cookie', cookieName: 'Pydio', deregistrationDelaySeconds: 120 });
  });

  it('defaults what is not reported', async () => {
    elbMock.on(DescribeTargetGroupAttributesCommand).resolves({ Attributes: [] });
    await expect(port().targets.describeSettings(TG)).resolves.toEqual({
      stickinessEnabled: false, stickinessType: 'lb_cookie', cookieName: '', deregistrationDelaySeconds: 300,
    });
  });

  it.each(['soon', '-5', '1.5'])('refuses a deregistration delay of %p', async (value) => {
    elbMock.on(DescribeTargetGroupAttributesCommand).resolves(attrs({ 'deregistration_delay.timeout_seconds': value }));
    await expect(port().targets.describeSettings(TG)).rejects.toThrow(/deregistration_delay.timeout_seconds is not a whole number/);
  });

  it('reads a zero delay as zero, not the default', async () => {
    elbMock.on(DescribeTargetGroupAttributesCommand).resolves(attrs({ 'deregistration_delay.timeout_seconds': '0', 'stickiness.enabled': 'false' }));
    await expect(port().targets.describeSettings(TG)).resolves.toMatchObject({ deregistrationDelaySeconds: 0, stickinessEnabled: false });
  });
});

describe('describeHealthCheck', () => {
  it('reads the health check interval and healthy threshold of the one target group', async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG, HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 3 }] });
    await expect(port().targets.describeHealthCheck(TG)).resolves.toEqual({ intervalSeconds: 10, healthyThreshold: 3 });
    expect(elbMock.commandCalls(DescribeTargetGroupsCommand)[0].args[0].input).toEqual({ TargetGroupArns: [TG] });
  });

  it('takes ELB\'s HTTP defaults (30 s, 5 successes) for what is not reported', async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    await expect(port().targets.describeHealthCheck(TG)).resolves.toEqual({ intervalSeconds: 30, healthyThreshold: 5 });
  });

  it.each([0, -5, 1.5])('refuses an interval of %p', async (value) => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG, HealthCheckIntervalSeconds: value }] });
    await expect(port().targets.describeHealthCheck(TG)).rejects.toThrow(/HealthCheckIntervalSeconds .* is not a positive whole number/);
  });

  it('fails naming the target group when the answer has none', async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
    await expect(port().targets.describeHealthCheck(TG)).rejects.toThrow(AwsCallError);
    await expect(port().targets.describeHealthCheck(TG)).rejects.toThrow(/is not in the answer/);
  });
});

describe('createElbv2Client', () => {
  it('retries up to 5 attempts', async () => {
    await expect(createElbv2Client().config.maxAttempts()).resolves.toBe(5);
  });
});

describe('describeTargets', () => {
  it('lists every registered target with its health, asking for the whole group', async () => {
    // Prepare
    elbMock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: 'i-0aaa', Port: 80 }, TargetHealth: { State: 'healthy' } },
        { Target: { Id: 'i-0bbb', Port: 80 }, TargetHealth: { State: 'unhealthy', Reason: 'Target.FailedHealthChecks', Description: 'Health checks failed' } },
        { Target: { Id: 'i-0ccc', Port: 8080 }, TargetHealth: { State: 'unhealthy.draining' as TargetHealthStateEnum } },
      ],
    });
    // Act
    const targets = await port().targets.describeTargets(TG);
    // Assess
    expect(elbMock.commandCalls(DescribeTargetHealthCommand)[0].args[0].input).toEqual({ TargetGroupArn: TG });
    expect(targets).toEqual([
      { instanceId: 'i-0aaa', port: 80, state: 'healthy' },
      { instanceId: 'i-0bbb', port: 80, state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' },
      { instanceId: 'i-0ccc', port: 8080, state: 'draining' },
    ]);
  });

  it('answers an empty group with an empty list', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({});
    await expect(port().targets.describeTargets(TG)).resolves.toEqual([]);
  });

  it.each([
    ['an unknown state', { Target: { Id: 'i-0aaa', Port: 80 }, TargetHealth: { State: 'bogus' as TargetHealthStateEnum } }, /unknown target state "bogus"/],
    ['a target without port', { Target: { Id: 'i-0aaa' }, TargetHealth: { State: 'healthy' as TargetHealthStateEnum } }, /no Id or Port/],
  ])('refuses %s', async (_what, description, message) => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [description] });
    const error = await port().targets.describeTargets(TG).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCallError);
    expect((error as Error).message).toMatch(message);
  });

  it('wraps a failing call, naming the operation', async () => {
    elbMock.on(DescribeTargetHealthCommand).rejects(awsError('TargetGroupNotFound', 'One or more target groups not found'));
    const error = await port().targets.describeTargets(TG).catch((e: unknown) => e);
    expect((error as AwsCallError).operation).toBe('DescribeTargetHealth');
  });
});
