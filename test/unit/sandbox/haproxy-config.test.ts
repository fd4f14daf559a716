import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TARGET_GROUP_HEALTH_CHECK, TARGET_GROUP_STICKINESS } from '../../sandbox/control-plane/aws-setup';
import { checkedHealthCheck, haproxyConfig, HaproxyDataPlane, httpCheckExpect, matcherCodes } from '../../sandbox/hosts';

const sticky = [{ port: 18080, stickiness: TARGET_GROUP_STICKINESS }];

function haproxyAccepts(config: string): boolean | undefined {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
  } catch {
    return undefined; // no haproxy here: the e2e tests check it where it exists
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'pas-haproxy-'));
  try {
    writeFileSync(path.join(dir, 'h.cfg'), config.replace(/stats socket \S+/, `stats socket ${dir}/s.sock`));
    execFileSync('haproxy', ['-c', '-q', '-f', path.join(dir, 'h.cfg')], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('haproxyConfig (the emulated ALB)', () => {
  it('sticks on the target group\'s app cookie, which is Pydio 8\'s AjaXplorer, for its duration', () => {
    const config = haproxyConfig('/tmp/x.sock', sticky, TARGET_GROUP_HEALTH_CHECK);
    expect(TARGET_GROUP_STICKINESS.cookieName).toBe('AjaXplorer');
    expect(config).toContain('stick store-response res.cook(AjaXplorer)');
    expect(config).toContain('stick match req.cook(AjaXplorer)');
    expect(config).toContain('stick store-request req.cook(AjaXplorer)'); // stays on the new target after a failure
    expect(config).toContain('expire 86400s');
    expect(config).not.toMatch(/cook\(Pydio\)/);
  });

  it('makes no retry or redispatch that an ALB would not make', () => {
    const config = haproxyConfig('/tmp/x.sock', sticky, TARGET_GROUP_HEALTH_CHECK);
    expect(config).toMatch(/^\s*retries 0$/m);
    expect(config).toMatch(/^\s*no option redispatch$/m);
    expect(config).not.toMatch(/^\s*option redispatch/m);
  });

  it('has no stickiness when the target group has none (the target group default)', () => {
    expect(haproxyConfig('/tmp/x.sock', [{ port: 18080 }], TARGET_GROUP_HEALTH_CHECK)).not.toContain('stick');
  });

  it.each([
    ['a reserved ALB name', { cookieName: 'AWSALBAPP-0', durationSeconds: 60 }, /not a cookie name an ALB accepts/],
    ['a name with a separator', { cookieName: 'a;b', durationSeconds: 60 }, /not a cookie name an ALB accepts/],
    ['a duration over 7 days', { cookieName: 'AjaXplorer', durationSeconds: 604_801 }, /outside 1..604800/],
  ])('refuses %s', (_name, stickiness, message) => {
    expect(() => haproxyConfig('/tmp/x.sock', [{ port: 18080, stickiness }], TARGET_GROUP_HEALTH_CHECK)).toThrow(message);
  });

  it('is a configuration HAProxy accepts (where HAProxy is installed)', () => {
    const accepted = haproxyAccepts(haproxyConfig('/tmp/x.sock', sticky, TARGET_GROUP_HEALTH_CHECK));
    if (accepted !== undefined) expect(accepted).toBe(true);
    const ranged = haproxyAccepts(haproxyConfig('/tmp/x.sock', sticky, { ...TARGET_GROUP_HEALTH_CHECK, matcher: '200-202,204' }));
    if (ranged !== undefined) expect(ranged).toBe(true);
  });
});

describe('the emulated ALB\'s health check is the target group\'s', () => {
  it('checks the target group\'s path, matcher and timeout (interval and thresholds are per server, at registration)', () => {
    const config = haproxyConfig('/tmp/x.sock', sticky, TARGET_GROUP_HEALTH_CHECK);
    expect(TARGET_GROUP_HEALTH_CHECK).toMatchObject({ path: '/check.txt', matcher: '200' });
    expect(config).toMatch(/^ {2}option httpchk GET \/check\.txt$/m);
    expect(config).toMatch(/^ {2}http-check expect status 200$/m);
    expect(config).toMatch(new RegExp(`^ {2}timeout check ${TARGET_GROUP_HEALTH_CHECK.timeoutSeconds}s$`, 'm'));
  });

  it.each([
    ['200', [200], 'status 200'],
    ['200,202', [200, 202], 'rstatus ^(200|202)$'],
    ['200-203', [200, 201, 202, 203], 'rstatus ^(200|201|202|203)$'],
    ['404,200-201', [200, 201, 404], 'rstatus ^(200|201|404)$'],
  ])('matcher %s: codes %p, HAProxy %s', (matcher, codes, expect_) => {
    expect(matcherCodes(matcher)).toEqual(codes);
    expect(httpCheckExpect(matcher)).toBe(expect_);
  });

  // ELB's limits (botocore's elbv2 model: interval 5-300, timeout 2-120, thresholds 2-10, HTTP codes 200-499),
  // and a timeout shorter than the interval (ELB and moto refuse it otherwise).
  it.each([
    ['an interval under ELB\'s 5 s', { intervalSeconds: 1 }, /HealthCheckIntervalSeconds 1 is outside 5..300/],
    ['a timeout under 2 s', { timeoutSeconds: 1 }, /HealthCheckTimeoutSeconds 1 is outside 2..120/],
    ['a timeout not shorter than the interval', { intervalSeconds: 5, timeoutSeconds: 5 }, /must be smaller than the interval/],
    ['one check to turn healthy', { healthyThreshold: 1 }, /HealthyThresholdCount 1 is outside 2..10/],
    ['eleven checks to turn unhealthy', { unhealthyThreshold: 11 }, /UnhealthyThresholdCount 11 is outside 2..10/],
    ['a 5xx matcher', { matcher: '200-503' }, /matcher '200-503' must be codes 200-499/],
    ['a matcher that is not codes', { matcher: '2xx' }, /matcher '2xx'/],
    ['a path with a blank', { path: '/check .txt' }, /must start with \/ and hold no blank/],
  ])('refuses %s', (_what, change, message) => {
    expect(() => checkedHealthCheck({ ...TARGET_GROUP_HEALTH_CHECK, ...change })).toThrow(message);
    expect(() => haproxyConfig('/tmp/x.sock', sticky, { ...TARGET_GROUP_HEALTH_CHECK, ...change })).toThrow(message);
  });

  it('refuses a registration into a target group that checks differently from HAProxy, naming both', async () => {
    const dataPlane = new HaproxyDataPlane({ stateDir: path.join(tmpdir(), 'pas-never-started'), healthCheck: TARGET_GROUP_HEALTH_CHECK });
    const target = { instanceId: 'i-0abc', ip: '10.71.1.20', port: 80 };
    const arn = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio-web/0123456789abcdef';
    await expect(dataPlane.register(arn, target, { ...TARGET_GROUP_HEALTH_CHECK, intervalSeconds: 30, healthyThreshold: 5 })).rejects.toThrow(
      /targetgroup\/pydio-web\/.* checks \/check\.txt every 30 s \(timeout 4 s, healthy after 5, unhealthy after 2, codes 200\), but HAProxy was started to check \/check\.txt every 5 s/,
    );
    await expect(dataPlane.register(arn, target, { ...TARGET_GROUP_HEALTH_CHECK, path: '/' })).rejects.toThrow(/checks \/ every 5 s/);
    // The same settings pass the comparison and go on to HAProxy (not started here: its admin socket is missing).
    await expect(dataPlane.register(arn, target, { ...TARGET_GROUP_HEALTH_CHECK })).rejects.toThrow(/haproxy admin socket/);
  });
});
