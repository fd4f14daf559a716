import { waitFor } from '../../e2e/wait';

describe('waitFor: the e2e tests\' one poller', () => {
  it('returns the first answer that is not undefined', async () => {
    let calls = 0;
    await expect(waitFor('the third call', 1000, () => (++calls === 3 ? 'ready' : undefined), { intervalMs: 1 })).resolves.toBe('ready');
    expect(calls).toBe(3);
  });

  it('times out naming what it waited for', async () => {
    await expect(waitFor('nothing', 20, () => undefined, { intervalMs: 5 })).rejects.toThrow('timed out after 0.02s waiting for nothing');
  });

  it('a probe that throws ends the wait at once', async () => {
    let calls = 0;
    await expect(waitFor('x', 1000, () => { calls += 1; throw new Error('broken'); }, { intervalMs: 1 })).rejects.toThrow('broken');
    expect(calls).toBe(1);
  });

  it('with retryOnError, errors are retried and the last one is named on timeout', async () => {
    let calls = 0;
    await expect(waitFor('y', 20, () => { calls += 1; throw new Error(`flaky ${calls}`); }, { intervalMs: 5, retryOnError: true })).rejects.toThrow(/waiting for y \(last error: Error: flaky \d+\)/);
    expect(calls).toBeGreaterThan(1);
  });
});
