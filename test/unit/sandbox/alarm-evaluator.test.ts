import { completePeriods, evaluateAlarm, reasonNumber, reasonTime, validateRule, type AlarmRule, type AlarmState, type PeriodValue } from '../../sandbox/control-plane/alarm-evaluator';
import { metricValueFromReason, readReasonData } from '../../../lib/core/scaling/alarm-event';

const T0 = Date.UTC(2026, 10, 21, 21, 39, 50); // 21/11/26 21:39:50
const high: AlarmRule = { statistic: 'Average', period: 10, evaluationPeriods: 2, datapointsToAlarm: 2, threshold: 70, comparison: 'GreaterThanThreshold', treatMissingData: 'missing' };
const low: AlarmRule = { ...high, evaluationPeriods: 3, datapointsToAlarm: 3, threshold: 25, comparison: 'LessThanThreshold' };

/** Values oldest first, one per 10 s period from T0; undefined = no datapoint. */
function periods(rule: AlarmRule, values: readonly (number | undefined)[]): PeriodValue[] {
  return values.map((value, i) => ({ start: T0 + i * rule.period * 1000, ...(value !== undefined ? { value, sampleCount: 2 } : {}) }));
}

describe('evaluateAlarm: the state from the last N periods', () => {
  const cases: Array<[string, AlarmRule, readonly (number | undefined)[], AlarmState, AlarmState]> = [
    ['2 of 2 above -> ALARM', high, [85.1, 80], 'OK', 'ALARM'],
    ['1 of 2 above -> OK', high, [85.1, 40], 'ALARM', 'OK'],
    ['equal to the threshold is not greater', high, [70, 70], 'OK', 'OK'],
    ['no data at all, missing -> INSUFFICIENT_DATA', high, [undefined, undefined], 'ALARM', 'INSUFFICIENT_DATA'],
    ['one present below, missing -> OK', high, [undefined, 10], 'INSUFFICIENT_DATA', 'OK'],
    ['one present above of 2 needed, missing -> OK (not enough breaching)', high, [undefined, 95], 'OK', 'OK'],
    ['missing as breaching completes the M', { ...high, treatMissingData: 'breaching' }, [undefined, 95], 'OK', 'ALARM'],
    ['missing as not breaching', { ...high, treatMissingData: 'notBreaching' }, [undefined, undefined], 'ALARM', 'OK'],
    ['ignore keeps the state without data', { ...high, treatMissingData: 'ignore' }, [undefined, undefined], 'ALARM', 'ALARM'],
    ['3 of 3 below -> ALARM (CPU low)', low, [5, 3.2, 10], 'OK', 'ALARM'],
    ['2 of 3 below -> OK (CPU low)', low, [5, 30, 10], 'ALARM', 'OK'],
    ['M of N: 2 of 3 with DatapointsToAlarm 2 -> ALARM', { ...low, datapointsToAlarm: 2 }, [5, 30, 10], 'OK', 'ALARM'],
    ['>= includes the threshold', { ...high, comparison: 'GreaterThanOrEqualToThreshold' }, [70, 71], 'OK', 'ALARM'],
    ['<= includes the threshold', { ...low, comparison: 'LessThanOrEqualToThreshold' }, [25, 25, 1], 'OK', 'ALARM'],
  ];
  it.each(cases)('%s', (_name, rule, values, current, expected) => {
    expect(evaluateAlarm(rule, periods(rule, values), current, T0 + 60_000).state).toBe(expected);
  });
});

