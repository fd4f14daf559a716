/**
 * The sandbox's IAM decision (test/sandbox/iam/evaluate.ts) on a table of
 * checks, against statements shaped like the stack's roles: resource-level
 * grants, a tag condition on instances, request-tag conditions, wildcard-only
 * read actions.
 */
import { evaluate, evaluateAll, withOwnedDocumentAccount, type IdentityPolicy } from '../../sandbox/iam/evaluate';
import type { AuthorizationCheck } from '../../sandbox/iam/checks';

const ACCOUNT = '123456789012';
const PRINCIPAL = `arn:aws:sts::${ACCOUNT}:assumed-role/h6-LifecycleFunctionRole/pydio-autoscaler-t-lifecycle`;
const COMPUTE_GROUP = `arn:aws:autoscaling:eu-west-1:${ACCOUNT}:autoScalingGroup:1b2c3d4e-0000-0000-0000-000000000001:autoScalingGroupName/compute`;
const STORAGE_GROUP = `arn:aws:autoscaling:eu-west-1:${ACCOUNT}:autoScalingGroup:1b2c3d4e-0000-0000-0000-000000000002:autoScalingGroupName/storage`;
const OUR_DOC = `arn:aws:ssm:eu-west-1:${ACCOUNT}:document/pas-t-configure-app`;
const INSTANCE = `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0123456789abcdef0`;

const POLICIES: IdentityPolicy[] = [
  {
    name: 'table',
    document: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:SetDesiredCapacity'], Resource: [`arn:aws:autoscaling:eu-west-1:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/compute`] },
        { Effect: 'Allow', Action: 'ssm:SendCommand', Resource: [OUR_DOC] },
        {
          Effect: 'Allow',
          Action: 'ssm:SendCommand',
          Resource: [`arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/*`],
          Condition: { StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': ['compute'] } },
        },
        { Effect: 'Allow', Action: ['ssm:PutParameter', 'ssm:GetParameter'], Resource: [`arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/pas/t/lifecycle/*`] },
        {
          Effect: 'Allow',
          Action: 'ec2:CreateTags',
          Resource: `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/*`,
          Condition: { StringEquals: { 'aws:ResourceTag/aws:autoscaling:groupName': 'storage' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['pas:state'] } },
        },
        { Effect: 'Allow', Action: ['autoscaling:DescribeAutoScalingGroups', 'ssm:GetCommandInvocation'], Resource: '*' },
        { Effect: 'Deny', Action: 'sqs:DeleteMessage', Resource: '*' },
        { Effect: 'Allow', Action: 'sqs:*', Resource: `arn:aws:sqs:eu-west-1:${ACCOUNT}:pas-t-lifecycle` },
      ],
    },
  },
];

const check = (action: string, resource: string, context: Record<string, string | string[]> = {}): AuthorizationCheck => ({ action, resource, context });

const TABLE: [string, AuthorizationCheck, 'allowed' | 'implicit' | 'explicit'][] = [
  ['completes a hook of its own group', check('autoscaling:CompleteLifecycleAction', COMPUTE_GROUP), 'allowed'],
  ['completes no hook of the storage group', check('autoscaling:CompleteLifecycleAction', STORAGE_GROUP), 'implicit'],
  ['sets no capacity of another group', check('autoscaling:SetDesiredCapacity', STORAGE_GROUP), 'implicit'],
  ['has no action it was not given on its group', check('autoscaling:TerminateInstanceInAutoScalingGroup', COMPUTE_GROUP), 'implicit'],
  ['runs its own document', check('ssm:SendCommand', OUR_DOC), 'allowed'],
  ['runs no AWS-owned document', check('ssm:SendCommand', `arn:aws:ssm:eu-west-1:${ACCOUNT}:document/AWS-RunShellScript`), 'implicit'],
  ['runs no document of another stack', check('ssm:SendCommand', `arn:aws:ssm:eu-west-1:${ACCOUNT}:document/pas-other-configure-app`), 'implicit'],
  ['runs on an instance of its group', check('ssm:SendCommand', INSTANCE, { 'ssm:resourceTag/aws:autoscaling:groupName': 'compute' }), 'allowed'],
  ['runs on no instance of the storage group', check('ssm:SendCommand', INSTANCE, { 'ssm:resourceTag/aws:autoscaling:groupName': 'storage' }), 'implicit'],
  ['runs on no untagged instance', check('ssm:SendCommand', INSTANCE), 'implicit'],
  ['writes its claims', check('ssm:PutParameter', `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/pas/t/lifecycle/i-1/tok`), 'allowed'],
  ['writes no storage record', check('ssm:PutParameter', `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/pas/t/storage/lock`), 'implicit'],
  ['tags a storage instance with its key', check('ec2:CreateTags', INSTANCE, { 'aws:ResourceTag/aws:autoscaling:groupName': 'storage', 'aws:TagKeys': ['pas:state'], 'aws:RequestTag/pas:state': 'joined' }), 'allowed'],
  ['tags with no other key', check('ec2:CreateTags', INSTANCE, { 'aws:ResourceTag/aws:autoscaling:groupName': 'storage', 'aws:TagKeys': ['pas:state', 'Name'] }), 'implicit'],
  ['tags no compute instance', check('ec2:CreateTags', INSTANCE, { 'aws:ResourceTag/aws:autoscaling:groupName': 'compute', 'aws:TagKeys': ['pas:state'] }), 'implicit'],
  ['reads groups (wildcard-only action)', check('autoscaling:DescribeAutoScalingGroups', '*'), 'allowed'],
  ['reads no alarms it was not given', check('cloudwatch:DescribeAlarms', `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:*`), 'implicit'],
  ['receives from its queue', check('sqs:ReceiveMessage', `arn:aws:sqs:eu-west-1:${ACCOUNT}:pas-t-lifecycle`), 'allowed'],
  ['sends to no other queue', check('sqs:SendMessage', `arn:aws:sqs:eu-west-1:${ACCOUNT}:pas-t-storage`), 'implicit'],
  ['an explicit Deny wins over an Allow', check('sqs:DeleteMessage', `arn:aws:sqs:eu-west-1:${ACCOUNT}:pas-t-lifecycle`), 'explicit'],
];

