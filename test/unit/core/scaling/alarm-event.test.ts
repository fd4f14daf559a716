import { MalformedEventError } from '../../../../lib/errors';
import {
  encodeRecheck,
  metricValueFromReason,
  parseAlarmMessage,
  readReasonData,
} from '../../../../lib/core/scaling/alarm-event';
import { stateChange } from './fixtures';

describe('parseAlarmMessage: state change events', () => {
  it('normalizes the documented event, with value and threshold from reasonData', () => {
    expect(parseAlarmMessage(stateChange())).toEqual({
      alarmName: 'pydio-autoscaler-test-compute-cpu-high',
      state: 'ALARM',
      reason: expect.stringContaining('Threshold Crossed'),
      at: '2026-11-21T10:00:00.123Z',
      source: 'event',
      attempt: 0,
      metricValue: 91.5,
      threshold: 70,
      previousState: 'OK',
    });
  });

  it.each<[string, unknown]>([
    ['absent', undefined],
    ['not an object', 'OK'],
    ['an unknown value', { value: 'SOMETHING' }],
  ])('a previous state that is %s is left out, and the event still parses', (_what, previousState) => {
    const signal = parseAlarmMessage(stateChange({ detail: { previousState } }));
    expect(signal.state).toBe('ALARM');
    expect(signal).not.toHaveProperty('previousState');
  });

  it.each(['OK', 'INSUFFICIENT_DATA'])('keeps state %s', (value) => {
    expect(parseAlarmMessage(stateChange({ state: { value } })).state).toBe(value);
  });

  it('falls back to the datapoint in the reason text when reasonData is absent or unreadable', () => {
    const signal = parseAlarmMessage(stateChange({ state: { reasonData: 'not json' } }));
    expect(signal.metricValue).toBe(91.5);
    expect(signal.threshold).toBeUndefined();
  });

  it.each([
    ['not an object', 'hello', /message must be a JSON object/],
    ['an array', [], /message must be a JSON object/],
    ['another detail-type', stateChange({ top: { 'detail-type': 'CloudWatch Alarm Configuration Change' } }), /event.detail-type must be "CloudWatch Alarm State Change"/],
    ['no detail-type', stateChange({ top: { 'detail-type': undefined } }), /event.detail-type is missing/],
    ['another source', stateChange({ top: { source: 'aws.ec2' } }), /event.source must be aws.cloudwatch/],
    ['no detail', stateChange({ top: { detail: undefined } }), /event.detail is missing/],
    ['a string detail', stateChange({ top: { detail: 'x' } }), /event.detail must be an object/],
    ['no alarmName', stateChange({ detail: { alarmName: undefined } }), /detail.alarmName is missing/],
    ['an empty alarmName', stateChange({ detail: { alarmName: '' } }), /detail.alarmName must be a non-empty string/],
    ['a numeric alarmName', stateChange({ detail: { alarmName: 42 } }), /detail.alarmName must be a non-empty string/],
    ['a control character in alarmName', stateChange({ detail: { alarmName: 'a\nb' } }), /detail.alarmName is not an alarm name/],
    ['no state', stateChange({ detail: { state: undefined } }), /detail.state is missing/],
    ['an unknown state value', stateChange({ state: { value: 'FIRING' } }), /detail.state.value must be ALARM, OK or INSUFFICIENT_DATA, got "FIRING"/],
    ['no state value', stateChange({ state: { value: undefined } }), /detail.state.value is missing/],
    ['no timestamp', stateChange({ state: { timestamp: undefined } }), /detail.state.timestamp is missing/],
    ['a bad timestamp', stateChange({ state: { timestamp: 'yesterday' } }), /detail.state.timestamp is not a timestamp/],
  ])('refuses %s, naming the field', (_what, input, message) => {
    expect(() => parseAlarmMessage(input)).toThrow(MalformedEventError);
    expect(() => parseAlarmMessage(input)).toThrow(message);
  });
});

describe('parseAlarmMessage: re-check messages', () => {
  it('round-trips what encodeRecheck writes, as ALARM until the use case re-reads it', () => {
    const body = encodeRecheck('cpu-high', 3, new Date('2026-11-21T10:05:00Z'));
    expect(parseAlarmMessage(JSON.parse(body))).toEqual({
      alarmName: 'cpu-high', state: 'ALARM', reason: expect.any(String), at: '2026-11-21T10:05:00.000Z', source: 'recheck', attempt: 3,
    });
  });

  const recheck = (over: Record<string, unknown>) => ({ ...JSON.parse(encodeRecheck('cpu-high', 1, new Date('2026-11-21T10:05:00Z'))), ...over });
  it.each([
    ['another version', recheck({ version: 2 }), /recheck.version must be 1/],
    ['no attempt', recheck({ attempt: undefined }), /recheck.attempt is missing/],
    ['attempt 0', recheck({ attempt: 0 }), /recheck.attempt must be a whole number from 1/],
    ['a fractional attempt', recheck({ attempt: 1.5 }), /recheck.attempt must be a whole number/],
    ['no alarm name', recheck({ alarmName: undefined }), /recheck.alarmName is missing/],
    ['a bad time', recheck({ requestedAt: 'soon' }), /recheck.requestedAt is not a timestamp/],
  ])('refuses %s', (_what, input, message) => {
    expect(() => parseAlarmMessage(input)).toThrow(message);
  });
});

describe('reading values', () => {
  it.each([
    ['the most recent datapoint and threshold', '{"recentDatapoints":[50,61.25],"threshold":25}', { metricValue: 61.25, threshold: 25 }],
    ['no datapoints', '{"recentDatapoints":[],"threshold":25}', { threshold: 25 }],
    ['non-numeric entries', '{"recentDatapoints":["x",null],"threshold":"25"}', {}],
    ['not JSON', '{', {}],
    ['an array', '[1]', {}],
  ])('readReasonData: %s', (_what, input, expected) => {
    expect(readReasonData(input)).toEqual(expected);
  });

  it.each([
    ['Threshold Crossed: 1 datapoint [85.2 (02/10/19 17:04:00)] was greater than the threshold (70.0).', 85.2],
    ['Threshold Crossed: 3 out of the last 3 datapoints [12.0 (a), 13.5 (b)] were less than the threshold (25.0).', 12],
    ['Threshold Crossed: 1 datapoint [1.5E2 (x)] was greater', 150],
    ['Unchecked: Initial alarm creation', undefined],
  ])('metricValueFromReason(%j) = %p', (reason, expected) => {
    expect(metricValueFromReason(reason)).toBe(expected);
  });
});
