import { parseScheduleExpression } from '../../sandbox/control-plane/schedule-expression';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { rateOfMinutes, watchSchedule } = require('../../../functions/watch/schedule.js') as {
  rateOfMinutes: (minutes: unknown) => string;
  watchSchedule: (resolver: { resolveVariable: (name: string) => Promise<unknown> }) => Promise<string>;
};

describe('the watch schedule: a rate expression EventBridge accepts, from watchPeriodMinutes', () => {
  it.each([
    [1, 'rate(1 minute)'],
    ['1', 'rate(1 minute)'],
    [2, 'rate(2 minutes)'],
    [' 5 ', 'rate(5 minutes)'],
    [1440, 'rate(1440 minutes)'],
  ])('%j minutes -> %s (singular for 1, plural above)', (minutes, expected) => {
    expect(rateOfMinutes(minutes)).toBe(expected);
    expect(parseScheduleExpression(expected)).toEqual({ kind: 'rate', minutes: Number(String(minutes).trim()) });
  });

  it.each([0, '0', 1441, '1.5', 'one', '', '-1', '01'])('refuses %j, naming the param', (minutes) => {
    expect(() => rateOfMinutes(minutes)).toThrow('watchPeriodMinutes must be a whole number of minutes, 1-1440');
  });

  it('reads the stage param through osls\' resolver', async () => {
    const asked: string[] = [];
    await expect(watchSchedule({ resolveVariable: async (name) => (asked.push(name), '3') })).resolves.toBe('rate(3 minutes)');
    expect(asked).toEqual(['param:watchPeriodMinutes']);
  });
});
