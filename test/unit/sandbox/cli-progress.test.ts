import { bootPhase, Progress, scaleProgress } from '../../sandbox/cli';
import type { SandboxStatus } from '../../sandbox/sandbox';

describe('sandbox CLI progress (issue 12: long operations show what phase, how long so far)', () => {
  test('a phase is shown when it changes, restated every 15 s while it lasts, with the seconds since the start', () => {
    const lines: string[] = [];
    let now = 1_000_000;
    const p = new Progress(now, (l) => lines.push(l), () => now);
    p.show('packaging the stack...');
    now += 5_000;
    p.show('packaging the stack...');
    now += 11_000;
    p.show('packaging the stack...');
    now += 1_000;
    p.show('starting moto...');
    p.show(undefined);
    p.show('');
    expect(lines).toEqual(['  [0 s] packaging the stack...\n', '  [16 s] packaging the stack...\n', '  [17 s] starting moto...\n']);
  });

  test("the daemon log's ISO stamp is dropped; an empty or missing line is no phase", () => {
    expect(bootPhase('2026-12-05T21:40:01.123Z deploying the stack into the emulator...')).toBe('deploying the stack into the emulator...');
    expect(bootPhase('no stamp here')).toBe('no stamp here');
    expect(bootPhase('2026-12-05T21:40:01.123Z ')).toBeUndefined();
    expect(bootPhase(undefined)).toBeUndefined();
    expect(bootPhase(`x${'y'.repeat(400)}`)).toHaveLength(160);
  });

  test('scale progress counts the compute instances by lifecycle state and the healthy targets', () => {
    const s = {
      instances: [
        { instanceId: 'i-1', groupName: 'c', role: 'compute', lifecycleState: 'InService' },
        { instanceId: 'i-2', groupName: 'c', role: 'compute', lifecycleState: 'Pending:Wait' },
        { instanceId: 'i-3', groupName: 's', role: 'storage', lifecycleState: 'InService' },
      ],
      targets: [{ instanceId: 'i-1', state: 'healthy' }, { instanceId: 'i-2', state: 'initial' }],
      hosts: [],
    } as unknown as SandboxStatus;
    expect(scaleProgress(s, 'c', 2)).toBe('waiting for 2 InService with healthy targets: 1 InService, 1 Pending:Wait; 1 healthy target(s) of 2');
  });
});
