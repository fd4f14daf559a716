/**
 * The deployable stack: packages serverless.yml offline (no arguments, no
 * credentials) in a temporary copy of the project, then checks the generated
 * CloudFormation template - wiring, hooks, documents, least privilege - and
 * runs cfn-lint on it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COMMAND_END_STATUSES } from '../../lib/core/command-event';
import { APP_PROFILES, COMPUTE_VARIABLES, COOKIE_NAME, parseConfig } from '../../lib/config/compute';
import { parseScalingConfig, SCALING_VARIABLES } from '../../lib/config/scaling';
import { POWERTOOLS_VARIABLES } from '../../lib/config/shared';
import { parseStatusConfig, STATUS_VARIABLES } from '../../lib/config/status';
import { AGENT_CONFIG_PARAMETER, AGENT_CONFIGURE_DOCUMENT, AGENT_INSTALL_DOCUMENT, parseStorageConfig, STORAGE_VARIABLES } from '../../lib/config/storage';
import { parseWatchConfig, WATCH_VARIABLES } from '../../lib/config/watch';
import { AWS_DOCUMENTS, MANAGE_AGENT_DOCUMENT } from '../sandbox/control-plane/aws-documents';
import { diskDimensionSets, parseDiskCollection } from '../sandbox/control-plane/cloudwatch-agent-config';
import { packagingEntries } from '../sandbox/stack/package';

const ROOT = path.resolve(__dirname, '..', '..');

const EXAMPLE = {
  stage: 'dev',
  computeGroup: 'pydio-compute-example',
  targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio-example/0123456789abcdef',
  glusterServers: '10.0.1.10,10.0.2.10',
};

/** The lifecycle function is given exactly what parseConfig reads (lib/config/compute.ts) and the logger's Powertools settings. */
const ENV_NAMES = [...COMPUTE_VARIABLES, ...POWERTOOLS_VARIABLES.logger];

/** Actions allowed on Resource '*': read-only verbs only. */
const READ_ONLY_PREFIXES = ['Describe', 'Get', 'List'];

type Json = any; // CloudFormation template: checked structurally below

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Condition?: Json;
}

let workDir: string;
let template: Json;
let resources: Record<string, Json>;
/** The default (example) stage as CloudFormation deploys it: conditions evaluated with the parameter defaults. */
let deployed: Record<string, Json>;
/** A stage that sets a storage group, packaged the same way, raw and as deployed. */
const STORAGE_GROUP = 'pydio-storage-example';
let storageTemplate: Json;
/** Packaged with the storage variant: severity-filtered subscriptions (lib/package-time/stage-params-plugin.js). */
const OPS_SUBSCRIPTIONS = [
  { protocol: 'https', endpoint: 'https://global.sns-api.chatbot.amazonaws.com', minSeverity: 'warning' },
  { protocol: 'email', endpoint: 'oncall@example.org', minSeverity: 'error' },
];
let storageDeployed: Record<string, Json>;
/** The reference cluster (stage `reference` of serverless.yml: createCluster), raw and as deployed. */
let referenceTemplate: Json;
let referenceDeployed: Record<string, Json>;

/**
 * The template as CloudFormation would deploy it with its parameter defaults:
 * resources whose condition is false dropped, Fn::If replaced by the chosen
 * branch, AWS::NoValue removed. Knows the intrinsics our conditions use.
 */
function deployedWithDefaults(raw: Json): { resources: Record<string, Json>; conditions: Record<string, boolean> } {
  const parameters: Record<string, string> = {};
  for (const [name, p] of Object.entries<Json>(raw.Parameters ?? {})) parameters[name] = String(p.Default ?? '');
  const value = (node: Json): Json => {
    if (node && typeof node === 'object' && typeof node.Ref === 'string' && node.Ref in parameters) return parameters[node.Ref];
    if (typeof node === 'string') return node;
    throw new Error(`condition uses ${JSON.stringify(node)}, which this evaluator does not know`);
  };
  const evaluate = (node: Json): boolean => {
    if (node['Fn::Not']) return !evaluate(node['Fn::Not'][0]);
    if (node['Fn::Equals']) return value(node['Fn::Equals'][0]) === value(node['Fn::Equals'][1]);
    if (node['Fn::And']) return node['Fn::And'].every(evaluate);
    if (node['Fn::Or']) return node['Fn::Or'].some(evaluate);
    if (typeof node.Condition === 'string') return evaluate(raw.Conditions[node.Condition]);
    throw new Error(`condition ${JSON.stringify(node)} is not understood`);
  };
  const conditions: Record<string, boolean> = {};
  for (const [name, node] of Object.entries<Json>(raw.Conditions ?? {})) conditions[name] = evaluate(node);
  const NO_VALUE = Symbol('AWS::NoValue');
  const resolve = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(resolve).filter((n) => n !== NO_VALUE);
    if (!node || typeof node !== 'object') return node;
    if (node.Ref === 'AWS::NoValue') return NO_VALUE;
    if (typeof node.Ref === 'string' && node.Ref in parameters) return parameters[node.Ref];
    if (Array.isArray(node['Fn::If'])) {
      const [name, yes, no] = node['Fn::If'];
      if (!(name in conditions)) throw new Error(`Fn::If names an unknown condition ${name}`);
      return resolve(conditions[name] ? yes : no);
    }
    const out: Record<string, Json> = {};
    for (const [key, child] of Object.entries<Json>(node)) {
      const resolved = resolve(child);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  };
  const kept: Record<string, Json> = {};
  for (const [logicalId, resource] of Object.entries<Json>(raw.Resources)) {
    if (resource.Condition !== undefined && !conditions[resource.Condition]) continue;
    kept[logicalId] = resolve(resource);
  }
  return { resources: kept, conditions };
}

/** Copies what packaging reads; everything else (tests, sandbox, .git) stays out of the copy. */
function copyProject(to: string): void {
  for (const entry of packagingEntries(ROOT)) {
    const from = path.join(ROOT, entry);
    if (!fs.existsSync(from)) throw new Error(`${entry} is missing from ${ROOT}: the stack cannot be packaged`);
    fs.cpSync(from, path.join(to, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(to, 'node_modules'), 'dir');
}

/** `sls` with no AWS credentials reachable: packaging must never need them. */
function runSls(args: string[]) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: 'h3-no-such-profile',
    AWS_SHARED_CREDENTIALS_FILE: path.join(workDir, 'no-credentials'),
    AWS_CONFIG_FILE: path.join(workDir, 'no-config'),
    SLS_TELEMETRY_DISABLED: '1',
  };
  return spawnSync('npx', ['--no-install', 'sls', ...args], { cwd: workDir, env, encoding: 'utf8', timeout: 240_000 });
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Statements of the deployed roles (default stage unless `from` says otherwise). */
function statements(role?: string, from: Record<string, Json> = deployed): Statement[] {
  const out: Statement[] = [];
  for (const [logicalId, resource] of Object.entries(from)) {
    if (role !== undefined && logicalId !== role) continue;
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of resource.Properties.Policies ?? []) out.push(...policy.PolicyDocument.Statement);
    } else if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      out.push(...resource.Properties.PolicyDocument.Statement);
    }
  }
  return out;
}

function actionsOf(statement: Statement): string[] {
  return asArray(statement.Action);
}

function isReadOnly(action: string): boolean {
  const verb = action.split(':')[1] ?? '';
  return READ_ONLY_PREFIXES.some((prefix) => verb.startsWith(prefix)) && !verb.includes('*');
}

function granting(action: string, role?: string, from: Record<string, Json> = deployed): Statement[] {
  return statements(role, from).filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action));
}

/** The single statement granting `action`; its resources as JSON strings (Fn::Sub etc. included). */
function scopeOf(action: string, role?: string, from: Record<string, Json> = deployed): { statement: Statement; resources: string[] } {
  const found = granting(action, role, from);
  expect(found).toHaveLength(1);
  return { statement: found[0], resources: asArray(found[0].Resource).map((r) => JSON.stringify(r)) };
}

function readTemplate(dir: string): Json {
  return JSON.parse(fs.readFileSync(path.join(workDir, dir, 'cloudformation-template-update-stack.json'), 'utf8'));
}

beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'h3-stack-'));
  copyProject(workDir);
  // Same example stage with a storage group, into its own folder first: packaging cleans .serverless.
  // It also takes a watch period of 5 minutes: the schedule's plural unit.
  const withStorage = runSls(['package', '--package', '.serverless-storage', `--param=storageGroupName=${STORAGE_GROUP}`, `--param=opsSubscriptions=${JSON.stringify(OPS_SUBSCRIPTIONS)}`, '--param=watchPeriodMinutes=5']);
  if (withStorage.status !== 0) {
    throw new Error(`sls package with a storage group failed (exit ${withStorage.status}):\n${withStorage.stdout}\n${withStorage.stderr}`);
  }
  storageTemplate = readTemplate('.serverless-storage');
  storageDeployed = deployedWithDefaults(storageTemplate).resources;
  const reference = runSls(['package', '--stage', 'reference', '--package', '.serverless-reference']);
  if (reference.status !== 0) {
    throw new Error(`sls package of the reference cluster failed (exit ${reference.status}):\n${reference.stdout}\n${reference.stderr}`);
  }
  referenceTemplate = readTemplate('.serverless-reference');
  referenceDeployed = deployedWithDefaults(referenceTemplate).resources;
  const result = runSls(['package']);
  if (result.status !== 0) {
    throw new Error(`sls package failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  template = readTemplate('.serverless');
  resources = template.Resources;
  deployed = deployedWithDefaults(template).resources;
}, 300_000);

afterAll(() => {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

describe('packaging', () => {
  it('builds one zip per function containing only the bundled handler', () => {
    const zip = path.join(workDir, '.serverless', 'lifecycle.zip');
    expect(fs.existsSync(zip)).toBe(true);
    const listing = spawnSync('python3', ['-c', 'import sys,zipfile;print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', zip], { encoding: 'utf8' });
    expect(listing.status).toBe(0);
    const names = listing.stdout.trim().split('\n');
    expect(names).toContain('functions/lifecycle/handler.js');
    expect(names.filter((n) => n.startsWith('node_modules/'))).toEqual([]);
    expect(names.filter((n) => n.endsWith('.map'))).toEqual([]);
  });

  it.each(['lifecycle', 'alarm', 'status', 'watch', 'storage'])('the %s bundle reads credentials from the environment only (Lambda puts the role keys there): none of the default chain\'s other sources', (fn) => {
    const zip = path.join(workDir, '.serverless', `${fn}.zip`);
    const read = spawnSync('python3', ['-c', 'import sys,zipfile;sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())', zip, `functions/${fn}/handler.js`], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    expect(read.status).toBe(0);
    const bundle = read.stdout;
    expect(bundle).toContain('AWS_ACCESS_KEY_ID');
    expect(bundle).toContain('Unable to find environment variable credentials');
    // SSO and shared ini files, credential_process, web identity, the container endpoint:
    for (const source of ['sso_session', 'credential_process', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']) {
      expect({ fn, source, found: bundle.includes(source) }).toEqual({ fn, source, found: false });
    }
  });

  it('refuses a non-default stage that does not set its own cluster values, naming the missing one', () => {
    const result = runSls(['print', '--stage', 'h3prod']);
    expect(result.status).not.toBe(0);
    const output = `${result.stdout}${result.stderr}`;
    // osls names where the missing param is used, e.g. the COMPUTE_ASG_NAME variable
    expect(output).toMatch(/COMPUTE_ASG_NAME": Value not found at "param" source/);
    // targetGroupArn: required unless createCluster (serverless.yml custom.targetGroupArnUnlessGiven)
    expect(output).toMatch(/TargetGroupArn.Default": Value not found/);
  }, 120_000);
});

describe('package-time validation', () => {
  it('a stage parameter that cannot work stops `sls package` before anything is built, with a message naming it', () => {
    const result = runSls([
      'package', '--stage', 'h3bad', '--package', '.serverless-bad',
      '--param=computeGroupName=pydio-compute',
      `--param=targetGroupArn=${EXAMPLE.targetGroupArn}`,
      '--param=glusterServers=10.0.1.10',
      '--param=launchHeartbeatTimeout=20',
      '--param=appSessionCookie=PHPSESSID',
    ]);
    expect(result.status).not.toBe(0);
    const output = `${result.stdout}${result.stderr}`;
    expect(output).toContain('Stage "h3bad": 2 stage parameters cannot work');
    expect(output).toContain('launchHeartbeatTimeout must be a whole number from 30 to 7200');
    expect(output).toContain('appSessionCookie "PHPSESSID" is not a cookie the pydio8 app sets');
    expect(fs.existsSync(path.join(workDir, '.serverless-bad', 'cloudformation-template-update-stack.json'))).toBe(false);
    // Checked before osls's cleanup: the last good package is still there.
    expect(fs.existsSync(path.join(workDir, '.serverless', 'cloudformation-template-update-stack.json'))).toBe(true);
  }, 120_000);
});

describe('a real stage', () => {
  it('packages from its own params: a storage group instead of a static Gluster server list', () => {
    const result = runSls([
      'print', '--stage', 'h3storage', '--format', 'json',
      '--param=computeGroupName=pydio-compute',
      `--param=targetGroupArn=${EXAMPLE.targetGroupArn.replace('pydio-example', 'pydio-real')}`,
      '--param=storageGroupName=pydio-storage',
      '--param=opsEmail=ops@example.org',
    ]);
    expect(result.status).toBe(0);
    const config = JSON.parse(result.stdout.slice(result.stdout.indexOf('{')));
    const env = config.functions.lifecycle.environment;
    expect(env).toMatchObject({ STAGE: 'h3storage', COMPUTE_ASG_NAME: 'pydio-compute', GLUSTER_SERVERS: '' });
    expect(config.resources.Parameters.StorageGroupName.Default).toBe('pydio-storage');
    expect(config.resources.Parameters.OpsEmail.Default).toBe('ops@example.org');
    const { params: _declared, ...used } = config; // the params block itself lists the dev examples
    const printed = JSON.stringify(used);
    for (const exampleValue of [EXAMPLE.computeGroup, EXAMPLE.targetGroupArn, '10.0.1.10']) {
      expect(printed).not.toContain(exampleValue); // the dev examples never leak into another stage
    }
  }, 120_000);
});

describe('lifecycle function', () => {
  const fn = () => resources.LifecycleLambdaFunction;

  it('runs nodejs22.x with 60 s timeout and 256 MB under its own role', () => {
    expect(fn().Properties).toMatchObject({
      Handler: 'functions/lifecycle/handler.handler',
      Runtime: 'nodejs22.x',
      Timeout: 60,
      MemorySize: 256,
      Role: { 'Fn::GetAtt': ['LifecycleFunctionRole', 'Arn'] },
    });
    expect(resources.LifecycleFunctionRole.Type).toBe('AWS::IAM::Role');
    expect(resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it('consumes LifecycleQueue one message at a time, reporting item failures', () => {
    const mappings = Object.values(resources).filter(
      (r: Json) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties.FunctionName).includes('LifecycleLambdaFunction'),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0].Properties).toMatchObject({
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      EventSourceArn: { 'Fn::GetAtt': ['LifecycleQueue', 'Arn'] },
    });
  });

  it('sets exactly the documented environment, wired to the stack resources', () => {
    const vars = fn().Properties.Environment.Variables;
    expect(Object.keys(vars).sort()).toEqual([...ENV_NAMES].sort());
    expect(vars).toMatchObject({
      STAGE: EXAMPLE.stage,
      COMPUTE_ASG_NAME: EXAMPLE.computeGroup,
      // the stack's own target group when it creates the cluster, else the targetGroupArn param
      TARGET_GROUP_ARN: { 'Fn::If': ['CreatesCluster', { Ref: 'ClusterTargetGroup' }, { 'Fn::If': ['HasTargetGroupArn', { Ref: 'TargetGroupArn' }, { Ref: 'AWS::NoValue' }] }] },
      GLUSTER_SERVERS: EXAMPLE.glusterServers,
      STORAGE_ASG_NAME: { Ref: 'StorageGroupName' },
      TOPIC_ARN: { Ref: 'NotificationsTopic' },
      COORDINATION_TABLE: { Ref: 'CoordinationTable' },
      LIFECYCLE_QUEUE_URL: { Ref: 'LifecycleQueue' },
      DOC_MOUNT_VOLUMES: { Ref: 'MountVolumesDocument' },
      DOC_CONFIGURE_APP: { Ref: 'ConfigureAppDocument' },
      DOC_DRAIN_NODE: { Ref: 'DrainNodeDocument' },
    });
    expect(deployed.LifecycleLambdaFunction.Properties.Environment.Variables.TARGET_GROUP_ARN).toBe(EXAMPLE.targetGroupArn);
  });

  it('has example values that lib/config.ts accepts once the Refs resolve', () => {
    const resolved: Record<string, Json> = {
      NotificationsTopic: 'arn:aws:sns:eu-west-1:123456789012:pydio-autoscaler-dev-notifications',
      CoordinationTable: resources.CoordinationTable.Properties.TableName,
      LifecycleQueue: 'https://sqs.eu-west-1.amazonaws.com/123456789012/pydio-autoscaler-dev-lifecycle',
      MountVolumesDocument: resources.MountVolumesDocument.Properties.Name,
      ConfigureAppDocument: resources.ConfigureAppDocument.Properties.Name,
      DrainNodeDocument: resources.DrainNodeDocument.Properties.Name,
      StorageGroupName: template.Parameters.StorageGroupName.Default,
    };
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries<Json>(deployed.LifecycleLambdaFunction.Properties.Environment.Variables)) {
      if (typeof value === 'string') env[name] = value;
      else if (value && typeof value.Ref === 'string' && value.Ref in resolved) env[name] = resolved[value.Ref];
      else throw new Error(`${name} has an unexpected value ${JSON.stringify(value)}`);
    }
    const config = parseConfig(env);
    expect(config.computeGroupName).toBe(EXAMPLE.computeGroup);
    expect(config.gluster.servers).toEqual(EXAMPLE.glusterServers.split(','));
    expect(config.documents.mountVolumes).toBe('pydio-autoscaler-dev-mount-volumes');
    expect(config.coordinationTable).toBe('pydio-autoscaler-dev-coordination');
    expect(config.timing.claimTtlSeconds).toBe(900);
  });
});

describe('lifecycle events', () => {
  it('routes launch and terminate actions of the compute group only to LifecycleQueue', () => {
    const rule = resources.ComputeLifecycleRule;
    expect(rule.Type).toBe('AWS::Events::Rule');
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.autoscaling'],
      'detail-type': ['EC2 Instance-launch Lifecycle Action', 'EC2 Instance-terminate Lifecycle Action'],
      detail: { AutoScalingGroupName: [EXAMPLE.computeGroup] },
    });
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': ['LifecycleQueue', 'Arn'] } })]);
  });

  it('routes the end of a command of the compute documents only to LifecycleQueue (the flow parked on it resumes)', () => {
    const rule = resources.ComputeCommandRule;
    expect(rule.Type).toBe('AWS::Events::Rule');
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.ssm'],
      'detail-type': ['EC2 Command Status-change Notification'],
      detail: {
        status: [...COMMAND_END_STATUSES],
        'document-name': [{ Ref: 'MountVolumesDocument' }, { Ref: 'ConfigureAppDocument' }, { Ref: 'DrainNodeDocument' }],
      },
    });
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': ['LifecycleQueue', 'Arn'] } })]);
  });

  it('lets only those two rules send to the queue', () => {
    const policy = resources.LifecycleQueuePolicy.Properties;
    expect(policy.Queues).toEqual([{ Ref: 'LifecycleQueue' }]);
    expect(policy.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': ['LifecycleQueue', 'Arn'] },
        Condition: { ArnEquals: { 'aws:SourceArn': [{ 'Fn::GetAtt': ['ComputeLifecycleRule', 'Arn'] }, { 'Fn::GetAtt': ['ComputeCommandRule', 'Arn'] }] } },
      }),
    ]);
  });

  it('dead-letters after 5 receives, keeps dead letters 14 days and alarms on the first one', () => {
    const queue = resources.LifecycleQueue.Properties;
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['LifecycleDeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 });
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * resources.LifecycleLambdaFunction.Properties.Timeout);
    expect(resources.LifecycleDeadLetterQueue.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(resources.LifecycleDeadLetterAlarm.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['LifecycleDeadLetterQueue', 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: 'NotificationsTopic' }],
    });
  });

  it.each([
    ['ComputeLaunchHook', 'autoscaling:EC2_INSTANCE_LAUNCHING', 'ABANDON', 'pydio-autoscaler-dev-compute-launch'],
    ['ComputeTerminateHook', 'autoscaling:EC2_INSTANCE_TERMINATING', 'CONTINUE', 'pydio-autoscaler-dev-compute-terminate'],
  ])('%s hooks %s on the compute group, default %s', (logicalId, transition, defaultResult, name) => {
    expect(resources[logicalId]).toMatchObject({
      Type: 'AWS::AutoScaling::LifecycleHook',
      Properties: {
        LifecycleHookName: name,
        AutoScalingGroupName: EXAMPLE.computeGroup,
        LifecycleTransition: transition,
        DefaultResult: defaultResult,
        HeartbeatTimeout: 900,
      },
    });
    expect(resources[logicalId].Properties.NotificationTargetARN).toBeUndefined(); // EventBridge gets them
  });
});

describe('notifications', () => {
  it('has a topic and an e-mail subscription that exists only when opsEmail is set', () => {
    expect(resources.NotificationsTopic.Type).toBe('AWS::SNS::Topic');
    const subscription = resources.OpsEmailSubscription;
    expect(subscription).toMatchObject({
      Type: 'AWS::SNS::Subscription',
      Condition: 'HasOpsEmail',
      Properties: { TopicArn: { Ref: 'NotificationsTopic' }, Protocol: 'email', Endpoint: { Ref: 'OpsEmail' } },
    });
    expect(template.Conditions.HasOpsEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'OpsEmail' }, ''] }] });
    expect(template.Parameters.OpsEmail.Default).toBe(''); // the example stage has no ops e-mail
  });

  it('opsSubscriptions become subscriptions filtered on the severity attribute, never raw; none by default', () => {
    expect(Object.keys(resources).filter((id) => id.startsWith('OpsSubscription'))).toEqual([]);
    expect(storageTemplate.Resources.OpsSubscription1).toEqual({
      Type: 'AWS::SNS::Subscription',
      Properties: { TopicArn: { Ref: 'NotificationsTopic' }, Protocol: 'https', Endpoint: OPS_SUBSCRIPTIONS[0]!.endpoint, FilterPolicyScope: 'MessageAttributes', FilterPolicy: { severity: ['warning', 'error'] } },
    });
    expect(storageTemplate.Resources.OpsSubscription2.Properties).toMatchObject({ Protocol: 'email', Endpoint: 'oncall@example.org', FilterPolicy: { severity: ['error'] } });
  });
});

describe('SSM documents', () => {
  const rendered = () => require(path.join(ROOT, 'ssm-documents', 'render.js')).documents;

  it.each([
    ['MountVolumesDocument', 'mountVolumes', 'pydio-autoscaler-dev-mount-volumes'],
    ['ConfigureAppDocument', 'configureApp', 'pydio-autoscaler-dev-configure-app'],
    ['DrainNodeDocument', 'drainNode', 'pydio-autoscaler-dev-drain-node'],
  ])('%s is the rendered %s document, named %s', (logicalId, key, name) => {
    const doc = resources[logicalId];
    expect(doc.Type).toBe('AWS::SSM::Document');
    expect(doc.Properties).toMatchObject({ Name: name, DocumentType: 'Command', UpdateMethod: 'NewVersion' });
    expect(['JSON', 'YAML']).toContain(doc.Properties.DocumentFormat);
    expect(doc.Properties.Content).toEqual(rendered()[key].content);
  });
});

describe('least privilege', () => {
  it('grants no mutating action on Resource "*" and no action wildcard', () => {
    const offending: string[] = [];
    for (const s of statements()) {
      for (const action of actionsOf(s)) {
        if (action === '*' || action.endsWith(':*')) offending.push(`${s.Sid ?? '?'}: ${action} (wildcard action)`);
        if (asArray(s.Resource).includes('*') && !isReadOnly(action)) offending.push(`${s.Sid ?? '?'}: ${action} on *`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('completes and heartbeats hooks of the compute group only', () => {
    for (const action of ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat']) {
      const { resources: scoped } = scopeOf(action);
      expect(scoped[0]).toContain(`autoScalingGroup:*:autoScalingGroupName/${EXAMPLE.computeGroup}`);
      expect(scoped[0]).toContain('arn:${AWS::Partition}:autoscaling:${AWS::Region}:${AWS::AccountId}');
      // never the storage group's hooks, even with one: they are the storage role's
      expect(scoped).toHaveLength(1);
      expect(scopeOf(action, 'LifecycleFunctionRole', storageDeployed).resources).toHaveLength(1);
    }
  });

  it('sends commands with the three own documents, to instances tagged with the compute group', () => {
    const send = granting('ssm:SendCommand');
    expect(send).toHaveLength(2);
    const documents = send.find((s) => JSON.stringify(s.Resource).includes(':document/'))!;
    const docResources = asArray(documents.Resource).map((r) => JSON.stringify(r));
    expect(docResources).toHaveLength(3);
    for (const logicalId of ['MountVolumesDocument', 'ConfigureAppDocument', 'DrainNodeDocument']) {
      expect(docResources.some((r) => r.includes(`:document/\${${logicalId}}`))).toBe(true);
    }
    const instances = send.find((s) => JSON.stringify(s.Resource).includes(':instance/*'))!;
    expect(asArray(instances.Resource)).toHaveLength(1);
    const allowed = asArray(instances.Condition?.StringEquals?.['ssm:resourceTag/aws:autoscaling:groupName']);
    expect(allowed).toEqual([EXAMPLE.computeGroup]);
  });

  it('takes and gives back its claims, and consumes its parked flows, only: items of the coordination table under lifecycle/, no Parameter Store record', () => {
    const claims = granting('dynamodb:PutItem', 'LifecycleFunctionRole');
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatchObject({
      Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
      Resource: { 'Fn::GetAtt': ['CoordinationTable', 'Arn'] },
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['lifecycle/*'] } },
    });
    expect(statements('LifecycleFunctionRole').flatMap(actionsOf).filter((a) => a.startsWith('ssm:') && a.includes('Parameter'))).toEqual([]);
    expect(statements('LifecycleFunctionRole').flatMap(actionsOf).filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem']);
  });

  it('registers targets only in the configured target group', () => {
    for (const action of ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets']) {
      expect(scopeOf(action).resources).toEqual([JSON.stringify(EXAMPLE.targetGroupArn)]);
    }
  });

  it('publishes only to the topic and uses only the lifecycle queue', () => {
    expect(scopeOf('sns:Publish', 'LifecycleFunctionRole').resources).toEqual([JSON.stringify({ Ref: 'NotificationsTopic' })]);
    for (const action of ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility']) {
      expect(scopeOf(action, 'LifecycleFunctionRole').resources).toEqual([JSON.stringify({ 'Fn::GetAtt': ['LifecycleQueue', 'Arn'] })]);
    }
  });

  it('writes logs only to the function log group', () => {
    for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
      const { resources: scoped } = scopeOf(action, 'LifecycleFunctionRole');
      expect(scoped).toEqual([expect.stringContaining(':log-group:/aws/lambda/pydio-autoscaler-dev-lifecycle:*')]);
    }
    expect(resources.LifecycleLogGroup.Properties.LogGroupName).toBe('/aws/lambda/pydio-autoscaler-dev-lifecycle');
  });
});

describe('coordination table', () => {
  const table = () => deployed.CoordinationTable;

  it('exists on every stage (the compute claims need it): on demand, key `key` (S), TTL on expiresAt, no point-in-time recovery', () => {
    expect(resources.CoordinationTable.Condition).toBeUndefined();
    expect(table()).toMatchObject({
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'pydio-autoscaler-dev-coordination',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
      },
    });
    expect(table().Properties.ProvisionedThroughput).toBeUndefined();
    expect(template.Outputs.CoordinationTableName).toEqual({ Value: { Ref: 'CoordinationTable' } });
  });

  it('the storage role takes, reads, consumes and gives back only keys under storage/; the alarm and status roles have nothing on it', () => {
    const grants = statements('StorageFunctionRole', storageDeployed).filter((s) => JSON.stringify(s.Resource).includes('CoordinationTable'));
    expect(grants).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': ['CoordinationTable', 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['storage/*'] } },
      }),
    ]);
    for (const role of ['AlarmFunctionRole', 'StatusFunctionRole']) {
      expect([role, statements(role, storageDeployed).flatMap(actionsOf).filter((a) => a.startsWith('dynamodb:'))]).toEqual([role, []]);
    }
  });

  it('every dynamodb action granted acts on this table only, and every item action is narrowed to keys (dynamodb:LeadingKeys)', () => {
    const onTable = statements(undefined, storageDeployed).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(onTable.length).toBeGreaterThan(0);
    for (const s of onTable) {
      expect(s.Resource).toEqual({ 'Fn::GetAtt': ['CoordinationTable', 'Arn'] });
      // A Scan carries no leading key (its condition would always hold): only item actions can be narrowed.
      if (actionsOf(s).some((a) => /^dynamodb:(Get|Put|Update|Delete)Item$/.test(a))) {
        // Each pattern a key prefix ending in /* (the watch reads storage/lifecycle/*, never storage/lock).
        const keys: unknown = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
        expect(Array.isArray(keys) && keys.length > 0).toBe(true);
        for (const key of keys as string[]) expect(key).toMatch(/^[a-z]+(\/[a-z]+)*\/\*$/);
      }
    }
  });
});

describe('outputs', () => {
  it('exports the topic, queues, documents and hooks', () => {
    expect(template.Outputs).toMatchObject({
      NotificationsTopicArn: { Value: { Ref: 'NotificationsTopic' } },
      LifecycleQueueUrl: { Value: { Ref: 'LifecycleQueue' } },
      LifecycleDeadLetterQueueUrl: { Value: { Ref: 'LifecycleDeadLetterQueue' } },
      MountVolumesDocumentName: { Value: { Ref: 'MountVolumesDocument' } },
      ConfigureAppDocumentName: { Value: { Ref: 'ConfigureAppDocument' } },
      DrainNodeDocumentName: { Value: { Ref: 'DrainNodeDocument' } },
      ComputeLaunchHookName: { Value: 'pydio-autoscaler-dev-compute-launch' },
      ComputeTerminateHookName: { Value: 'pydio-autoscaler-dev-compute-terminate' },
    });
  });
});

describe('alarm-driven scaling', () => {
  const names = {
    cpuHigh: 'pydio-autoscaler-dev-compute-cpu-high',
    cpuLow: 'pydio-autoscaler-dev-compute-cpu-low',
    diskHigh: 'pydio-autoscaler-dev-brick-disk-high',
  };

  it('alarm function consumes DecisionQueue one message at a time, under its own role', () => {
    expect(resources.AlarmLambdaFunction.Properties).toMatchObject({
      Handler: 'functions/alarm/handler.handler',
      Runtime: 'nodejs22.x',
      Role: { 'Fn::GetAtt': ['AlarmFunctionRole', 'Arn'] },
    });
    const mappings = Object.values(resources).filter(
      (r: Json) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties.FunctionName).includes('AlarmLambdaFunction'),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0].Properties).toMatchObject({
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      EventSourceArn: { 'Fn::GetAtt': ['DecisionQueue', 'Arn'] },
    });
    const queue = resources.DecisionQueue.Properties;
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['DecisionDeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 });
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * resources.AlarmLambdaFunction.Properties.Timeout);
    expect(resources.DecisionDeadLetterAlarm.Properties.AlarmActions).toEqual([{ Ref: 'NotificationsTopic' }]);
  });

  it('alarm function environment is what lib/config/scaling.ts accepts once the Refs resolve', () => {
    const vars = resources.AlarmLambdaFunction.Properties.Environment.Variables;
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries<Json>(vars)) {
      if (typeof value === 'string') env[name] = value;
      else if (value?.Ref === 'NotificationsTopic') env[name] = 'arn:aws:sns:eu-west-1:123456789012:pydio-autoscaler-dev-notifications';
      else if (value?.Ref === 'DecisionQueue') env[name] = 'https://sqs.eu-west-1.amazonaws.com/123456789012/pydio-autoscaler-dev-decision';
      else if (value?.Ref === 'StorageGroupName') env[name] = template.Parameters.StorageGroupName.Default;
      else if (value?.['Fn::If']?.[0] === 'HasStorageGroup') env[name] = value['Fn::If'][2]; // the example stage has no storage group
      else throw new Error(`${name} has an unexpected value ${JSON.stringify(value)}`);
    }
    const config = parseScalingConfig(env);
    expect(config.alarms).toEqual({ cpuHigh: names.cpuHigh, cpuLow: names.cpuLow, diskHigh: '' });
    expect(config.scaling).toMatchObject({ stepOut: 1, largeStepOut: 2, largeStepFactor: 1.5, cooldownSeconds: 300, busyRecheckSeconds: 60 });
    expect(vars.SCALE_BUSY_RECHECK_SECONDS).toBe('60');
    expect(vars.DISK_HIGH_ALARM_NAME).toEqual({ 'Fn::If': ['HasStorageGroup', names.diskHigh, ''] });
  });

  it.each([
    ['ComputeCpuHighAlarm', names.cpuHigh, 'GreaterThanThreshold', 70, 300, 2],
    ['ComputeCpuLowAlarm', names.cpuLow, 'LessThanThreshold', 25, 300, 3],
  ])('%s: group average CPU of the compute group (%s)', (logicalId, name, operator, threshold, period, evaluations) => {
    expect(resources[logicalId].Properties).toMatchObject({
      AlarmName: name, Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Statistic: 'Average',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: EXAMPLE.computeGroup }],
      ComparisonOperator: operator, Threshold: threshold, Period: period, EvaluationPeriods: evaluations,
    });
    expect(resources[logicalId].Properties.AlarmActions).toBeUndefined(); // EventBridge carries the state change
  });

  it('brick disk alarm: fullest brick of the storage group, only with a storage group', () => {
    expect(resources.BrickDiskHighAlarm).toMatchObject({
      Condition: 'HasStorageGroup',
      Properties: {
        AlarmName: names.diskHigh, Namespace: 'CWAgent', MetricName: 'disk_used_percent', Statistic: 'Maximum',
        Dimensions: [{ Name: 'AutoScalingGroupName', Value: { Ref: 'StorageGroupName' } }, { Name: 'path', Value: '/bricks' }],
        Threshold: 80, Period: 300, EvaluationPeriods: 1,
      },
    });
  });

  it.each([
    ['GlusterBricksOfflineAlarm', 'gluster-bricks-offline', 'GlusterBricksOffline', true],
    ['GlusterSplitBrainAlarm', 'gluster-split-brain', 'GlusterSplitBrainEntries', false],
    ['GlusterPeersDisconnectedAlarm', 'gluster-peers-disconnected', 'GlusterPeersDisconnected', false],
  ])('Gluster health alarm %s: on the pool-wide series the storage function publishes, > 0, told to ops both ways; only with a storage group', (logicalId, suffix, metric, toldWhenSilent) => {
    expect(resources[logicalId]).toMatchObject({
      Condition: 'HasStorageGroup',
      Properties: {
        AlarmName: `pydio-autoscaler-dev-${suffix}`, Namespace: 'PydioAutoscaler', MetricName: metric,
        Dimensions: [{ Name: 'service', Value: 'pydio-autoscaler' }],
        Statistic: 'Maximum', Period: 60, EvaluationPeriods: 1, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold',
        // No datapoint at all is no health read: INSUFFICIENT_DATA, not OK and not ALARM.
        TreatMissingData: 'missing',
        AlarmActions: [{ Ref: 'NotificationsTopic' }],
        OKActions: [{ Ref: 'NotificationsTopic' }],
      },
    });
    expect(resources[logicalId].Properties.InsufficientDataActions).toEqual(toldWhenSilent ? [{ Ref: 'NotificationsTopic' }] : undefined);
    expect(deployed[logicalId]).toBeUndefined();
    expect(storageDeployed[logicalId]).toBeDefined();
  });

  it('routes state changes of our three alarms only, to DecisionQueue, and only that rule may send', () => {
    expect(resources.AlarmStateRule.Properties.EventPattern).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: [names.cpuHigh, names.cpuLow, names.diskHigh] },
    });
    expect(resources.AlarmStateRule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': ['DecisionQueue', 'Arn'] } })]);
    expect(resources.DecisionQueuePolicy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['AlarmStateRule', 'Arn'] } } } }),
    ]);
  });

  it('alarm role: sets capacity of the compute (and storage) group only, reads only its alarms, own topic and queue', () => {
    const role = 'AlarmFunctionRole';
    const { resources: scaled } = scopeOf('autoscaling:SetDesiredCapacity', role);
    expect(granting('autoscaling:SetDesiredCapacity')).toHaveLength(1);
    expect(scaled[0]).toContain(`autoScalingGroupName/${EXAMPLE.computeGroup}`);
    expect(scaled.slice(1).every((r) => r.includes('"Fn::If":["HasStorageGroup"'))).toBe(true);
    const alarms = scopeOf('cloudwatch:DescribeAlarms', role).resources;
    expect(alarms).toHaveLength(3);
    for (const name of Object.values(names)) expect(alarms.some((r) => r.includes(`:alarm:${name}`))).toBe(true);
    expect(scopeOf('sns:Publish', role).resources).toEqual([JSON.stringify({ Ref: 'NotificationsTopic' })]);
    for (const action of ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage']) {
      expect(scopeOf(action, role).resources).toEqual([JSON.stringify({ 'Fn::GetAtt': ['DecisionQueue', 'Arn'] })]);
    }
    expect(scopeOf('logs:PutLogEvents', role).resources).toEqual([expect.stringContaining(':log-group:/aws/lambda/pydio-autoscaler-dev-alarm:*')]);
    expect(scopeOf('autoscaling:DescribeScalingActivities', role).resources).toEqual(['"*"']);
  });

  it('status function is read-only: only Describe on "*" and its own logs', () => {
    expect(resources.StatusLambdaFunction.Properties).toMatchObject({ Handler: 'functions/status/handler.handler', Role: { 'Fn::GetAtt': ['StatusFunctionRole', 'Arn'] } });
    const actions = statements('StatusFunctionRole').flatMap((st) => actionsOf(st)).sort();
    expect(actions).toEqual(['autoscaling:DescribeAutoScalingGroups', 'elasticloadbalancing:DescribeTargetHealth', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    // with a storage group: also reads the storage records (Get only, nothing else)
    const withStorage = statements('StatusFunctionRole', storageDeployed).flatMap((st) => actionsOf(st)).sort();
    expect(withStorage).toEqual([...actions, 'ssm:GetParameter', 'ssm:GetParametersByPath'].sort());
    const records = scopeOf('ssm:GetParametersByPath', 'StatusFunctionRole', storageDeployed).resources;
    expect(records).toHaveLength(4);
    for (const r of records) expect(r).toContain(':parameter/pydio-autoscaler/dev/storage/');
  });

  it('dashboard: a valid body with CPU, healthy targets, brick disk, volume health and our metrics', () => {
    const [body, vars] = deployed.ClusterDashboard.Properties.DashboardBody['Fn::Sub'];
    expect(vars.TargetGroupDimension).toEqual({ 'Fn::Select': [5, { 'Fn::Split': [':', EXAMPLE.targetGroupArn] }] });
    const resolved = String(body).replace(/\$\{([A-Za-z:]+)\}/g, (_m: string, name: string) => {
      const known: Record<string, string> = {
        'AWS::Region': 'eu-west-1', StorageGroupName: '', TargetGroupDimension: 'targetgroup/pydio-example/0123456789abcdef',
      };
      if (name in known) return known[name];
      if (typeof vars[name] === 'string') return vars[name];
      throw new Error(`dashboard uses \${${name}}, which nothing defines`);
    });
    const dashboard = JSON.parse(resolved);
    const metrics = JSON.stringify(dashboard.widgets.map((w: Json) => w.properties.metrics));
    for (const needle of ['CPUUtilization', 'HealthyHostCount', 'disk_used_percent', 'GlusterBricksOffline', 'GlusterPeersDisconnected', 'GlusterHealEntries', 'GlusterSplitBrainEntries', 'ScaleOut', 'ScaleIn', 'LifecycleDurationSeconds', 'LifecycleFailures']) {
      expect(metrics).toContain(needle);
    }
    expect(metrics).toContain('PydioAutoscaler');
    // The per-volume Gluster series name the stage's volumes, as the storage function's Volume dimension does.
    expect(metrics).toContain('"GlusterBricksOffline","service","pydio-autoscaler","Volume","pydio-data"');
    expect(metrics).toContain('"GlusterHealEntries","service","pydio-autoscaler","Volume","pydio-config"');
  });

  it('exports the decision queue, alarms, dashboard and status function', () => {
    expect(template.Outputs).toMatchObject({
      DecisionQueueUrl: { Value: { Ref: 'DecisionQueue' } },
      ComputeCpuHighAlarmName: { Value: { Ref: 'ComputeCpuHighAlarm' } },
      ComputeCpuLowAlarmName: { Value: { Ref: 'ComputeCpuLowAlarm' } },
      BrickDiskHighAlarmName: { Condition: 'HasStorageGroup', Value: { Ref: 'BrickDiskHighAlarm' } },
      DashboardName: { Value: { Ref: 'ClusterDashboard' } },
      StatusFunctionName: { Value: { Ref: 'StatusLambdaFunction' } },
    });
  });
});

describe('function environments', () => {
  const POWERTOOLS: readonly string[] = [...POWERTOOLS_VARIABLES.logger, ...POWERTOOLS_VARIABLES.metrics];
  it.each([
    ['LifecycleLambdaFunction', 'parseConfig', [...COMPUTE_VARIABLES]],
    ['AlarmLambdaFunction', 'parseScalingConfig', [...SCALING_VARIABLES]],
    ['StatusLambdaFunction', 'parseStatusConfig', [...STATUS_VARIABLES]],
    ['StorageLambdaFunction', 'parseConfig and parseStorageConfig', [...COMPUTE_VARIABLES, ...STORAGE_VARIABLES]],
    ['WatchLambdaFunction', 'parseWatchConfig', [...WATCH_VARIABLES]],
  ] as const)('%s is given only variables that %s or Powertools read', (logicalId, _parsers, read) => {
    const names = Object.keys(storageTemplate.Resources[logicalId].Properties.Environment.Variables);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => !(read as readonly string[]).includes(name) && !POWERTOOLS.includes(name))).toEqual([]);
  });

  it('status function environment is what lib/config/status.ts accepts once the Refs resolve', () => {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries<Json>(deployed.StatusLambdaFunction.Properties.Environment.Variables)) {
      if (typeof value === 'string') env[name] = value;
      else if (value?.Ref === 'StorageGroupName') env[name] = template.Parameters.StorageGroupName.Default;
      else throw new Error(`${name} has an unexpected value ${JSON.stringify(value)}`);
    }
    expect(parseStatusConfig(env)).toMatchObject({ computeGroupName: EXAMPLE.computeGroup, targetGroupArn: EXAMPLE.targetGroupArn, storageGroupName: '' });
  });
});

describe('the watch', () => {
  const watchRole = 'WatchFunctionRole';
  const rules = (from: Record<string, Json>) => Object.entries(from).filter(([, r]) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties.Targets).includes('WatchLambdaFunction'));

  it('runs every watchPeriodMinutes from its own rule (rate(1 minute) by default, rate(5 minutes) for 5), under its own role, never retried', () => {
    expect(resources.WatchLambdaFunction.Properties).toMatchObject({ Handler: 'functions/watch/handler.handler', Runtime: 'nodejs22.x', Timeout: 60, Role: { 'Fn::GetAtt': [watchRole, 'Arn'] } });
    const [[ruleId, rule]] = rules(resources) as [[string, Json]];
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED', Name: 'pydio-autoscaler-dev-watch' });
    expect(rules(storageTemplate.Resources).map(([, r]) => r.Properties.ScheduleExpression)).toEqual(['rate(5 minutes)']);
    // Only that rule may invoke it.
    const permissions = Object.values<Json>(resources).filter((r) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties.FunctionName).includes('WatchLambdaFunction'));
    expect(permissions.map((p) => p.Properties)).toEqual([{ FunctionName: { 'Fn::GetAtt': ['WatchLambdaFunction', 'Arn'] }, Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] } }]);
    const invokeConfigs = Object.values<Json>(resources).filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig' && JSON.stringify(r.Properties.FunctionName).includes('WatchLambdaFunction'));
    expect(invokeConfigs.map((c) => c.Properties.MaximumRetryAttempts)).toEqual([0]);
  });

  it('its environment is what lib/config/watch.ts accepts once the Refs resolve, with and without a storage tier', () => {
    const resolve = (from: Json, storageGroup: string): Record<string, string> => {
      const refs: Record<string, string> = {
        NotificationsTopic: 'arn:aws:sns:eu-west-1:123456789012:pydio-autoscaler-dev-notifications',
        CoordinationTable: 'pydio-autoscaler-dev-coordination',
        LifecycleQueue: 'https://sqs.eu-west-1.amazonaws.com/123456789012/pydio-autoscaler-dev-lifecycle',
        StorageQueue: 'https://sqs.eu-west-1.amazonaws.com/123456789012/pydio-autoscaler-dev-storage',
        StorageGroupName: storageGroup,
      };
      const env: Record<string, string> = {};
      for (const [name, value] of Object.entries<Json>(from.WatchLambdaFunction.Properties.Environment.Variables)) {
        if (typeof value === 'string') env[name] = value;
        else if (typeof value?.Ref === 'string' && value.Ref in refs) env[name] = refs[value.Ref];
        else throw new Error(`${name} has an unexpected value ${JSON.stringify(value)}`);
      }
      return env;
    };
    const computeOnly = parseWatchConfig(resolve(deployed, ''));
    expect(computeOnly).toMatchObject({ computeGroupName: EXAMPLE.computeGroup, storageGroupName: '', storageQueueUrl: '', coordinationTable: 'pydio-autoscaler-dev-coordination', watch: { periodSeconds: 60, unhealthyChecks: 3, maxReplaceShare: 0.34, claimTtlSeconds: 900 } });
    const withStorage = parseWatchConfig(resolve(storageDeployed, STORAGE_GROUP));
    expect(withStorage).toMatchObject({ storageGroupName: STORAGE_GROUP, storageQueueUrl: expect.stringContaining('-storage'), watch: { periodSeconds: 300 } });
  });

  it('role: marks Unhealthy in the compute group only, sends only to its two queues, reads the claims and writes only its own keys, reads only the health record', () => {
    expect(scopeOf('autoscaling:SetInstanceHealth', watchRole).resources).toEqual([expect.stringContaining(`autoScalingGroupName/${EXAMPLE.computeGroup}`)]);
    expect(granting('autoscaling:SetInstanceHealth', watchRole, storageDeployed).flatMap((st) => asArray(st.Resource)).map((r) => JSON.stringify(r)).join()).not.toContain('StorageGroupName');
    expect(scopeOf('sqs:SendMessage', watchRole).resources).toEqual([JSON.stringify({ 'Fn::GetAtt': ['LifecycleQueue', 'Arn'] })]);
    expect(scopeOf('sqs:SendMessage', watchRole, storageDeployed).resources).toEqual([JSON.stringify({ 'Fn::GetAtt': ['LifecycleQueue', 'Arn'] }), JSON.stringify({ 'Fn::GetAtt': ['StorageQueue', 'Arn'] })]);
    const table = statements(watchRole).filter((st) => JSON.stringify(st.Resource).includes('CoordinationTable'));
    const keysOf = (st: Statement) => st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
    expect(table.map((st) => [asArray(st.Action).sort(), keysOf(st)])).toEqual([
      [['dynamodb:GetItem'], ['lifecycle/*', 'storage/lifecycle/*']],
      [['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem'], ['watch/*']],
    ]);
    expect(granting('ssm:GetParameter', watchRole)).toEqual([]);
    expect(scopeOf('ssm:GetParameter', watchRole, storageDeployed).resources).toEqual([expect.stringContaining(':parameter/pydio-autoscaler/dev/storage/health')]);
    const readOnly = statements(watchRole).filter((st) => JSON.stringify(st.Resource) === '"*"').flatMap((st) => asArray(st.Action)).sort();
    expect(readOnly).toEqual(['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeLifecycleHooks', 'elasticloadbalancing:DescribeTargetHealth']);
    expect(scopeOf('sns:Publish', watchRole).resources).toEqual([JSON.stringify({ Ref: 'NotificationsTopic' })]);
    expect(scopeOf('logs:PutLogEvents', watchRole).resources).toEqual([expect.stringContaining(':log-group:/aws/lambda/pydio-autoscaler-dev-watch:*')]);
  });

  it('exports its function name', () => {
    expect(template.Outputs.WatchFunctionName).toEqual({ Value: { Ref: 'WatchLambdaFunction' } });
  });
});

describe('storage tier', () => {
  const STORAGE_IDS = [
    'StorageLambdaFunction', 'StorageLogGroup', 'StorageEventSourceMappingSQSStorageQueue', 'StorageFunctionRole',
    'StorageQueue', 'StorageDeadLetterQueue', 'StorageQueuePolicy', 'StorageDeadLetterAlarm', 'StorageLifecycleRule',
    'StorageLaunchHook', 'StorageTerminateHook', 'StoragePrepareBrickDocument', 'StoragePeerProbeDocument',
    'StorageGlusterStatusDocument', 'StorageGlusterCommandDocument', 'StorageAgentConfigParameter',
  ];
  const fn = () => storageDeployed.StorageLambdaFunction;

  it('the default stage deploys no storage resource and nothing refers to one', () => {
    expect(template.Parameters.StorageGroupName.Default).toBe('');
    for (const logicalId of STORAGE_IDS) {
      // packaged, conditional (the hooks: only on a storage group the stack does not create)
      expect([logicalId, resources[logicalId]?.Condition]).toEqual([logicalId, logicalId.endsWith('Hook') ? 'StorageHooksApart' : 'HasStorageGroup']);
      expect(deployed[logicalId]).toBeUndefined();
    }
    expect(Object.keys(deployed).filter((id) => id.startsWith('Storage'))).toEqual([]);
    const rest = JSON.stringify(deployed);
    for (const logicalId of STORAGE_IDS) expect(rest).not.toContain(`"${logicalId}"`);
    expect(rest).not.toContain('/storage/');
    expect(deployed.AlarmLambdaFunction.Properties.Environment.Variables.STORAGE_QUEUE_URL).toBe('');
    // no Lambda version (hashed logical id) would outlive the conditional function
    expect(Object.values<Json>(resources).filter((r) => r.Type === 'AWS::Lambda::Version' && JSON.stringify(r).includes('StorageLambdaFunction'))).toEqual([]);
  });

  it('a stage with a storage group deploys every storage resource', () => {
    expect(storageTemplate.Parameters.StorageGroupName.Default).toBe(STORAGE_GROUP);
    for (const logicalId of STORAGE_IDS) expect([logicalId, storageDeployed[logicalId] !== undefined]).toEqual([logicalId, true]);
  });

  it('storage function: own role, 60 s, consumes StorageQueue one message at a time reporting item failures', () => {
    expect(fn().Properties).toMatchObject({
      Handler: 'functions/storage/handler.handler',
      Runtime: 'nodejs22.x',
      Timeout: 60,
      MemorySize: 256,
      Role: { 'Fn::GetAtt': ['StorageFunctionRole', 'Arn'] },
    });
    const mappings = Object.values<Json>(storageDeployed).filter(
      (r) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties.FunctionName).includes('StorageLambdaFunction'),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0].Properties).toMatchObject({
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      EventSourceArn: { 'Fn::GetAtt': ['StorageQueue', 'Arn'] },
    });
    expect(storageDeployed.StorageLogGroup.Properties.LogGroupName).toBe('/aws/lambda/pydio-autoscaler-dev-storage');
  });

  it('storage function environment is what lib/config.ts and the storage config accept once the Refs resolve', () => {
    const vars = fn().Properties.Environment.Variables;
    const refs: Record<string, string> = {
      NotificationsTopic: 'arn:aws:sns:eu-west-1:123456789012:pydio-autoscaler-dev-notifications',
      CoordinationTable: storageDeployed.CoordinationTable.Properties.TableName,
      LifecycleQueue: 'https://sqs.eu-west-1.amazonaws.com/123456789012/pydio-autoscaler-dev-lifecycle',
      StorageQueue: 'https://sqs.eu-west-1.amazonaws.com/123456789012/pydio-autoscaler-dev-storage',
    };
    for (const id of ['MountVolumesDocument', 'ConfigureAppDocument', 'DrainNodeDocument', 'StoragePrepareBrickDocument', 'StoragePeerProbeDocument', 'StorageGlusterStatusDocument', 'StorageGlusterCommandDocument', 'StorageGrowBrickDocument']) {
      refs[id] = storageDeployed[id].Properties.Name;
    }
    refs.StorageAgentConfigParameter = storageDeployed.StorageAgentConfigParameter.Properties.Name;
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries<Json>(vars)) {
      if (typeof value === 'string') env[name] = value;
      else if (value && typeof value.Ref === 'string' && value.Ref in refs) env[name] = refs[value.Ref];
      else throw new Error(`${name} has an unexpected value ${JSON.stringify(value)}`);
    }
    expect(env.STORAGE_ASG_NAME).toBe(STORAGE_GROUP);
    expect(vars.STORAGE_QUEUE_URL).toEqual({ Ref: 'StorageQueue' });
    const config = parseConfig(env);
    const storage = parseStorageConfig(env, config);
    expect(storage.groupName).toBe(STORAGE_GROUP);
    expect(storage.documents).toEqual({
      prepareBrick: 'pydio-autoscaler-dev-storage-prepare-brick',
      peerProbe: 'pydio-autoscaler-dev-storage-peer-probe',
      glusterStatus: 'pydio-autoscaler-dev-storage-gluster-status',
      glusterCommand: 'pydio-autoscaler-dev-storage-gluster-command',
      growBrick: 'pydio-autoscaler-dev-storage-grow-brick',
    });
    expect(storage.growInPlace).toEqual({ mode: 'off', toGiB: 0, ebsDevice: '/dev/sdf' });
    expect(storage.agent).toEqual({ configParameter: 'AmazonCloudWatch-pydio-autoscaler-dev-storage' });
  });

  it('the CloudWatch agent configuration parameter is one the agent\'s documents and managed policy accept', () => {
    const parameter = storageDeployed.StorageAgentConfigParameter.Properties;
    expect(parameter).toMatchObject({ Type: 'String', Tier: 'Standard' });
    expect(parameter.Name).toMatch(AGENT_CONFIG_PARAMETER);
    const location = (AWS_DOCUMENTS[MANAGE_AGENT_DOCUMENT] as Json).parameters.optionalConfigurationLocation;
    expect(parameter.Name).toMatch(new RegExp(location.allowedPattern));
    expect(Buffer.byteLength(parameter.Value)).toBeLessThanOrEqual(4096);
    // The agent's own placeholders reach the parameter as written (osls did not read them).
    expect(JSON.parse(parameter.Value).metrics.append_dimensions).toEqual({ AutoScalingGroupName: '\${aws:AutoScalingGroupName}', InstanceId: '\${aws:InstanceId}' });
  });

  it('the brick disk alarm watches exactly a metric the shipped agent configuration publishes for the brick mount', () => {
    const alarm = storageDeployed.BrickDiskHighAlarm.Properties;
    const collection = parseDiskCollection(storageDeployed.StorageAgentConfigParameter.Properties.Value);
    expect(collection).toBeDefined();
    const brickMount = alarm.Dimensions.find((d: Json) => d.Name === 'path')?.Value;
    const published = diskDimensionSets(collection!, { path: brickMount, device: '/dev/nvme1n1', fstype: 'xfs', totalBytes: 100 * 1024 ** 3 }, {
      hostname: 'ip-10-0-1-10.eu-west-1.compute.internal', InstanceId: 'i-0123456789abcdef0', AutoScalingGroupName: STORAGE_GROUP, ImageId: 'ami-0123', InstanceType: 'm6g.large',
    });
    const watched = Object.fromEntries(alarm.Dimensions.map((d: Json) => [d.Name, d.Value?.Ref === 'StorageGroupName' ? STORAGE_GROUP : d.Value]));
    expect(watched).toEqual({ AutoScalingGroupName: STORAGE_GROUP, path: '/bricks' });
    expect(alarm.Namespace).toBe(collection!.namespace);
    expect(collection!.metrics.map((m) => m.name)).toContain(alarm.MetricName);
    expect(published).toContainEqual(watched);
  });

  it('routes lifecycle actions of the storage group and the end of its documents\' commands only to StorageQueue, and only those rules may send', () => {
    const rule = storageDeployed.StorageLifecycleRule.Properties;
    expect(rule.EventPattern).toEqual({
      source: ['aws.autoscaling'],
      'detail-type': ['EC2 Instance-launch Lifecycle Action', 'EC2 Instance-terminate Lifecycle Action'],
      detail: { AutoScalingGroupName: [STORAGE_GROUP] },
    });
    expect(rule.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': ['StorageQueue', 'Arn'] } })]);
    const commands = storageDeployed.StorageCommandRule.Properties;
    expect(commands.EventPattern).toEqual({
      source: ['aws.ssm'],
      'detail-type': ['EC2 Command Status-change Notification'],
      detail: {
        status: [...COMMAND_END_STATUSES],
        'document-name': [
          ...['StoragePrepareBrickDocument', 'StoragePeerProbeDocument', 'StorageGlusterStatusDocument', 'StorageGlusterCommandDocument', 'StorageGrowBrickDocument'].map((d) => ({ Ref: d })),
          // The launch flow's CloudWatch agent steps run these AWS-owned documents: their ends resume it too.
          AGENT_INSTALL_DOCUMENT,
          AGENT_CONFIGURE_DOCUMENT,
        ],
      },
    });
    expect(commands.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': ['StorageQueue', 'Arn'] } })]);
    expect(storageDeployed.StorageQueuePolicy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': ['StorageQueue', 'Arn'] },
        Condition: { ArnEquals: { 'aws:SourceArn': [{ 'Fn::GetAtt': ['StorageLifecycleRule', 'Arn'] }, { 'Fn::GetAtt': ['StorageCommandRule', 'Arn'] }] } },
      }),
    ]);
  });

  it('dead-letters after 5 receives, keeps dead letters 14 days and alarms on the first one', () => {
    const queue = storageDeployed.StorageQueue.Properties;
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['StorageDeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 });
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn().Properties.Timeout);
    expect(storageDeployed.StorageDeadLetterQueue.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(storageDeployed.StorageDeadLetterAlarm.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['StorageDeadLetterQueue', 'QueueName'] } }],
      Threshold: 1,
      AlarmActions: [{ Ref: 'NotificationsTopic' }],
    });
  });

  it.each([
    ['StorageLaunchHook', 'autoscaling:EC2_INSTANCE_LAUNCHING', 'ABANDON', 1800, 'pydio-autoscaler-dev-storage-launch'],
    ['StorageTerminateHook', 'autoscaling:EC2_INSTANCE_TERMINATING', 'CONTINUE', 600, 'pydio-autoscaler-dev-storage-terminate'],
  ])('%s hooks %s on the storage group, default %s', (logicalId, transition, defaultResult, timeout, name) => {
    expect(storageDeployed[logicalId].Properties).toEqual({
      LifecycleHookName: name,
      AutoScalingGroupName: STORAGE_GROUP,
      LifecycleTransition: transition,
      DefaultResult: defaultResult,
      HeartbeatTimeout: timeout,
    });
  });

  it.each([
    ['StoragePrepareBrickDocument', 'storagePrepareBrick', 'pydio-autoscaler-dev-storage-prepare-brick'],
    ['StoragePeerProbeDocument', 'storagePeerProbe', 'pydio-autoscaler-dev-storage-peer-probe'],
    ['StorageGlusterStatusDocument', 'storageGlusterStatus', 'pydio-autoscaler-dev-storage-gluster-status'],
    ['StorageGlusterCommandDocument', 'storageGlusterCommand', 'pydio-autoscaler-dev-storage-gluster-command'],
  ])('%s is the rendered %s document, named %s', (logicalId, key, name) => {
    const doc = storageDeployed[logicalId];
    expect(doc.Type).toBe('AWS::SSM::Document');
    expect(doc.Properties).toMatchObject({ Name: name, DocumentType: 'Command', UpdateMethod: 'NewVersion', DocumentFormat: 'JSON' });
    const rendered = require(path.join(ROOT, 'ssm-documents', 'render.js')).documents;
    expect(doc.Properties.Content).toEqual(rendered[key].content);
  });

  describe('least privilege of the storage function', () => {
    const role = 'StorageFunctionRole';
    const groupArn = `autoScalingGroup:*:autoScalingGroupName/\${StorageGroupName}`;

    it('no mutating action on "*" and no wildcard action in any role of the storage stage', () => {
      const offending: string[] = [];
      for (const st of statements(undefined, storageDeployed)) {
        for (const action of actionsOf(st)) {
          if (action === '*' || action.endsWith(':*')) offending.push(`${st.Sid ?? '?'}: ${action} (wildcard action)`);
          if (asArray(st.Resource).includes('*') && !isReadOnly(action)) offending.push(`${st.Sid ?? '?'}: ${action} on *`);
        }
      }
      expect(offending).toEqual([]);
    });

    it.each([
      'autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat', 'autoscaling:SetDesiredCapacity',
      'autoscaling:SetInstanceProtection', 'autoscaling:TerminateInstanceInAutoScalingGroup',
    ])('%s only on the storage group', (action) => {
      const { resources: scoped } = scopeOf(action, role, storageDeployed);
      expect(scoped).toEqual([expect.stringContaining(groupArn)]);
      expect(storageTemplate.Parameters.StorageGroupName.Default).toBe(STORAGE_GROUP);
    });

    it('sends commands with the five storage documents and the two CloudWatch agent documents only, to instances tagged with the storage group only', () => {
      const send = granting('ssm:SendCommand', role, storageDeployed);
      expect(send).toHaveLength(2);
      const documents = send.find((st) => JSON.stringify(st.Resource).includes(':document/'))!;
      const docs = asArray(documents.Resource).map((r) => JSON.stringify(r));
      expect(docs).toHaveLength(7);
      for (const id of ['StoragePrepareBrickDocument', 'StoragePeerProbeDocument', 'StorageGlusterStatusDocument', 'StorageGlusterCommandDocument', 'StorageGrowBrickDocument']) {
        expect(docs.some((r) => r.includes(`:document/\${${id}}`))).toBe(true);
      }
      // AWS-owned documents: no account in the ARN.
      for (const name of ['AWS-ConfigureAWSPackage', 'AmazonCloudWatch-ManageAgent']) expect(docs).toContain(JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}::document/${name}` }));
      expect(documents.Condition).toBeUndefined();
      const instances = send.find((st) => JSON.stringify(st.Resource).includes(':instance/*'))!;
      expect(asArray(instances.Resource)).toHaveLength(1);
      expect(instances.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': [STORAGE_GROUP] } });
    });

    it('may enlarge EBS volumes only on a stage that grows in place: ModifyVolume on this account and region\'s volumes, the Describe calls read-only', () => {
      // The storage stage keeps the default (off): no EC2 action but tagging its members.
      expect(statements(role, storageDeployed).flatMap(actionsOf).filter((a) => a.startsWith('ec2:'))).toEqual(['ec2:CreateTags']);
      // The same template with the parameter set to preferred.
      const growing = JSON.parse(JSON.stringify(storageTemplate));
      growing.Parameters.StorageGrowInPlace.Default = 'preferred';
      const grown = deployedWithDefaults(growing).resources;
      const { statement, resources: scoped } = scopeOf('ec2:ModifyVolume', role, grown);
      expect(actionsOf(statement)).toEqual(['ec2:ModifyVolume']);
      expect(scoped).toEqual([JSON.stringify({ 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:volume/*' })]);
      for (const action of ['ec2:DescribeVolumes', 'ec2:DescribeVolumesModifications']) expect(scopeOf(action, role, grown).resources).toEqual([JSON.stringify('*')]);
      expect(storageTemplate.Parameters.StorageGrowInPlace.AllowedValues).toEqual(['off', 'allowed', 'preferred']);
      const vars = grown.StorageLambdaFunction.Properties.Environment.Variables;
      expect(vars).toMatchObject({ STORAGE_BRICK_EBS_DEVICE: '/dev/sdf', DOC_STORAGE_GROW_BRICK: { Ref: 'StorageGrowBrickDocument' } });
      // The function reads the same param the parameter's default comes from.
      expect(storageDeployed.StorageLambdaFunction.Properties.Environment.Variables.STORAGE_GROW_IN_PLACE).toBe(storageTemplate.Parameters.StorageGrowInPlace.Default);
    });

    it('tags only instances of the storage group, and only with its two state keys', () => {
      const { statement, resources: scoped } = scopeOf('ec2:CreateTags', role, storageDeployed);
      expect(actionsOf(statement)).toEqual(['ec2:CreateTags']);
      expect(scoped).toEqual([JSON.stringify({ 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*' })]);
      expect(statement.Condition).toEqual({
        StringEquals: { 'aws:ResourceTag/aws:autoscaling:groupName': STORAGE_GROUP },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['pydio-autoscaler:storage-state', 'pydio-autoscaler:storage-state-since'] },
      });
    });

    it('parameters only under /pydio-autoscaler/<stage>/storage', () => {
      for (const action of ['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:GetParameter', 'ssm:GetParametersByPath']) {
        const { resources: scoped } = scopeOf(action, role, storageDeployed);
        expect(scoped).toHaveLength(2);
        expect(scoped[0]).toMatch(/:parameter\/pydio-autoscaler\/dev\/storage"\}$/);
        expect(scoped[1]).toMatch(/:parameter\/pydio-autoscaler\/dev\/storage\/\*"\}$/);
      }
    });

    it('publishes only to the topic, uses only StorageQueue, writes only its own logs', () => {
      expect(scopeOf('sns:Publish', role, storageDeployed).resources).toEqual([JSON.stringify({ Ref: 'NotificationsTopic' })]);
      for (const action of ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility']) {
        expect(scopeOf(action, role, storageDeployed).resources).toEqual([JSON.stringify({ 'Fn::GetAtt': ['StorageQueue', 'Arn'] })]);
      }
      expect(scopeOf('logs:PutLogEvents', role, storageDeployed).resources).toEqual([expect.stringContaining(':log-group:/aws/lambda/pydio-autoscaler-dev-storage:*')]);
      expect(granting('elasticloadbalancing:RegisterTargets', role, storageDeployed)).toEqual([]);
    });

    it('the other roles gain no storage mutation', () => {
      for (const action of ['autoscaling:TerminateInstanceInAutoScalingGroup', 'autoscaling:SetInstanceProtection']) {
        expect(granting(action, undefined, storageDeployed).map((st) => st.Sid)).toEqual(['HooksCapacityAndProtectionOfStorageGroup']);
      }
    });
  });

  it('alarm function: may send expansion requests to StorageQueue and read the recorded health, nothing more', () => {
    const vars = storageDeployed.AlarmLambdaFunction.Properties.Environment.Variables;
    expect(vars.STORAGE_QUEUE_URL).toEqual({ Ref: 'StorageQueue' });
    expect(vars.DISK_HIGH_ALARM_NAME).toBe('pydio-autoscaler-dev-brick-disk-high');
    const send = granting('sqs:SendMessage', 'AlarmFunctionRole', storageDeployed).map((st) => asArray(st.Resource));
    expect(send).toEqual(expect.arrayContaining([[{ 'Fn::GetAtt': ['DecisionQueue', 'Arn'] }], [{ 'Fn::GetAtt': ['StorageQueue', 'Arn'] }]]));
    expect(send).toHaveLength(2);
    expect(granting('sqs:ReceiveMessage', 'AlarmFunctionRole', storageDeployed).map((st) => st.Resource)).toEqual([[{ 'Fn::GetAtt': ['DecisionQueue', 'Arn'] }]]);
    expect(scopeOf('ssm:GetParameter', 'AlarmFunctionRole', storageDeployed).resources).toEqual([expect.stringContaining(':parameter/pydio-autoscaler/dev/storage/health')]);
    // default stage: neither
    expect(granting('ssm:GetParameter', 'AlarmFunctionRole')).toEqual([]);
    expect(granting('sqs:SendMessage', 'AlarmFunctionRole')).toHaveLength(1);
  });

  it('exports the storage queue and function only with a storage group', () => {
    expect(storageTemplate.Outputs).toMatchObject({
      StorageQueueUrl: { Condition: 'HasStorageGroup', Value: { Ref: 'StorageQueue' } },
      StorageDeadLetterQueueUrl: { Condition: 'HasStorageGroup', Value: { Ref: 'StorageDeadLetterQueue' } },
      StorageFunctionName: { Condition: 'HasStorageGroup', Value: { Ref: 'StorageLambdaFunction' } },
    });
  });
});

describe('reference cluster (createCluster; its deploy into the emulator: test/integration/cluster/reference-cluster.test.ts)', () => {
  const clusterIds = (raw: Json) => Object.keys(raw.Resources).filter((id) => id.startsWith('Cluster') && id !== 'ClusterDashboard');

  it('a stage that attaches to its cluster creates none of it, and keeps its hook resources', () => {
    expect(clusterIds(template).length).toBeGreaterThan(40);
    for (const from of [deployed, storageDeployed]) {
      expect(Object.keys(from).filter((id) => id.startsWith('Cluster') && id !== 'ClusterDashboard')).toEqual([]);
      expect(from.ComputeLaunchHook.Properties.AutoScalingGroupName).toBe(EXAMPLE.computeGroup);
    }
    expect(storageDeployed.StorageLaunchHook.Properties.AutoScalingGroupName).toBe(STORAGE_GROUP);
    for (const id of clusterIds(template)) {
      expect([id, ['CreatesCluster', 'ClusterInThreeZones', 'ClusterServesHttps', 'ClusterServesHttpOnly']]).toEqual([id, expect.arrayContaining([template.Resources[id].Condition])]);
    }
  });

  it('the reference stage creates it: the hooks live in the groups it creates, and the functions use its target group', () => {
    const d = referenceDeployed;
    for (const id of ['ClusterVpc', 'ClusterLoadBalancer', 'ClusterTargetGroup', 'ClusterHttpListener', 'ClusterComputeGroup', 'ClusterStorageGroup', 'ClusterDatabase']) {
      expect([id, d[id] !== undefined]).toEqual([id, true]);
    }
    // two zones, HTTP only by default
    for (const id of ['ClusterPublicSubnetC', 'ClusterPrivateSubnetC', 'ClusterHttpsListener', 'ClusterHttpRedirectListener']) expect([id, d[id]]).toEqual([id, undefined]);
    for (const id of ['ComputeLaunchHook', 'ComputeTerminateHook', 'StorageLaunchHook', 'StorageTerminateHook']) expect([id, d[id]]).toEqual([id, undefined]);
    expect(d.ClusterComputeGroup.Properties.LifecycleHookSpecificationList).toEqual([
      { LifecycleHookName: 'pydio-autoscaler-reference-compute-launch', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 900, DefaultResult: 'ABANDON' },
      { LifecycleHookName: 'pydio-autoscaler-reference-compute-terminate', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 900, DefaultResult: 'CONTINUE' },
    ]);
    expect(d.ClusterStorageGroup.Properties.LifecycleHookSpecificationList.map((h: Json) => [h.LifecycleHookName, h.HeartbeatTimeout, h.DefaultResult])).toEqual([
      ['pydio-autoscaler-reference-storage-launch', 1800, 'ABANDON'],
      ['pydio-autoscaler-reference-storage-terminate', 600, 'CONTINUE'],
    ]);
    // the rules that route those hooks name the groups it creates
    expect(d.ComputeLifecycleRule.Properties.EventPattern.detail.AutoScalingGroupName).toEqual([d.ClusterComputeGroup.Properties.AutoScalingGroupName]);
    expect(d.StorageLifecycleRule.Properties.EventPattern.detail.AutoScalingGroupName).toEqual([d.ClusterStorageGroup.Properties.AutoScalingGroupName]);
    for (const fn of ['LifecycleLambdaFunction', 'StatusLambdaFunction', 'StorageLambdaFunction']) {
      expect([fn, d[fn].Properties.Environment.Variables.TARGET_GROUP_ARN]).toEqual([fn, { Ref: 'ClusterTargetGroup' }]);
    }
    expect(scopeOf('elasticloadbalancing:RegisterTargets', 'LifecycleFunctionRole', d).resources).toEqual([JSON.stringify({ Ref: 'ClusterTargetGroup' })]);
    expect(d.ClusterDashboard.Properties.DashboardBody['Fn::Sub'][1].TargetGroupDimension).toEqual({ 'Fn::GetAtt': ['ClusterTargetGroup', 'TargetGroupFullName'] });
  });

  it('its groups start at MinSize with no DesiredCapacity (an update never resets what the functions scaled), after the plumbing of their first events', () => {
    const d = referenceDeployed;
    for (const id of ['ClusterComputeGroup', 'ClusterStorageGroup']) expect([id, d[id].Properties.DesiredCapacity]).toEqual([id, undefined]);
    expect(d.ClusterStorageGroup.Properties.MinSize).toBe('2'); // clusterZones: one member per zone, the bootstrap's first members
    expect(d.ClusterComputeGroup.Properties.TargetGroupARNs).toBeUndefined(); // the lifecycle function registers ready nodes
    expect(d.ClusterStorageGroup.DependsOn).toEqual(expect.arrayContaining(['StorageLifecycleRule', 'StorageQueuePolicy', 'StorageEventSourceMappingSQSStorageQueue', 'StorageAgentConfigParameter']));
    expect(d.ClusterComputeGroup.DependsOn).toEqual(expect.arrayContaining(['ComputeLifecycleRule', 'LifecycleQueuePolicy', 'LifecycleEventSourceMappingSQSLifecycleQueue', 'ClusterStorageGroup']));
    for (const dep of [...d.ClusterStorageGroup.DependsOn, ...d.ClusterComputeGroup.DependsOn]) expect([dep, d[dep] !== undefined]).toEqual([dep, true]);
  });

  it('its target group sticks on the app profile\'s session cookie, one source with lib/config/compute.ts', () => {
    expect(Object.fromEntries(Object.entries<Json>(referenceTemplate.Mappings.AppProfiles).map(([k, v]) => [k, v.SessionCookie]))).toEqual(
      Object.fromEntries(Object.entries(APP_PROFILES).map(([k, v]) => [k, v.sessionCookie])),
    );
    expect(referenceTemplate.Parameters.AppSessionCookie.AllowedPattern).toBe(`^$|${COOKIE_NAME.source}`);
    const attributes = referenceDeployed.ClusterTargetGroup.Properties.TargetGroupAttributes;
    expect(attributes).toEqual(expect.arrayContaining([
      { Key: 'stickiness.type', Value: 'app_cookie' },
      { Key: 'stickiness.app_cookie.cookie_name', Value: { 'Fn::FindInMap': ['AppProfiles', 'pydio8', 'SessionCookie'] } },
    ]));
    expect(referenceDeployed.ClusterTargetGroup.Properties).toMatchObject({ HealthCheckPath: '/check.txt', Protocol: 'HTTP', Port: '80' });
  });

  it('its launch templates carry the rendered user data of their role', () => {
    const { rendered } = require(path.join(ROOT, 'ssm-documents', 'user-data.js'));
    expect(referenceDeployed.ClusterComputeLaunchTemplate.Properties.LaunchTemplateData.UserData).toEqual({ 'Fn::Base64': rendered.compute });
    expect(referenceDeployed.ClusterStorageLaunchTemplate.Properties.LaunchTemplateData.UserData).toEqual({ 'Fn::Base64': rendered.storage });
  });
});

describe('cfn-lint', () => {
  /**
   * Warnings we expect, each explained: W3005 - osls adds a DependsOn on each function's role,
   * which its Role GetAtt already implies (harmless, serverless.yml says so at the lifecycle
   * function); W2506 - ComputeImageId is a String, not AWS::EC2::Image::Id, because a stage
   * that attaches to its cluster leaves it empty, which that type refuses.
   */
  const EXPLAINED = [
    /:W3005:'(Lifecycle|Alarm|Status|Storage|Watch)FunctionRole' dependency already enforced by a 'GetAtt'/,
    /:W2506:'String' is not one of \['AWS::EC2::Image::Id'/,
  ];
  it.each([['.serverless'], ['.serverless-storage'], ['.serverless-reference']])('reports no error and no unexplained warning on the packaged template (%s)', (dir) => {
    const file = path.join(workDir, dir, 'cloudformation-template-update-stack.json');
    const result = spawnSync('cfn-lint', ['--format', 'parseable', file], { encoding: 'utf8', timeout: 120_000 });
    if (result.error) throw new Error(`cfn-lint could not run (${result.error.message}): install cfn-lint (pip install cfn-lint)`);
    const errors = result.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line));
    expect(errors).toEqual([]);
    const findings = result.stdout.split('\n').filter((line) => /:[WI]\d{4}:/.test(line));
    expect(findings.filter((line) => !EXPLAINED.some((re) => re.test(line)))).toEqual([]);
    // the W2506 is about ComputeImageId and nothing else
    for (const line of findings.filter((l) => l.includes(':W2506:'))) {
      const at = Number(line.split(':')[1]);
      expect(fs.readFileSync(file, 'utf8').split('\n').slice(at - 4, at).join('\n')).toContain('"ComputeImageId"');
    }
    // exit status is a bit mask: 2 = error (4 = warning, 8 = informational)
    expect((result.status ?? 2) & 2).toBe(0);
  }, 150_000);
});
