import { alarmStageParams, resolveAlarmOptions } from '../../sandbox/alarms';

describe('sandbox alarms option', () => {
  it('defaults: period 10, thresholds 70/25/80, cooldown 30, agent 5 s, MinSize 1; the stage params the stack reads', () => {
    const r = resolveAlarmOptions({}, 4);
    expect(r).toEqual({ periodSeconds: 10, cpuHighThreshold: 70, cpuLowThreshold: 25, diskHighThreshold: 80, cooldownSeconds: 30, agentIntervalMs: 5000, computeMin: 1 });
    expect(alarmStageParams(r)).toEqual({
      cpuHighThreshold: '70',
      cpuHighPeriod: '10',
      cpuHighEvaluationPeriods: '2',
      cpuLowThreshold: '25',
      cpuLowPeriod: '10',
      cpuLowEvaluationPeriods: '3',
      diskHighThreshold: '80',
      diskHighPeriod: '10',
      diskHighEvaluationPeriods: '1',
      scaleCooldownSeconds: '30',
    });
    expect(alarmStageParams(resolveAlarmOptions({ periodSeconds: 60, largeStepFactor: 3 }, 4))).toMatchObject({ cpuLowPeriod: '60', largeStepFactor: '3' });
  });

  const bad: Array<[string, object, RegExp]> = [
    ['a period CloudWatch does not allow', { periodSeconds: 20 }, /periodSeconds must be 10, 30 or a multiple of 60/],
    ['a threshold above 100', { cpuHighThreshold: 120 }, /cpuHighThreshold must be a percent/],
    ['low not below high', { cpuHighThreshold: 30, cpuLowThreshold: 40 }, /cpuLowThreshold \(40\) must be below cpuHighThreshold \(30\)/],
    ['a fractional cooldown', { cooldownSeconds: 1.5 }, /cooldownSeconds must be a whole number/],
    ['a too fast agent', { agentIntervalMs: 100 }, /agentIntervalMs must be a whole number 500-60000/],
    ['MinSize above MaxSize', { computeMin: 5 }, /computeMin must be a whole number 0-4/],
    ['a large-step factor of 1', { largeStepFactor: 1 }, /largeStepFactor must be a decimal above 1/],
  ];
  it.each(bad)('refuses %s, naming the field', (_name, option, message) => {
    expect(() => resolveAlarmOptions(option, 4)).toThrow(message);
  });
});
