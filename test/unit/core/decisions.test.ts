import type { CommandInvocation } from '../../../lib/ports/ssm';
import {
  agentTooOld,
  attachmentWarnings,
  decideDrained,
  decideHealthy,
  decideInvocation,
  firstDrainedCheckSeconds,
  firstHealthyCheckSeconds,
  healthCheckWarnings,
  outputTail,
  stickinessWarnings,
  waitingState,
  waitUntil,
} from '../../../lib/core/decisions';

const inv = (status: CommandInvocation['status'], exitCode = -1, stdout = '', stderr = ''): CommandInvocation => ({ status, exitCode, stdout, stderr });

describe('decideInvocation', () => {
  it.each([
    ['Success', inv('Success', 0), 10, 'next'],
    ['Pending', inv('Pending'), 10, 'wait'],
    ['InProgress', inv('InProgress'), 10, 'wait'],
    ['Delayed', inv('Delayed'), 10, 'wait'],
    ['InProgress far past the timeout', inv('InProgress'), 600 + 121, 'fail'],
    ['Failed', inv('Failed', 3, 'out', 'boom'), 10, 'fail'],
    ['TimedOut', inv('TimedOut'), 10, 'fail'],
    ['Cancelled', inv('Cancelled'), 10, 'fail'],
  ] as const)('%s -> %s', (_name, invocation, elapsed, kind) => {
    expect(decideInvocation(invocation, 'doc', elapsed, 600).kind).toBe(kind);
  });

  it('reports exit code and output tail of a failed command', () => {
    const outcome = decideInvocation(inv('Failed', 3, 'line1\nline2', 'mount failed'), 'pydio-mount-volumes', 10, 600);
    expect(outcome).toEqual({
      kind: 'fail',
      reason: 'pydio-mount-volumes failed with exit code 3',
      output: 'stderr:\nmount failed\nstdout:\nline1\nline2',
    });
  });
});

describe('outputTail', () => {
  it('keeps only the last lines', () => {
    const stdout = Array.from({ length: 50 }, (_, i) => `l${i}`).join('\n');
    expect(outputTail({ stdout, stderr: '' }, 3)).toBe('stdout:\nl47\nl48\nl49');
  });
  it('says when there was no output', () => {
    expect(outputTail({ stdout: ' ', stderr: '' })).toBe('(no output)');
  });
});

