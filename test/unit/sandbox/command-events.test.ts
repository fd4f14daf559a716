import { matchesPattern } from '../../sandbox/control-plane/event-bus';
import {
  COMMAND_STATUS_CHANGE,
  commandStatusEvent,
  INVOCATION_STATUS_CHANGE,
  invocationStatusEvent,
  ssmDateTime,
  type CommandFacts,
} from '../../sandbox/control-plane/command-events';

const origin = { account: '123456789012', region: 'eu-west-1' };
const REQUESTED = Date.UTC(2026, 11, 6, 4, 51, 30, 49);
const command: CommandFacts = {
  commandId: 'e8d3c0e4-71f7-4491-898f-c9b35bee5f3b',
  documentName: 'pas-mount-volumes',
  parameters: { Volume: ['pydio-data'], Mode: ['rw'] },
  instanceIds: ['i-0123456789abcdef0', 'i-0fedcba9876543210'],
  requestedMs: REQUESTED,
  expiresMs: REQUESTED + 3600_000,
};
const AT = REQUESTED + 2_951;
const plain = (v: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(v)) as Record<string, unknown>;

describe('the EC2 Command Status-change Notification, as the Systems Manager examples show it', () => {
  it('has the EventBridge envelope, the instances it targets as resources and exactly the documented detail fields', () => {
    const event = commandStatusEvent(command, 'Success', AT, origin);
    expect(plain(event)).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      'detail-type': 'EC2 Command Status-change Notification',
      source: 'aws.ssm',
      account: '123456789012',
      time: '2026-12-06T04:51:33Z',
      region: 'eu-west-1',
      resources: ['arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0', 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0fedcba9876543210'],
      detail: {
        'command-id': 'e8d3c0e4-71f7-4491-898f-c9b35bee5f3b',
        'document-name': 'pas-mount-volumes',
        'expire-after': '2026-12-06T05:51:30.049Z',
        parameters: { Volume: ['pydio-data'], Mode: ['rw'] },
        'requested-date-time': '2026-12-06T04:51:30.049Z',
        status: 'Success',
      },
    });
  });

  it('gives every event its own id', () => {
    expect(commandStatusEvent(command, 'InProgress', AT, origin).id).not.toBe(commandStatusEvent(command, 'InProgress', AT, origin).id);
  });
});

describe('the EC2 Command Invocation Status-change Notification', () => {
  it('names one instance (detail and resources) and carries no parameters, expiry, comment or output', () => {
    const event = invocationStatusEvent(command, 'i-0fedcba9876543210', 'Failed', AT, origin);
    expect(event['detail-type']).toBe('EC2 Command Invocation Status-change Notification');
    expect(event.resources).toEqual(['arn:aws:ec2:eu-west-1:123456789012:instance/i-0fedcba9876543210']);
    expect(plain(event.detail)).toEqual({
      'command-id': command.commandId,
      'document-name': 'pas-mount-volumes',
      'instance-id': 'i-0fedcba9876543210',
      'requested-date-time': '2026-12-06T04:51:30.049Z',
      status: 'Failed',
    });
  });

  it('refuses an instance the command does not target', () => {
    expect(() => invocationStatusEvent(command, 'i-0aaaaaaaaaaaaaaaa', 'Success', AT, origin)).toThrow('has no invocation on i-0aaaaaaaaaaaaaaaa');
  });
});

describe('which statuses send an event (the reference: Success, InProgress, TimedOut, Cancelled, Failed)', () => {
  it.each(['InProgress', 'Success', 'Failed', 'TimedOut', 'Cancelled'])('%s sends one', (status) => {
    expect(commandStatusEvent(command, status, AT, origin).detail.status).toBe(status);
    expect(invocationStatusEvent(command, 'i-0123456789abcdef0', status, AT, origin).detail.status).toBe(status);
  });

  it.each(['Pending', 'Delayed', 'DeliveryTimedOut', 'Cancelling', 'success'])('%s sends none: building one is an error naming it', (status) => {
    expect(() => commandStatusEvent(command, status, AT, origin)).toThrow(`no event for status ${status}`);
    expect(() => invocationStatusEvent(command, 'i-0123456789abcdef0', status, AT, origin)).toThrow(`no event for status ${status}`);
  });
});

describe('times: the envelope in seconds, the detail in milliseconds, both UTC', () => {
  it.each<[number, string]>([
    [Date.UTC(2024, 6, 10, 21, 51, 30, 49), '2024-07-10T21:51:30.049Z'],
    [Date.UTC(2024, 6, 10, 21, 51, 30, 0), '2024-07-10T21:51:30.000Z'],
  ])('%p -> %s', (ms, text) => {
    expect(ssmDateTime(ms)).toBe(text);
  });

  it('refuses a time that is not a number of milliseconds', () => {
    expect(() => ssmDateTime(Number.NaN)).toThrow('must be epoch milliseconds');
  });
});

describe('rules route them as EventBridge would', () => {
  const terminal = { source: ['aws.ssm'], 'detail-type': [INVOCATION_STATUS_CHANGE], detail: { status: ['Success', 'Failed', 'TimedOut', 'Cancelled'] } };
  it.each<[string, string, string, boolean]>([
    ['a terminal invocation', INVOCATION_STATUS_CHANGE, 'Failed', true],
    ['an invocation in progress', INVOCATION_STATUS_CHANGE, 'InProgress', false],
    ['the command, terminal', COMMAND_STATUS_CHANGE, 'Success', false],
  ])('a pattern on detail.status and detail-type: %s', (_what, detailType, status, expected) => {
    const event = detailType === COMMAND_STATUS_CHANGE ? commandStatusEvent(command, status, AT, origin) : invocationStatusEvent(command, 'i-0123456789abcdef0', status, AT, origin);
    expect(matchesPattern(terminal, plain(event))).toBe(expected);
  });
});