describe("evaluateAlarm: CloudWatch's reason and reason data", () => {
  it('ALARM: names the datapoints newest first, the threshold and the M of N', () => {
    const e = evaluateAlarm(high, periods(high, [80, 85.1]), 'OK', T0 + 25_000);
    expect(e.reason).toBe(
      'Threshold Crossed: 2 out of the last 2 datapoints [85.1 (21/11/26 21:40:00), 80.0 (21/11/26 21:39:50)] were greater than the threshold (70.0) (minimum 2 datapoints for OK -> ALARM transition).',
    );
    expect(e.datapoints).toEqual([85.1, 80]);
    expect(e.reasonData).toEqual({
      version: '1.0',
      queryDate: '2026-11-21T21:40:15.000+0000',
      startDate: '2026-11-21T21:39:50.000+0000',
      statistic: 'Average',
      period: 10,
      recentDatapoints: [80, 85.1],
      threshold: 70,
      evaluatedDatapoints: [
        { timestamp: '2026-11-21T21:40:00.000+0000', sampleCount: 2, value: 85.1 },
        { timestamp: '2026-11-21T21:39:50.000+0000', sampleCount: 2, value: 80 },
      ],
    });
  });

  it('OK: counts the datapoints within the threshold and the minimum for ALARM -> OK', () => {
    const e = evaluateAlarm(low, periods(low, [5, 30, 10]), 'ALARM', T0 + 35_000);
    expect(e.reason).toBe(
      'Threshold Crossed: 1 out of the last 3 datapoints [10.0 (21/11/26 21:40:10), 30.0 (21/11/26 21:40:00), 5.0 (21/11/26 21:39:50)] was not less than the threshold (25.0) (minimum 1 datapoint for ALARM -> OK transition).',
    );
  });

  it('one evaluation period: "1 datapoint [...] was"', () => {
    const rule: AlarmRule = { ...high, statistic: 'Maximum', evaluationPeriods: 1, datapointsToAlarm: 1, threshold: 80 };
    expect(evaluateAlarm(rule, periods(rule, [91.25]), 'OK', T0 + 15_000).reason).toBe('Threshold Crossed: 1 datapoint [91.25 (21/11/26 21:39:50)] was greater than the threshold (80.0).');
  });

  it('no data: "Insufficient Data: 2 datapoints were unknown."', () => {
    const e = evaluateAlarm(high, periods(high, [undefined, undefined]), 'OK', T0 + 25_000);
    expect(e.reason).toBe('Insufficient Data: 2 datapoints were unknown.');
    expect(e.reasonData.recentDatapoints).toEqual([]);
    expect(e.reasonData.evaluatedDatapoints).toEqual([{ timestamp: '2026-11-21T21:40:00.000+0000' }, { timestamp: '2026-11-21T21:39:50.000+0000' }]);
  });

  it('the alarm function reads the newest datapoint back from both the reason and the reason data', () => {
    const e = evaluateAlarm(high, periods(high, [80, 85.1]), 'OK', T0 + 25_000);
    expect(metricValueFromReason(e.reason)).toBe(85.1);
    expect(readReasonData(JSON.stringify(e.reasonData))).toEqual({ metricValue: 85.1, threshold: 70 });
  });
});

describe('evaluateAlarm: bad input is refused by name', () => {
  const bad: Array<[string, Partial<AlarmRule>, RegExp]> = [
    ['period', { period: 0 }, /period/],
    ['evaluation periods', { evaluationPeriods: 0 }, /EvaluationPeriods/],
    ['datapoints to alarm above N', { datapointsToAlarm: 3 }, /DatapointsToAlarm/],
    ['threshold', { threshold: Number.NaN }, /threshold/],
    ['comparison', { comparison: 'LessThanLowerOrGreaterThanUpperThreshold' as AlarmRule['comparison'] }, /ComparisonOperator/],
    ['missing data treatment', { treatMissingData: 'drop' as AlarmRule['treatMissingData'] }, /TreatMissingData/],
  ];
  it.each(bad)('%s', (_name, change, message) => {
    expect(() => validateRule({ ...high, ...change })).toThrow(message);
  });

  it('the number of periods must be EvaluationPeriods', () => {
    expect(() => evaluateAlarm(high, periods(high, [1, 2, 3]), 'OK', T0)).toThrow(/exactly 2 periods, got 3/);
  });
});

describe('helpers', () => {
  it('completePeriods: the last N complete periods before now, aligned, oldest first', () => {
    expect(completePeriods(T0 + 25_000, 10, 3)).toEqual([T0 - 10_000, T0, T0 + 10_000]);
    expect(completePeriods(T0 + 20_000, 10, 1)).toEqual([T0 + 10_000]);
  });
  it('reasonTime and reasonNumber print as CloudWatch does', () => {
    expect(reasonTime(Date.UTC(2019, 9, 2, 17, 4, 0))).toBe('02/10/19 17:04:00');
    expect(reasonNumber(70)).toBe('70.0');
    expect(reasonNumber(85.123456789)).toBe('85.123457');
  });
});
