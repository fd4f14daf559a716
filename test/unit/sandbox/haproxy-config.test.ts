import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TARGET_GROUP_STICKINESS } from '../../sandbox/control-plane/aws-setup';
import { haproxyConfig } from '../../sandbox/hosts';

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
    const config = haproxyConfig('/tmp/x.sock', sticky);
    expect(TARGET_GROUP_STICKINESS.cookieName).toBe('AjaXplorer');
    expect(config).toContain('stick store-response res.cook(AjaXplorer)');
    expect(config).toContain('stick match req.cook(AjaXplorer)');
    expect(config).toContain('stick store-request req.cook(AjaXplorer)'); // stays on the new target after a failure
    expect(config).toContain('expire 86400s');
    expect(config).not.toMatch(/cook\(Pydio\)/);
  });

  it('makes no retry or redispatch that an ALB would not make', () => {
    const config = haproxyConfig('/tmp/x.sock', sticky);
    expect(config).toMatch(/^\s*retries 0$/m);
    expect(config).toMatch(/^\s*no option redispatch$/m);
    expect(config).not.toMatch(/^\s*option redispatch/m);
  });

  it('has no stickiness when the target group has none (the target group default)', () => {
    expect(haproxyConfig('/tmp/x.sock', [{ port: 18080 }])).not.toContain('stick');
  });

  it.each([
    ['a reserved ALB name', { cookieName: 'AWSALBAPP-0', durationSeconds: 60 }, /not a cookie name an ALB accepts/],
    ['a name with a separator', { cookieName: 'a;b', durationSeconds: 60 }, /not a cookie name an ALB accepts/],
    ['a duration over 7 days', { cookieName: 'AjaXplorer', durationSeconds: 604_801 }, /outside 1..604800/],
  ])('refuses %s', (_name, stickiness, message) => {
    expect(() => haproxyConfig('/tmp/x.sock', [{ port: 18080, stickiness }])).toThrow(message);
  });

  it('is a configuration HAProxy accepts (where HAProxy is installed)', () => {
    const accepted = haproxyAccepts(haproxyConfig('/tmp/x.sock', sticky));
    if (accepted !== undefined) expect(accepted).toBe(true);
  });
});
