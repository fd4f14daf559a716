import { matchesPattern } from '../../sandbox/control-plane/event-bus';
import { lifecycleEventPattern } from '../../sandbox/control-plane/aws-setup';
import { parseDocument, renderStep, resolveParameters } from '../../sandbox/control-plane/run-command';

const launch = {
  version: '0',
  source: 'aws.autoscaling',
  'detail-type': 'EC2 Instance-launch Lifecycle Action',
  detail: { AutoScalingGroupName: 'stage-compute', EC2InstanceId: 'i-0123456789abcdef0', Count: 3 },
};

test.each([
  ['the stage rule', lifecycleEventPattern('stage-compute'), true],
  ['another group', lifecycleEventPattern('other'), false],
  ['prefix', { detail: { EC2InstanceId: [{ prefix: 'i-01' }] } }, true],
  ['anything-but', { source: [{ 'anything-but': ['aws.autoscaling'] }] }, false],
  ['exists false on a present field', { detail: { EC2InstanceId: [{ exists: false }] } }, false],
  ['exists false on a missing field', { detail: { Missing: [{ exists: false }] } }, true],
  ['numeric range', { detail: { Count: [{ numeric: ['>', 2, '<=', 3] }] } }, true],
  ['$or', { $or: [{ source: ['nope'] }, { 'detail-type': [{ suffix: 'Action' }] }] }, true],
  ['nested object against a scalar', { source: { x: ['y'] } }, false],
])('%s', (_name, pattern, expected) => {
  expect(matchesPattern(pattern as Record<string, unknown>, launch)).toBe(expected);
});

test('YAML documents: defaults, StringList runCommand, placeholders', () => {
  const yaml = [
    "schemaVersion: '2.2'",
    'parameters:',
    '  commands: { type: StringList, default: ["echo a", "echo {{ Name }}"] }',
    '  Name: { type: String, allowedPattern: "^[a-z]+$", interpolationType: ENV_VAR }',
    'mainSteps:',
    '  - action: aws:runShellScript',
    '    name: run',
    "    inputs: { runCommand: '{{ commands }}', timeoutSeconds: '5' }",
  ].join('\n');
  const doc = parseDocument('d', yaml, 'YAML');
  const values = resolveParameters(doc.parameters, { Name: ['pydio'] });
  const step = doc.steps[0];
  if (step === undefined) throw new Error('no step');
  expect(renderStep(step, doc.parameters, values)).toEqual({ script: 'echo a\necho {{ Name }}', env: { SSM_Name: 'pydio' }, timeoutSeconds: 5 });
  expect(() => resolveParameters(doc.parameters, { Name: ['Pydio!'] })).toThrow(/Parameter "Name" "Pydio!" failed to satisfy constraint/);
  expect(() => parseDocument('d', "schemaVersion: '2.2'\nmainSteps:\n  - { action: 'aws:runPowerShellScript', name: x }", 'YAML')).toThrow(/only aws:runShellScript/);
});