describe('sandbox IAM evaluation', () => {
  it.each(TABLE)('%s', async (_title, c, expected) => {
    const decision = await evaluate(PRINCIPAL, POLICIES, c, ACCOUNT);
    const got = decision.allowed ? 'allowed' : decision.explicit ? 'explicit' : 'implicit';
    expect(got).toBe(expected);
  });

  it('with no policy at all, nothing is allowed', async () => {
    expect((await evaluate(PRINCIPAL, [], check('autoscaling:DescribeAutoScalingGroups', '*'), ACCOUNT)).allowed).toBe(false);
  });

  it('a call with several resources needs every one allowed (SendCommand: document and instance)', async () => {
    const ok = await evaluateAll(PRINCIPAL, POLICIES, [check('ssm:SendCommand', OUR_DOC), check('ssm:SendCommand', INSTANCE, { 'ssm:resourceTag/aws:autoscaling:groupName': 'compute' })], ACCOUNT);
    expect(ok.allowed).toBe(true);
    const refused = await evaluateAll(PRINCIPAL, POLICIES, [check('ssm:SendCommand', OUR_DOC), check('ssm:SendCommand', INSTANCE, { 'ssm:resourceTag/aws:autoscaling:groupName': 'storage' })], ACCOUNT);
    expect(refused).toMatchObject({ allowed: false, check: { resource: INSTANCE } });
  });
});

describe('the simulator stays in the tests', () => {
  // AGPL-3.0: a test-only devDependency, never imported by what `sls package` bundles.
  it('no file under functions/ or lib/ imports @cloud-copilot/*', () => {
    const fs = require('node:fs') as typeof import('node:fs');
    const path = require('node:path') as typeof import('node:path');
    const root = path.resolve(__dirname, '..', '..', '..');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/\.(ts|js|cjs|mjs)$/.test(entry.name) && fs.readFileSync(full, 'utf8').includes('@cloud-copilot/')) offenders.push(path.relative(root, full));
      }
    };
    for (const dir of ['functions', 'lib']) walk(path.join(root, dir));
    expect(offenders).toEqual([]);
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    expect(Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith('@cloud-copilot/'))).toEqual([]);
    expect(pkg.devDependencies?.['@cloud-copilot/iam-simulate']).toMatch(/^\d+\.\d+\.\d+$/); // pinned exactly
  });
});

describe('AWS-owned document ARNs', () => {
  it('gives an account-less AWS-owned document ARN the account (the simulator needs one), and touches nothing else', () => {
    const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:SendCommand', Resource: ['arn:aws:ssm:eu-west-1::document/AWS-ConfigureAWSPackage', 'arn:aws:ssm:eu-west-1::document/AmazonCloudWatch-ManageAgent', 'arn:aws:ssm:eu-west-1::document/my-doc', 'arn:aws:ssm:eu-west-1:123456789012:document/x'] }] };
    expect(withOwnedDocumentAccount(doc, '123456789012').Statement).toEqual([{ Effect: 'Allow', Action: 'ssm:SendCommand', Resource: ['arn:aws:ssm:eu-west-1:123456789012:document/AWS-ConfigureAWSPackage', 'arn:aws:ssm:eu-west-1:123456789012:document/AmazonCloudWatch-ManageAgent', 'arn:aws:ssm:eu-west-1::document/my-doc', 'arn:aws:ssm:eu-west-1:123456789012:document/x'] }]);
  });
});
