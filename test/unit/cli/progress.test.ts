import { startPhase, type Clock } from '../../../lib/cli/progress';

/** A clock the test moves: `every` registers the tick, `advance` fires it as time passes. */
function manualClock() {
  let now = 0;
  let tick: { ms: number; fn: () => void; next: number } | undefined;
  const clock: Clock = {
    now: () => now,
    every(ms, fn) {
      tick = { ms, fn, next: now + ms };
      return () => {
        tick = undefined;
      };
    },
  };
  const advance = (ms: number) => {
    const end = now + ms;
    while (tick && tick.next <= end) {
      now = tick.next;
      tick.next += tick.ms;
      tick.fn();
    }
    now = end;
  };
  return { clock, advance, ticking: () => tick !== undefined };
}

it('off a terminal: the phase, a line every 5 s while it lasts, then how it ended and how long it took', () => {
  const { clock, advance, ticking } = manualClock();
  let err = '';
  const phase = startPhase({ write: (t) => void (err += t), isTTY: false }, 'invoking f', clock);
  advance(12_300);
  phase.end('answered');
  phase.end('answered twice');
  advance(10_000);
  expect(err.split('\n')).toEqual([
    'pydio-autoscaler: invoking f ...',
    'pydio-autoscaler: invoking f ... 5.0s so far',
    'pydio-autoscaler: invoking f ... 10.0s so far',
    'pydio-autoscaler: invoking f: answered after 12.3s',
    '',
  ]);
  expect(ticking()).toBe(false);
});

it('on a terminal: one line rewritten each second, cleared at the end', () => {
  const { clock, advance } = manualClock();
  let err = '';
  const phase = startPhase({ write: (t) => void (err += t), isTTY: true }, 'invoking f', clock);
  advance(2_000);
  phase.end('answered');
  expect(err).toBe('pydio-autoscaler: invoking f ...\rpydio-autoscaler: invoking f ... 1.0s so far\rpydio-autoscaler: invoking f ... 2.0s so far\r\x1b[2Kpydio-autoscaler: invoking f: answered after 2.0s\n');
});
