/** The CLI's `up --timings`: passed on to startSandbox, refused naming the problem when it is neither value. */
import { parseCli } from '../../sandbox/cli';

describe('up --timings', () => {
  it.each([
    [['up'], undefined],
    [['up', '--timings', 'realistic'], 'realistic'],
    [['up', '--timings', 'sandbox'], 'sandbox'],
  ])('%j -> %s', (argv, timings) => {
    expect(parseCli(argv).options.timings).toBe(timings);
  });

  it('refuses another value, naming it', () => {
    expect(() => parseCli(['up', '--timings', 'fast'])).toThrow("--timings must be sandbox or realistic, got 'fast'");
  });

  it('needs a value', () => {
    expect(() => parseCli(['up', '--timings'])).toThrow('--timings needs a value');
  });
});
