/** startSandbox's options: storageStartsEmpty is refused, naming the problem, where it cannot work; timings and the agent's registration delay. */
import fs from 'node:fs';
import path from 'node:path';
import { REALISTIC_AGENT_REGISTRATION_SECONDS, resolveSettings } from '../../sandbox/boot/settings';
import { sandboxStageParams } from '../../sandbox/boot/stack';

const base = { name: 'unit', networkOctet: 99, logFile: '/tmp/pas-unit-settings.log' };

describe('storageStartsEmpty', () => {
  it('is off by default and on when asked with data disks and no initial scale-out', () => {
    expect(resolveSettings(base).storageStartsEmpty).toBe(false);
    expect(resolveSettings({ ...base, storageStartsEmpty: true, storageDataDiskMiB: 512, skipInitialScaleOut: true }).storageStartsEmpty).toBe(true);
  });

  it.each([
    [{ skipInitialScaleOut: true }, 'storageStartsEmpty needs storageDataDiskMiB'],
    [{ storageDataDiskMiB: 512 }, 'storageStartsEmpty needs skipInitialScaleOut: there is no volume to mount'],
    [{ storageDataDiskMiB: 512, skipInitialScaleOut: true, storageBootDisks: true }, 'storageStartsEmpty excludes storageBootDisks'],
  ])('refuses %j', (options, message) => {
    expect(() => resolveSettings({ ...base, storageStartsEmpty: true, ...options })).toThrow(message);
  });
});

describe('timings', () => {
  const waits = ['retryBaseSeconds', 'retryMaxSeconds', 'ssmOnlineTimeoutSeconds', 'commandTimeoutSeconds', 'healthyTimeoutSeconds', 'drainMaxSeconds', 'launchHeartbeatTimeout', 'terminateHeartbeatTimeout'];

  it("default 'sandbox': 1-2 s retries in the stage, the agent online as soon as its host is up", () => {
    const settings = resolveSettings(base);
    expect(settings.timings).toBe('sandbox');
    expect(settings.agentRegistrationSeconds).toBe(0);
    expect(sandboxStageParams(settings)).toMatchObject({ retryBaseSeconds: '1', retryMaxSeconds: '2' });
  });

  it("'realistic': no wait overridden, so the stage keeps serverless.yml's production defaults (10 s, 120 s), and the agent registers 30 s after boot", () => {
    const settings = resolveSettings({ ...base, timings: 'realistic' });
    expect(settings.agentRegistrationSeconds).toBe(REALISTIC_AGENT_REGISTRATION_SECONDS);
    expect(REALISTIC_AGENT_REGISTRATION_SECONDS).toBe(30);
    const params = sandboxStageParams(settings);
    for (const key of waits) expect(params).not.toHaveProperty(key);
    const yml = fs.readFileSync(path.join(__dirname, '../../../serverless.yml'), 'utf8');
    expect(yml).toMatch(/\n {4}retryBaseSeconds: '10'\n/);
    expect(yml).toMatch(/\n {4}retryMaxSeconds: '120'\n/);
  });

  it('takes an agent registration delay of its own with either timings', () => {
    expect(resolveSettings({ ...base, agentRegistrationSeconds: 12 }).agentRegistrationSeconds).toBe(12);
    expect(resolveSettings({ ...base, timings: 'realistic', agentRegistrationSeconds: 0 }).agentRegistrationSeconds).toBe(0);
  });

  it.each([
    [{ timings: 'fast' }, `timings must be 'sandbox' or 'realistic', got "fast"`],
    [{ agentRegistrationSeconds: -1 }, 'agentRegistrationSeconds must be a whole number 0-600, got -1'],
    [{ agentRegistrationSeconds: 2.5 }, 'agentRegistrationSeconds must be a whole number 0-600, got 2.5'],
    [{ agentRegistrationSeconds: 601 }, 'agentRegistrationSeconds must be a whole number 0-600, got 601'],
    [{ timings: 'realistic', storageLockStaleSeconds: 60 }, 'storageLockStaleSeconds 60 is under twice the production retryMaxSeconds (120)'],
  ])('refuses %j', (options, message) => {
    expect(() => resolveSettings({ ...base, ...(options as object) })).toThrow(message);
  });
});
