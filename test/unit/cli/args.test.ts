import { parseArgs, storagePayload, type Command } from '../../../lib/cli/args';
import { OperatorError } from '../../../lib/errors';

const argv = (line: string) => line.split(' ').filter((w) => w !== '');

describe('commands', () => {
  it.each<[string, Partial<Command> & Record<string, unknown>]>([
    ['status --stage prod', { kind: 'status', common: { stage: 'prod', json: false } }],
    ['status --stage=prod --json --region eu-west-1 --profile ops', { kind: 'status', common: { stage: 'prod', json: true, region: 'eu-west-1', profile: 'ops' } }],
    ['status --stage pasbox --endpoint-url http://127.0.0.1:4566', { kind: 'status', common: { stage: 'pasbox', json: false, endpoint: 'http://127.0.0.1:4566' } }],
    ['decisions --stage prod', { kind: 'decisions', sinceMs: 86_400_000, limit: 20 }],
    ['decisions --stage prod --since 90m --limit 5', { kind: 'decisions', sinceMs: 5_400_000, limit: 5 }],
    ['--help', { kind: 'help' }],
    ['', { kind: 'help' }],
    ['status --help', { kind: 'help' }],
  ])('%s', (line, expected) => {
    expect(parseArgs(argv(line))).toMatchObject(expected);
  });
});

describe('storage: the payload is the storage function\'s own request, a dry run unless --yes', () => {
  it.each<[string, Record<string, unknown>, boolean]>([
    ['storage plan --stage prod', { volume: 'pydio-data', sets: 1, dryRun: true, reason: 'operator CLI' }, false],
    ['storage expand --stage prod', { volume: 'pydio-data', sets: 1, dryRun: true, reason: 'operator CLI' }, false],
    ['storage expand --stage prod --sets 2 --volume pydio-config --yes', { volume: 'pydio-config', sets: 2, dryRun: false, reason: 'operator CLI' }, true],
    ['storage expand --stage prod --strategy grow-in-place --allow-same-zone', { volume: 'pydio-data', sets: 1, dryRun: true, reason: 'operator CLI', strategy: 'grow-in-place', allowSameZone: true }, false],
    ['storage shrink --stage prod', { action: 'shrink', volume: 'pydio-data', dryRun: true, reason: 'operator CLI' }, false],
    ['storage shrink --stage prod --yes', { action: 'shrink', volume: 'pydio-data', dryRun: false, reason: 'operator CLI' }, true],
  ])('%s', (line, payload, act) => {
    const cmd = parseArgs(argv(line));
    if (cmd.kind !== 'storage') throw new Error(`not a storage command: ${cmd.kind}`);
    expect(storagePayload(cmd.request)).toEqual(payload);
    expect(cmd.act).toBe(act);
  });
});

describe('bad input is refused naming the problem', () => {
  it.each<[string, string]>([
    ['status', '--stage is required'],
    ['status --stage', '--stage needs a value'],
    ['status --stage prod --stage dev', '--stage is given twice'],
    ['status --stage prod_1', '--stage must be the name of a deployed stage'],
    [`status --stage ${'a'.repeat(40)}`, 'exceed Lambda\'s 64'],
    ['status --stage prod --region Ireland', '--region must be an AWS Region code such as eu-west-1, got "Ireland"'],
    ['status --stage prod --endpoint-url localhost:4566', '--endpoint-url must be an http or https URL'],
    ['status --stage prod --endpoint-url not a url', 'status takes no argument "a"'],
    ['status --stage prod --force', 'unknown option --force'],
    ['status --stage prod --yes', '--yes does not apply to status'],
    ['status now --stage prod', 'status takes no argument "now"'],
    ['scale --stage prod', 'unknown command "scale"'],
    ['storage --stage prod', 'storage needs one of plan, expand or shrink'],
    ['storage grow --stage prod', 'storage needs one of plan, expand or shrink, got "grow"'],
    ['storage shrink --stage prod --sets 2', '--sets does not apply to storage shrink'],
    ['storage plan --stage prod --yes', '--yes does not apply to storage plan'],
    ['storage expand --stage prod --sets two', 'field sets must be a whole number from 1 to 16, got "two" (option --sets)'],
    ['storage expand --stage prod --sets 17', 'field sets must be a whole number from 1 to 16, got 17 (option --sets)'],
    ['storage expand --stage prod --volume bad/name', 'field volume must be a Gluster volume name, got "bad/name" (option --volume)'],
    ['storage expand --stage prod --strategy bigger', 'field strategy must be "add-bricks" or "grow-in-place", got "bigger" (option --strategy)'],
    ['decisions --stage prod --since 2w', '--since must be a duration from 1m to 30d'],
    ['decisions --stage prod --since 31d', '--since must be a duration from 1m to 30d'],
    ['decisions --stage prod --limit 0', '--limit must be a whole number from 1 to 500, got "0"'],
    ['decisions --stage prod --json=yes', '--json takes no value'],
  ])('%s', (line, message) => {
    expect(() => parseArgs(argv(line))).toThrow(OperatorError);
    expect(() => parseArgs(argv(line))).toThrow(message);
  });
});