describe('decideHealthy', () => {
  it.each([
    ['healthy', { state: 'healthy' }, 5, 'next'],
    ['initial in time', { state: 'initial', reason: 'Elb.RegistrationInProgress' }, 5, 'wait'],
    ['unhealthy in time', { state: 'unhealthy' }, 5, 'wait'],
    ['unhealthy too long', { state: 'unhealthy', reason: 'Target.FailedHealthChecks' }, 601, 'fail'],
    ['gone', { state: 'absent' }, 5, 'fail'],
    ['draining', { state: 'draining' }, 5, 'fail'],
    ['unused', { state: 'unused' }, 5, 'fail'],
  ] as const)('%s -> %s', (_name, health, elapsed, kind) => {
    expect(decideHealthy(health, elapsed, 600).kind).toBe(kind);
  });

  it('names the reason when giving up', () => {
    const outcome = decideHealthy({ state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' }, 700, 600);
    expect(outcome).toMatchObject({ kind: 'fail', reason: expect.stringContaining('Target.FailedHealthChecks: Health checks failed') });
  });
});

describe('decideDrained', () => {
  it.each([
    ['gone', 'absent', 10, 300, 900, 'next', undefined],
    ['unused', 'unused', 10, 300, 900, 'next', undefined],
    ['draining early: waits for the end of the delay, capped by the retry max', 'draining', 10, 300, 900, 'wait', 120],
    ['draining near the end of the delay: waits until just past it', 'draining', 290, 300, 900, 'wait', 11],
    ['delay over, still draining: a short check', 'draining', 301, 300, 900, 'wait', 10],
    ['short checks never pass the limit', 'draining', 325, 300, 900, 'wait', 5],
    ['delay passed (plus margin)', 'draining', 331, 300, 900, 'next', undefined],
    ['bounded by DRAIN_MAX_SECONDS', 'draining', 61, 300, 60, 'next', undefined],
  ] as const)('%s', (_name, state, elapsed, delay, max, kind, waitFor) => {
    const outcome = decideDrained({ state }, elapsed, delay, max, 120, 10);
    expect(outcome.kind).toBe(kind);
    if (outcome.kind === 'wait') expect(outcome.delaySeconds).toBe(waitFor);
  });

  it('warns when it stops waiting for a drain', () => {
    expect(decideDrained({ state: 'draining' }, 400, 300, 900, 120, 10)).toMatchObject({ kind: 'next', warning: expect.stringMatching(/still draining/) });
  });
});

describe('timed waits', () => {
  it.each([
    ['ELB defaults (30 s)', { intervalSeconds: 30, healthyThreshold: 5 }, 31],
    ['the sandbox target group (5 s)', { intervalSeconds: 5, healthyThreshold: 2 }, 6],
    ['the longest interval ELB takes (300 s)', { intervalSeconds: 300, healthyThreshold: 10 }, 301],
  ])('a new target can first be healthy one interval after registration: %s', (_name, check, first) => {
    expect(firstHealthyCheckSeconds(check)).toBe(first);
  });

  it.each([
    ['at the end of the delay', 300, 900, 301],
    ['a zero delay: at once (the margin)', 0, 900, 1],
    ['never past DRAIN_MAX_SECONDS', 300, 60, 60],
  ])('a drained target is first looked at %s', (_name, delay, max, first) => {
    expect(firstDrainedCheckSeconds(delay, max)).toBe(first);
  });

  it.each([
    [0, 31, 120, 31],
    [0, 301, 120, 120],
    [30.2, 31, 120, 1],
    [31, 31, 120, undefined],
    [40, 31, 120, undefined],
  ])('waitUntil(%p s in, at %p s, max %p s) = %p', (elapsed, at, max, wait) => {
    expect(waitUntil(elapsed, at, max)).toBe(wait);
  });

  it('decideHealthy looks again one interval later once the health check is known, bounded by the retry max', () => {
    const health = { state: 'initial', reason: 'Elb.InitialHealthChecking' } as const;
    expect(decideHealthy(health, 31, 600, { check: { intervalSeconds: 30, healthyThreshold: 5 }, maxDelaySeconds: 120 })).toEqual({ kind: 'wait', reason: 'target is initial', delaySeconds: 30 });
    expect(decideHealthy(health, 301, 600, { check: { intervalSeconds: 300, healthyThreshold: 5 }, maxDelaySeconds: 120 })).toMatchObject({ delaySeconds: 120 });
    // The last look is at the timeout, not an interval past it.
    expect(decideHealthy(health, 595, 600, { check: { intervalSeconds: 30, healthyThreshold: 5 }, maxDelaySeconds: 120 })).toMatchObject({ delaySeconds: 6 });
  });

  it('decideHealthy names the health check when giving up', () => {
    const outcome = decideHealthy({ state: 'unhealthy' }, 601, 600, { check: { intervalSeconds: 30, healthyThreshold: 5 }, maxDelaySeconds: 120 });
    expect(outcome).toMatchObject({ kind: 'fail', reason: expect.stringContaining('checked every 30s, back after 5 passes once unhealthy') });
  });

  it('warns when the healthy timeout is shorter than an unhealthy target needs to come back', () => {
    expect(healthCheckWarnings({ intervalSeconds: 30, healthyThreshold: 5 }, 600)).toEqual([]);
    expect(healthCheckWarnings({ intervalSeconds: 300, healthyThreshold: 5 }, 600)).toEqual([expect.stringContaining('HEALTHY_TIMEOUT_SECONDS (600s) is shorter than the 1500s')]);
  });
});

describe('stickinessWarnings', () => {
  it.each([
    ['app cookie on the app\'s session cookie', { stickinessEnabled: true, stickinessType: 'app_cookie', cookieName: 'AjaXplorer', deregistrationDelaySeconds: 300 }, 0],
    ['app cookie on Pydio, a name Pydio 8 never sets', { stickinessEnabled: true, stickinessType: 'app_cookie', cookieName: 'Pydio', deregistrationDelaySeconds: 300 }, 1],
    ['app cookie on the settings UI\'s cookie', { stickinessEnabled: true, stickinessType: 'app_cookie', cookieName: 'Pydio_Settings', deregistrationDelaySeconds: 300 }, 1],
    ['app cookie in another case', { stickinessEnabled: true, stickinessType: 'app_cookie', cookieName: 'ajaxplorer', deregistrationDelaySeconds: 300 }, 1],
    ['stickiness off', { stickinessEnabled: false, stickinessType: 'lb_cookie', cookieName: '', deregistrationDelaySeconds: 300 }, 1],
    ['lb cookie', { stickinessEnabled: true, stickinessType: 'lb_cookie', cookieName: '', deregistrationDelaySeconds: 300 }, 1],
    ['other cookie', { stickinessEnabled: true, stickinessType: 'app_cookie', cookieName: 'PHPSESSID', deregistrationDelaySeconds: 300 }, 1],
  ])('%s', (_name, settings, count) => {
    expect(stickinessWarnings(settings, 'AjaXplorer')).toHaveLength(count);
  });

  it('names the cookie it expected and the one it found', () => {
    const [warning] = stickinessWarnings({ stickinessEnabled: true, stickinessType: 'app_cookie', cookieName: 'Pydio', deregistrationDelaySeconds: 300 }, 'AjaXplorer');
    expect(warning).toMatch(/app_cookie on Pydio, expected app_cookie on AjaXplorer/);
  });
});

it('waitingState', () => {
  expect(waitingState('launch')).toBe('Pending:Wait');
  expect(waitingState('terminate')).toBe('Terminating:Wait');
});

describe('attachmentWarnings', () => {
  it('warns only when the group itself carries our target group', () => {
    expect(attachmentWarnings(['arn:tg/a', 'arn:tg/b'], 'arn:tg/b')).toHaveLength(1);
    expect(attachmentWarnings(['arn:tg/a'], 'arn:tg/b')).toEqual([]);
    expect(attachmentWarnings([], 'arn:tg/b')).toEqual([]);
  });
});

describe('agentTooOld', () => {
  it.each([
    ['3.3.2746.0', undefined],
    ['3.3.3572.0', undefined],
    ['3.4.0.0', undefined],
    ['4.0', undefined],
    [undefined, undefined],
    ['unknown', undefined],
    ['3.3.2745.9', /SSM agent 3.3.2745.9 is older than 3.3.2746.0/],
    ['3.2.9999.0', /older than 3.3.2746.0/],
    ['2.3.1319.0', /update amazon-ssm-agent in the image/],
  ] as const)('agent %s -> %s', (version, expected) => {
    const reason = agentTooOld(version);
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });
});
