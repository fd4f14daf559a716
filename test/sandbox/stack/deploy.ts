/**
 * "Deploy" a packaged CloudFormation template into the emulator (moto behind
 * the control-plane front) the way CloudFormation would for the resources the
 * stack uses, with plain SDK v3 calls against the emulator URL.
 *
 * Resources are created on first reference (a Ref/GetAtt deploys its target
 * first), so the order follows the template's dependencies. Intrinsics met on
 * the way are resolved: Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select,
 * Fn::Split, Fn::If/Equals/Not/And/Or with Conditions, pseudo parameters, and for the
 * reference cluster (createCluster) Fn::Base64, Fn::GetAZs, Fn::Cidr, Fn::FindInMap and
 * `{{resolve:ssm:...}}` dynamic references; the cluster's resource types are created by
 * deploy-cluster.ts.
 *
 * Lambda functions, IAM, log groups, versions, the deployment bucket and
 * event source mappings are not created: functions are recorded (resolved
 * environment, timeout, zip name, execution role) with the queue their mapping
 * reads, for the runner in test/sandbox/lambda. Each role is recorded with its
 * inline policies resolved to the emulator's real ARNs, for the front's IAM
 * check (test/sandbox/iam); a role whose permissions cannot be read from the
 * template (managed policies, a permissions boundary) fails the deploy.
 */
import { AutoScalingClient, PutLifecycleHookCommand } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, PutMetricAlarmCommand, type PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, CreateLogGroupCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type BillingMode,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateDocumentCommand, GetParameterCommand, PutParameterCommand, SSMClient, type DocumentFormat, type DocumentType, type ParameterTier, type ParameterType } from '@aws-sdk/client-ssm';
import { cidrSubnets, CLUSTER_TYPES, ClusterResources } from './deploy-cluster';

export const DEFAULT_REGION = 'eu-west-1';
export const DEFAULT_ACCOUNT = '123456789012';

type Json = unknown;
type JsonObject = Record<string, Json>;

export class DeployError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeployError';
  }
}

export interface DeployOptions {
  /** Emulator URL (the control-plane front). */
  readonly endpoint: string;
  /** Parsed CloudFormation template (`cloudformation-template-update-stack.json`). */
  readonly template: JsonObject;
  /** Template Parameters (missing ones take their Default). */
  readonly params?: Readonly<Record<string, string>>;
  /**
   * Exact strings replaced everywhere in the template before deploying: stage
   * params baked in at package time whose real value only exists once the
   * emulator made it (e.g. a placeholder target group ARN -> moto's ARN).
   */
  readonly replace?: Readonly<Record<string, string>>;
  /** Create e-mail subscriptions too (default false: nobody confirms them). */
  readonly includeEmailSubscriptions?: boolean;
  readonly region?: string;
  readonly accountId?: string;
}

export interface DeployedResource {
  readonly logicalId: string;
  readonly type: string;
  /** What Ref returns. */
  readonly physicalId: string;
  /** Fn::GetAtt values. */
  readonly attributes: Readonly<Record<string, string>>;
  /** What deleting it takes besides its physical id (remove.ts), e.g. a hook's group; never Fn::GetAtt values. */
  readonly removeWith?: Readonly<Record<string, string>>;
  /** 'created', or why it was not. */
  readonly status: 'created' | 'recorded' | 'skipped-condition' | 'skipped-unsupported' | 'skipped-email' | 'skipped-external';
}

/**
 * An http(s) subscription endpoint off this machine (AWS Chatbot's, a webhook): moto would POST
 * every notification there, and the sandbox sends nothing off loopback.
 */
export function isExternalEndpoint(protocol: string, endpoint: string): boolean {
  if (protocol !== 'http' && protocol !== 'https') return false;
  try {
    const host = new URL(endpoint).hostname;
    return !(host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host));
  } catch {
    return true;
  }
}

/** SQS's visibility timeout when a queue sets none ("The default visibility timeout for a message is 30 seconds": SQS API reference, ChangeMessageVisibility). */
export const SQS_DEFAULT_VISIBILITY_SECONDS = 30;

export interface EventSourceMapping {
  readonly logicalId: string;
  /** The queue's VisibilityTimeout, which must not be shorter than the function's timeout. */
  readonly visibilityTimeoutSeconds: number;
  readonly queueArn: string;
  readonly queueUrl: string;
  readonly batchSize: number;
  readonly functionResponseTypes: readonly string[];
  readonly enabled: boolean;
}

/** An execution role as packaged: its inline policies with every intrinsic resolved. */
export interface DeployedRole {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly policies: readonly { readonly name: string; readonly document: Readonly<Record<string, unknown>> }[];
  /** Services that may assume it (AssumeRolePolicyDocument). */
  readonly assumedBy: readonly string[];
  /** Managed policies: only on roles no function has (the IAM check cannot read them). */
  readonly managedPolicyArns: readonly string[];
}

export interface DeployedFunction {
  readonly logicalId: string;
  /** The function's execution role (its Role property). */
  readonly role: DeployedRole;
  readonly functionName: string;
  /** The zip's file name in the package directory, e.g. `lifecycle.zip`. */
  readonly zipName: string;
  readonly handler: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly eventSources: readonly EventSourceMapping[];
}

/** An AWS::Lambda::Permission as packaged (a statement of the function's resource-based policy), intrinsics resolved. */
export interface LambdaPermission {
  readonly logicalId: string;
  /** As given: a function name or ARN. */
  readonly functionName: string;
  readonly action: string;
  readonly principal: string;
  readonly sourceArn?: string;
  readonly sourceAccount?: string;
}

/** An AWS::Lambda::EventInvokeConfig as packaged: how Lambda retries an asynchronous invocation. */
export interface InvokeConfig {
  readonly maximumRetryAttempts?: number;
  readonly maximumEventAgeSeconds?: number;
}

export interface DeployedStack {
  readonly region: string;
  readonly accountId: string;
  readonly resources: Readonly<Record<string, DeployedResource>>;
  /** Keyed by the zip's base name (the serverless function key, e.g. `lifecycle`). */
  readonly functions: Readonly<Record<string, DeployedFunction>>;
  /** Every deployed IAM role, by logical id. */
  readonly roles: Readonly<Record<string, DeployedRole>>;
  /** The functions' resource-based policy statements (who may invoke them: the scheduled rules). */
  readonly lambdaPermissions: readonly LambdaPermission[];
  /** Asynchronous invocation settings, by function name (absent: Lambda's defaults). */
  readonly invokeConfigs: Readonly<Record<string, InvokeConfig>>;
  readonly outputs: Readonly<Record<string, string>>;
  /** Physical id of a resource, failing loudly when it was not deployed. */
  physicalId(logicalId: string): string;
}

/** Marker for AWS::NoValue: dropped from the enclosing list or object. */
const NO_VALUE = Symbol('AWS::NoValue');

/** The clients of the services a stack's resources live in, pointed at the emulator (deploy and remove.ts). */
export interface StackClients {
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  readonly ssm: SSMClient;
  readonly events: EventBridgeClient;
  readonly autoscaling: AutoScalingClient;
  readonly cloudwatch: CloudWatchClient;
  readonly logs: CloudWatchLogsClient;
  readonly dynamodb: DynamoDBClient;
}

export function stackClients(region: string, endpoint: string): StackClients {
  const config = { region, endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 2 };
  return {
    sns: new SNSClient(config),
    sqs: new SQSClient(config),
    ssm: new SSMClient(config),
    events: new EventBridgeClient(config),
    autoscaling: new AutoScalingClient(config),
    cloudwatch: new CloudWatchClient(config),
    logs: new CloudWatchLogsClient(config),
    dynamodb: new DynamoDBClient(config),
  };
}

/** Types recorded (or ignored) rather than created. */
const NOT_CREATED = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::InstanceProfile',
  'AWS::Lambda::Function',
  'AWS::Lambda::Version',
  'AWS::Lambda::Permission',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::Lambda::EventSourceMapping',
  'AWS::S3::Bucket',
  'AWS::S3::BucketPolicy',
]);

function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asString(v: Json, where: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new DeployError(`${where}: expected a string, got ${JSON.stringify(v)}`);
}

function replaceAll(value: Json, replace: Readonly<Record<string, string>>): Json {
  if (typeof value === 'string') {
    let out = value;
    for (const [from, to] of Object.entries(replace)) out = out.split(from).join(to);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => replaceAll(v, replace));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceAll(v, replace)]));
  return value;
}

class Deployer {
  private readonly region: string;
  private readonly accountId: string;
  private readonly resourcesIn: Record<string, JsonObject>;
  private readonly conditionsIn: Record<string, Json>;
  private readonly parameters: Record<string, string>;
  private readonly deployed = new Map<string, DeployedResource>();
  readonly roles = new Map<string, DeployedRole>();
  readonly lambdaPermissions: LambdaPermission[] = [];
  readonly invokeConfigs: Record<string, InvokeConfig> = {};
  private readonly inProgress = new Set<string>();
  private readonly conditionCache = new Map<string, boolean>();
  private readonly mappings: Record<string, Json>;
  private clusterResources?: ClusterResources;
  private readonly clients: StackClients;

  constructor(private readonly opts: DeployOptions, template: JsonObject) {
    this.region = opts.region ?? DEFAULT_REGION;
    this.accountId = opts.accountId ?? DEFAULT_ACCOUNT;
    if (!isObject(template.Resources)) throw new DeployError('template has no Resources object');
    this.resourcesIn = template.Resources as Record<string, JsonObject>;
    this.conditionsIn = isObject(template.Conditions) ? template.Conditions : {};
    this.mappings = isObject(template.Mappings) ? template.Mappings : {};
    this.parameters = this.bindParameters(isObject(template.Parameters) ? template.Parameters : {}, opts.params ?? {});
    this.clients = stackClients(this.region, opts.endpoint);
  }

  private bindParameters(declared: JsonObject, given: Readonly<Record<string, string>>): Record<string, string> {
    for (const name of Object.keys(given)) {
      if (!(name in declared)) throw new DeployError(`parameter ${name} is not declared by the template (declared: ${Object.keys(declared).join(', ') || 'none'})`);
    }
    const out: Record<string, string> = {};
    for (const [name, spec] of Object.entries(declared)) {
      const s = isObject(spec) ? spec : {};
      const value = given[name] ?? (s.Default !== undefined ? asString(s.Default, `parameter ${name} Default`) : undefined);
      if (value === undefined) throw new DeployError(`parameter ${name} has no value and no Default`);
      if (typeof s.AllowedPattern === 'string' && !new RegExp(`^(?:${s.AllowedPattern})$`).test(value)) {
        throw new DeployError(`parameter ${name}=${JSON.stringify(value)} does not match its AllowedPattern ${s.AllowedPattern}`);
      }
      if (Array.isArray(s.AllowedValues) && !s.AllowedValues.includes(value)) {
        throw new DeployError(`parameter ${name}=${JSON.stringify(value)} is not one of ${JSON.stringify(s.AllowedValues)}`);
      }
      out[name] = value;
    }
    return out;
  }

  // ---- intrinsics -----------------------------------------------------------

  private pseudo(name: string): string | typeof NO_VALUE | undefined {
    switch (name) {
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.accountId;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return 'h6-emulated-stack';
      case 'AWS::NoValue':
        return NO_VALUE;
      default:
        return undefined;
    }
  }

  condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    if (!(name in this.conditionsIn)) throw new DeployError(`condition ${name} is not defined in the template`);
    const value = this.evalCondition(this.conditionsIn[name], `condition ${name}`);
    this.conditionCache.set(name, value);
    return value;
  }

  private evalCondition(expr: Json, where: string): boolean {
    if (typeof expr === 'boolean') return expr;
    if (!isObject(expr)) throw new DeployError(`${where}: not a condition expression: ${JSON.stringify(expr)}`);
    const [fn, arg] = Object.entries(expr)[0] ?? [];
    if (fn === 'Condition') return this.condition(asString(arg, where));
    if (!Array.isArray(arg)) throw new DeployError(`${where}: ${String(fn)} needs a list`);
    switch (fn) {
      case 'Fn::Equals': {
        if (arg.length !== 2) throw new DeployError(`${where}: Fn::Equals needs two values`);
        const [a, b] = arg.map((x) => this.conditionValue(x, where));
        return a === b;
      }
      case 'Fn::Not':
        return !this.evalCondition(arg[0], where);
      case 'Fn::And':
        return arg.every((x) => this.evalCondition(x, where));
      case 'Fn::Or':
        return arg.some((x) => this.evalCondition(x, where));
      default:
        throw new DeployError(`${where}: unsupported condition function ${String(fn)}`);
    }
  }

  /** Values inside conditions: literals, parameters and pseudo parameters only (as CloudFormation allows). */
  private conditionValue(value: Json, where: string): string {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (isObject(value) && typeof value.Ref === 'string' && Object.keys(value).length === 1) {
      const name = value.Ref;
      const p = this.pseudo(name);
      if (typeof p === 'string') return p;
      if (name in this.parameters) return this.parameters[name] as string;
      throw new DeployError(`${where}: a condition can only Ref parameters and pseudo parameters, not ${name}`);
    }
    throw new DeployError(`${where}: unsupported value in a condition: ${JSON.stringify(value)}`);
  }

  private async refOf(name: string, where: string): Promise<string | typeof NO_VALUE> {
    const p = this.pseudo(name);
    if (p !== undefined) return p;
    if (name in this.parameters) return this.parameters[name] as string;
    if (name in this.resourcesIn) return (await this.ensure(name)).physicalId;
    throw new DeployError(`${where}: Ref to unknown ${name}`);
  }

  private async getAtt(logicalId: string, attribute: string, where: string): Promise<string> {
    if (!(logicalId in this.resourcesIn)) throw new DeployError(`${where}: Fn::GetAtt on unknown resource ${logicalId}`);
    const r = await this.ensure(logicalId);
    const value = r.attributes[attribute];
    if (value === undefined) throw new DeployError(`${where}: ${logicalId} (${r.type}) has no attribute ${attribute} in the emulator (known: ${Object.keys(r.attributes).join(', ')})`);
    return value;
  }

  private async sub(template: string, vars: JsonObject, where: string): Promise<string> {
    const parts = template.split(/(\$\{[^}]*\})/);
    let out = '';
    for (const part of parts) {
      const m = /^\$\{([^}]*)\}$/.exec(part);
      if (m === null) {
        out += part;
        continue;
      }
      const name = (m[1] ?? '').trim();
      if (name.startsWith('!')) {
        out += `\${${name.slice(1)}}`;
        continue;
      }
      if (name in vars) {
        out += asString(await this.resolve(vars[name], where), `${where} Fn::Sub variable ${name}`);
        continue;
      }
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) {
        out += await this.getAtt(name.slice(0, dot), name.slice(dot + 1), where);
        continue;
      }
      const ref = await this.refOf(name, where);
      if (ref === NO_VALUE) throw new DeployError(`${where}: AWS::NoValue inside Fn::Sub`);
      out += ref;
    }
    return out;
  }

  /** Resolve every intrinsic in `value`; AWS::NoValue entries disappear. */
  async resolve(value: Json, where: string): Promise<Json> {
    if (Array.isArray(value)) {
      const out: Json[] = [];
      for (const v of value) {
        const r = await this.resolve(v, where);
        if (r !== NO_VALUE) out.push(r);
      }
      return out;
    }
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const fn = keys[0] as string;
      const arg = value[fn];
      switch (fn) {
        case 'Ref':
          return this.refOf(asString(arg, where), where);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg : asString(arg, where).split(/\.(.*)/s);
          return this.getAtt(asString(id, where), asString(attr, where), where);
        }
        case 'Fn::Sub': {
          if (typeof arg === 'string') return this.sub(arg, {}, where);
          if (Array.isArray(arg) && typeof arg[0] === 'string' && isObject(arg[1])) return this.sub(arg[0], arg[1], where);
          throw new DeployError(`${where}: malformed Fn::Sub ${JSON.stringify(arg)}`);
        }
        case 'Fn::Join': {
          if (!Array.isArray(arg) || typeof arg[0] !== 'string') throw new DeployError(`${where}: malformed Fn::Join`);
          const list = await this.resolve(arg[1], where);
          if (!Array.isArray(list)) throw new DeployError(`${where}: Fn::Join needs a list`);
          return list.map((x) => asString(x, `${where} Fn::Join item`)).join(arg[0]);
        }
        case 'Fn::Select': {
          if (!Array.isArray(arg)) throw new DeployError(`${where}: malformed Fn::Select`);
          const index = Number(await this.resolve(arg[0], where));
          const list = await this.resolve(arg[1], where);
          if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) throw new DeployError(`${where}: Fn::Select index ${index} out of range`);
          return list[index];
        }
        case 'Fn::Split': {
          if (!Array.isArray(arg) || typeof arg[0] !== 'string') throw new DeployError(`${where}: malformed Fn::Split`);
          return asString(await this.resolve(arg[1], where), where).split(arg[0]);
        }
        case 'Fn::If': {
          if (!Array.isArray(arg) || arg.length !== 3) throw new DeployError(`${where}: Fn::If needs [condition, then, else]`);
          return this.resolve(this.condition(asString(arg[0], where)) ? arg[1] : arg[2], where);
        }
        case 'Fn::Base64':
          return Buffer.from(asString(await this.resolve(arg, where), `${where} Fn::Base64`), 'utf8').toString('base64');
        case 'Fn::GetAZs': {
          const region = asString(await this.resolve(arg, where), `${where} Fn::GetAZs`);
          if (region !== '' && region !== this.region) throw new DeployError(`${where}: Fn::GetAZs of another region (${region}) is not emulated`);
          return this.cluster().availabilityZones();
        }
        case 'Fn::Cidr': {
          if (!Array.isArray(arg) || arg.length !== 3) throw new DeployError(`${where}: Fn::Cidr needs [ipBlock, count, cidrBits]`);
          const [block, count, bits] = await Promise.all(arg.map((a) => this.resolve(a, where)));
          return cidrSubnets(asString(block, `${where} Fn::Cidr`), Number(count), Number(bits));
        }
        case 'Fn::FindInMap': {
          if (!Array.isArray(arg) || arg.length !== 3) throw new DeployError(`${where}: Fn::FindInMap needs [map, top key, second key]`);
          const [map, top, second] = await Promise.all(arg.map(async (a) => asString(await this.resolve(a, where), `${where} Fn::FindInMap`)));
          const found = (this.mappings[map as string] as Record<string, Record<string, Json>> | undefined)?.[top as string]?.[second as string];
          if (found === undefined) throw new DeployError(`${where}: Fn::FindInMap found nothing at ${map}.${top}.${second}`);
          return found;
        }
        case 'Fn::Equals':
        case 'Fn::Not':
        case 'Fn::And':
        case 'Fn::Or':
        case 'Condition':
          return this.evalCondition(value, where);
        default:
          if (fn.startsWith('Fn::')) throw new DeployError(`${where}: unsupported intrinsic ${fn}`);
      }
    }
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      const r = await this.resolve(v, `${where}.${k}`);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  }

  // ---- resources ------------------------------------------------------------

  async ensure(logicalId: string): Promise<DeployedResource> {
    const done = this.deployed.get(logicalId);
    if (done !== undefined) return done;
    if (this.inProgress.has(logicalId)) throw new DeployError(`circular reference through ${logicalId}`);
    this.inProgress.add(logicalId);
    try {
      const spec = this.resourcesIn[logicalId];
      if (!isObject(spec) || typeof spec.Type !== 'string') throw new DeployError(`resource ${logicalId} has no Type`);
      const type = spec.Type;
      if (typeof spec.Condition === 'string' && !this.condition(spec.Condition)) {
        return this.record({ logicalId, type, physicalId: '', attributes: {}, status: 'skipped-condition' });
      }
      for (const dep of Array.isArray(spec.DependsOn) ? spec.DependsOn : spec.DependsOn !== undefined ? [spec.DependsOn] : []) {
        await this.ensure(asString(dep, `${logicalId} DependsOn`));
      }
      const where = `${logicalId} (${type})`;
      try {
        return this.record(await this.create(logicalId, type, isObject(spec.Properties) ? spec.Properties : {}, where));
      } catch (error) {
        if (error instanceof DeployError) throw error;
        throw new DeployError(`${where}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    } finally {
      this.inProgress.delete(logicalId);
    }
  }

  private record(r: DeployedResource): DeployedResource {
    this.deployed.set(r.logicalId, r);
    return r;
  }

  private arn(service: string, resource: string): string {
    return `arn:aws:${service}:${this.region}:${this.accountId}:${resource}`;
  }

  private async create(logicalId: string, type: string, rawProps: JsonObject, where: string): Promise<DeployedResource> {
    if (NOT_CREATED.has(type)) return this.recordOnly(logicalId, type, rawProps, where);
    const props = (await this.dynamicReferences(await this.resolve(rawProps, where), where)) as JsonObject;
    const base = { logicalId, type, status: 'created' as const };
    if (CLUSTER_TYPES.has(type)) return { ...base, ...(await this.cluster().create(logicalId, type, props, where)) };
    switch (type) {
      case 'AWS::SNS::Topic': {
        const name = props.TopicName !== undefined ? asString(props.TopicName, `${where} TopicName`) : `h6-${logicalId}`;
        const attributes: Record<string, string> = {};
        if (props.DisplayName !== undefined) attributes.DisplayName = asString(props.DisplayName, where);
        const out = await this.clients.sns.send(new CreateTopicCommand({ Name: name, Attributes: attributes }));
        const arn = required(out.TopicArn, `${where}: CreateTopic returned no TopicArn`);
        for (const sub of Array.isArray(props.Subscription) ? props.Subscription : []) {
          if (isObject(sub)) await this.subscribe(arn, sub, where);
        }
        return { ...base, physicalId: arn, attributes: { TopicArn: arn, TopicName: name } };
      }
      case 'AWS::SNS::Subscription': {
        const topicArn = asString(props.TopicArn, `${where} TopicArn`);
        if (isExternalEndpoint(asString(props.Protocol, `${where} Protocol`), asString(props.Endpoint, `${where} Endpoint`))) {
          return { ...base, physicalId: '', attributes: {}, status: 'skipped-external' };
        }
        const arn = await this.subscribe(topicArn, props, where);
        if (arn === undefined) return { ...base, physicalId: '', attributes: {}, status: 'skipped-email' };
        return { ...base, physicalId: arn, attributes: {} };
      }
      case 'AWS::SQS::Queue': {
        const name = props.QueueName !== undefined ? asString(props.QueueName, `${where} QueueName`) : `h6-${logicalId}`;
        const attributes: Record<string, string> = {};
        for (const [k, v] of Object.entries(props)) {
          if (k === 'QueueName' || k === 'Tags') continue;
          attributes[k] = isObject(v) || Array.isArray(v) ? JSON.stringify(v) : asString(v, `${where} ${k}`);
        }
        const out = await this.clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
        const url = required(out.QueueUrl, `${where}: CreateQueue returned no QueueUrl`);
        const got = await this.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
        const arn = required(got.Attributes?.QueueArn, `${where}: no QueueArn`);
        return { ...base, physicalId: url, attributes: { Arn: arn, QueueName: name, QueueUrl: url } };
      }
      case 'AWS::SQS::QueuePolicy': {
        const queues = Array.isArray(props.Queues) ? props.Queues : [];
        const policy = JSON.stringify(props.PolicyDocument);
        for (const q of queues) await this.clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: asString(q, where), Attributes: { Policy: policy } }));
        return { ...base, physicalId: `h6-${logicalId}`, attributes: {}, removeWith: { Queues: queues.map((q) => asString(q, where)).join(' ') } };
      }
      case 'AWS::SSM::Document': {
        const name = asString(props.Name, `${where} Name`);
        const format = (props.DocumentFormat !== undefined ? asString(props.DocumentFormat, where) : 'JSON') as DocumentFormat;
        const content = typeof props.Content === 'string' ? props.Content : JSON.stringify(props.Content);
        await this.clients.ssm.send(
          new CreateDocumentCommand({
            Name: name,
            Content: content,
            DocumentType: (props.DocumentType !== undefined ? asString(props.DocumentType, where) : 'Command') as DocumentType,
            DocumentFormat: format,
          }),
        );
        return { ...base, physicalId: name, attributes: {} };
      }
      case 'AWS::SSM::Parameter': {
        // CloudFormation names an unnamed parameter itself; the stack names its own.
        const name = asString(props.Name, `${where} Name`);
        await this.clients.ssm.send(
          new PutParameterCommand({
            Name: name,
            Value: asString(props.Value, `${where} Value`),
            Type: asString(props.Type, `${where} Type`) as ParameterType,
            ...(props.Description !== undefined ? { Description: asString(props.Description, where) } : {}),
            ...(props.Tier !== undefined ? { Tier: asString(props.Tier, where) as ParameterTier } : {}),
          }),
        );
        return { ...base, physicalId: name, attributes: { Type: asString(props.Type, where), Value: asString(props.Value, where) } };
      }
      case 'AWS::Events::Rule': {
        const name = props.Name !== undefined ? asString(props.Name, `${where} Name`) : `h6-${logicalId}`;
        const out = await this.clients.events.send(
          new PutRuleCommand({
            Name: name,
            ...(props.EventPattern !== undefined ? { EventPattern: typeof props.EventPattern === 'string' ? props.EventPattern : JSON.stringify(props.EventPattern) } : {}),
            ...(props.ScheduleExpression !== undefined ? { ScheduleExpression: asString(props.ScheduleExpression, where) } : {}),
            ...(props.Description !== undefined ? { Description: asString(props.Description, where) } : {}),
            State: props.State !== undefined ? (asString(props.State, where) as 'ENABLED' | 'DISABLED') : 'ENABLED',
            ...(props.EventBusName !== undefined ? { EventBusName: asString(props.EventBusName, where) } : {}),
          }),
        );
        const arn = out.RuleArn ?? this.arn('events', `rule/${name}`);
        const targets = (Array.isArray(props.Targets) ? props.Targets : []).filter(isObject).map((t) => ({
          Id: asString(t.Id, `${where} target Id`),
          Arn: asString(t.Arn, `${where} target Arn`),
          ...(t.Input !== undefined ? { Input: asString(t.Input, where) } : {}),
        }));
        if (targets.length > 0) {
          const put = await this.clients.events.send(new PutTargetsCommand({ Rule: name, Targets: targets }));
          if ((put.FailedEntryCount ?? 0) > 0) throw new DeployError(`${where}: PutTargets failed: ${JSON.stringify(put.FailedEntries)}`);
        }
        return { ...base, physicalId: name, attributes: { Arn: arn } };
      }
      case 'AWS::AutoScaling::LifecycleHook': {
        const group = asString(props.AutoScalingGroupName, `${where} AutoScalingGroupName`);
        const name = props.LifecycleHookName !== undefined ? asString(props.LifecycleHookName, where) : `h6-${logicalId}`;
        await this.clients.autoscaling.send(
          new PutLifecycleHookCommand({
            AutoScalingGroupName: group,
            LifecycleHookName: name,
            LifecycleTransition: asString(props.LifecycleTransition, `${where} LifecycleTransition`),
            ...(props.HeartbeatTimeout !== undefined ? { HeartbeatTimeout: Number(props.HeartbeatTimeout) } : {}),
            ...(props.DefaultResult !== undefined ? { DefaultResult: asString(props.DefaultResult, where) } : {}),
            ...(props.NotificationMetadata !== undefined ? { NotificationMetadata: asString(props.NotificationMetadata, where) } : {}),
            ...(props.NotificationTargetARN !== undefined ? { NotificationTargetARN: asString(props.NotificationTargetARN, where) } : {}),
            ...(props.RoleARN !== undefined ? { RoleARN: asString(props.RoleARN, where) } : {}),
          }),
        );
        return { ...base, physicalId: name, attributes: {}, removeWith: { AutoScalingGroupName: group } };
      }
      case 'AWS::CloudWatch::Alarm': {
        const name = props.AlarmName !== undefined ? asString(props.AlarmName, where) : `h6-${logicalId}`;
        const input = { ...props, AlarmName: name } as unknown as PutMetricAlarmCommandInput;
        await this.clients.cloudwatch.send(new PutMetricAlarmCommand(input));
        return { ...base, physicalId: name, attributes: { Arn: this.arn('cloudwatch', `alarm:${name}`) } };
      }
      case 'AWS::Logs::LogGroup': {
        // The functions' log groups (/aws/lambda/<name>): the Lambda runner puts their lines there.
        const name = props.LogGroupName !== undefined ? asString(props.LogGroupName, `${where} LogGroupName`) : `h6-${logicalId}`;
        await this.clients.logs.send(new CreateLogGroupCommand({ logGroupName: name }));
        if (props.RetentionInDays !== undefined) {
          await this.clients.logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: Number(asString(props.RetentionInDays, `${where} RetentionInDays`)) }));
        }
        return { ...base, physicalId: name, attributes: { Arn: this.arn('logs', `log-group:${name}:*`) } };
      }
      case 'AWS::DynamoDB::Table':
        return { ...base, ...(await this.createTable(logicalId, props, where)) };
      default:
        return { ...base, physicalId: '', attributes: {}, status: 'skipped-unsupported' };
    }
  }

  /**
   * A table as CloudFormation creates it, with the properties the stack uses; any other property fails the
   * deploy (silently dropping, say, a stream or an index would deploy a table the template does not describe).
   */
  private async createTable(logicalId: string, props: JsonObject, where: string): Promise<{ physicalId: string; attributes: Record<string, string> }> {
    const known = ['TableName', 'BillingMode', 'AttributeDefinitions', 'KeySchema', 'TimeToLiveSpecification', 'PointInTimeRecoverySpecification'];
    const unknown = Object.keys(props).filter((k) => !known.includes(k));
    if (unknown.length > 0) throw new DeployError(`${where}: the sandbox cannot deploy table properties ${unknown.join(', ')} (add them to deploy.ts)`);
    const name = props.TableName !== undefined ? asString(props.TableName, `${where} TableName`) : `h6-${logicalId}`;
    const list = (v: Json, what: string): JsonObject[] => {
      if (!Array.isArray(v) || !v.every(isObject)) throw new DeployError(`${where}: ${what} must be a list of objects`);
      return v;
    };
    const out = await this.clients.dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: (props.BillingMode !== undefined ? asString(props.BillingMode, where) : 'PROVISIONED') as BillingMode,
        AttributeDefinitions: list(props.AttributeDefinitions, 'AttributeDefinitions').map((a) => ({ AttributeName: asString(a.AttributeName, where), AttributeType: asString(a.AttributeType, where) }) as AttributeDefinition),
        KeySchema: list(props.KeySchema, 'KeySchema').map((k) => ({ AttributeName: asString(k.AttributeName, where), KeyType: asString(k.KeyType, where) }) as KeySchemaElement),
      }),
    );
    const ttl = props.TimeToLiveSpecification;
    if (isObject(ttl) && (ttl.Enabled === true || ttl.Enabled === 'true')) {
      await this.clients.dynamodb.send(new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: asString(ttl.AttributeName, `${where} TimeToLiveSpecification`), Enabled: true } }));
    }
    const pitr = props.PointInTimeRecoverySpecification;
    if (isObject(pitr) && (pitr.PointInTimeRecoveryEnabled === true || pitr.PointInTimeRecoveryEnabled === 'true')) {
      await this.clients.dynamodb.send(new UpdateContinuousBackupsCommand({ TableName: name, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }));
    }
    const arn = required(out.TableDescription?.TableArn, `${where}: CreateTable returned no TableArn`);
    return { physicalId: name, attributes: { Arn: arn } };
  }

  private async subscribe(topicArn: string, props: JsonObject, where: string): Promise<string | undefined> {
    const protocol = asString(props.Protocol, `${where} Protocol`);
    if ((protocol === 'email' || protocol === 'email-json') && this.opts.includeEmailSubscriptions !== true) return undefined;
    if (isExternalEndpoint(protocol, asString(props.Endpoint, `${where} Endpoint`))) return undefined;
    const attributes: Record<string, string> = {};
    for (const key of ['RawMessageDelivery', 'FilterPolicy', 'FilterPolicyScope', 'RedrivePolicy']) {
      const v = props[key];
      if (v !== undefined) attributes[key] = isObject(v) ? JSON.stringify(v) : asString(v, `${where} ${key}`);
    }
    const out = await this.clients.sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: protocol, Endpoint: asString(props.Endpoint, `${where} Endpoint`), Attributes: attributes, ReturnSubscriptionArn: true }),
    );
    return required(out.SubscriptionArn, `${where}: Subscribe returned no SubscriptionArn`);
  }

  /** Types the emulator does not create: physical ids as CloudFormation would name them. */
  private async recordOnly(logicalId: string, type: string, rawProps: JsonObject, where: string): Promise<DeployedResource> {
    const base = { logicalId, type, status: 'recorded' as const };
    switch (type) {
      case 'AWS::Lambda::Function': {
        const name = rawProps.FunctionName !== undefined ? asString(await this.resolve(rawProps.FunctionName, where), where) : `h6-${logicalId}`;
        const arn = this.arn('lambda', `function:${name}`);
        return { ...base, physicalId: name, attributes: { Arn: arn } };
      }
      case 'AWS::IAM::Role': {
        const name = rawProps.RoleName !== undefined ? asString(await this.resolve(rawProps.RoleName, where), where) : `h6-${logicalId}`;
        const arn = `arn:aws:iam::${this.accountId}:role/${name}`;
        const assumedBy = await this.trustedServices(rawProps, where);
        // Only functions sign calls in the sandbox: their roles must be readable whole; an instance role's managed policies are recorded.
        const readable = assumedBy.includes('lambda.amazonaws.com');
        const managed = readable ? [] : ((await this.resolve(rawProps.ManagedPolicyArns ?? [], `${where} ManagedPolicyArns`)) as Json[]).map((m) => asString(m, `${where} ManagedPolicyArns`));
        this.roles.set(logicalId, { logicalId, name, arn, policies: await this.rolePolicies(rawProps, where, readable), assumedBy, managedPolicyArns: managed });
        return { ...base, physicalId: name, attributes: { Arn: arn, RoleId: `AROA${logicalId.toUpperCase().slice(0, 16)}` } };
      }
      case 'AWS::IAM::InstanceProfile': {
        const name = rawProps.InstanceProfileName !== undefined ? asString(await this.resolve(rawProps.InstanceProfileName, where), where) : `h6-${logicalId}`;
        return { ...base, physicalId: name, attributes: { Arn: `arn:aws:iam::${this.accountId}:instance-profile/${name}` } };
      }
      case 'AWS::S3::Bucket':
        return { ...base, physicalId: `h6-${logicalId.toLowerCase()}`, attributes: { Arn: `arn:aws:s3:::h6-${logicalId.toLowerCase()}` } };
      case 'AWS::Lambda::Permission': {
        const props = (await this.resolve(rawProps, where)) as JsonObject;
        this.lambdaPermissions.push({
          logicalId,
          functionName: asString(props.FunctionName, `${where} FunctionName`),
          action: asString(props.Action, `${where} Action`),
          principal: asString(props.Principal, `${where} Principal`),
          ...(props.SourceArn !== undefined ? { sourceArn: asString(props.SourceArn, `${where} SourceArn`) } : {}),
          ...(props.SourceAccount !== undefined ? { sourceAccount: asString(props.SourceAccount, `${where} SourceAccount`) } : {}),
        });
        return { ...base, physicalId: `h6-${logicalId}`, attributes: {} };
      }
      case 'AWS::Lambda::EventInvokeConfig': {
        const props = (await this.resolve(rawProps, where)) as JsonObject;
        const functionName = asString(props.FunctionName, `${where} FunctionName`).replace(/^arn:aws:lambda:[^:]*:\d+:function:/, '');
        this.invokeConfigs[functionName] = {
          ...(props.MaximumRetryAttempts !== undefined ? { maximumRetryAttempts: Number(props.MaximumRetryAttempts) } : {}),
          ...(props.MaximumEventAgeInSeconds !== undefined ? { maximumEventAgeSeconds: Number(props.MaximumEventAgeInSeconds) } : {}),
        };
        return { ...base, physicalId: `h6-${logicalId}`, attributes: {} };
      }
      default:
        return { ...base, physicalId: `h6-${logicalId}`, attributes: {} };
    }
  }

  /** The services an AssumeRolePolicyDocument lets assume the role. */
  private async trustedServices(rawProps: JsonObject, where: string): Promise<string[]> {
    const doc = await this.resolve(rawProps.AssumeRolePolicyDocument ?? {}, `${where} AssumeRolePolicyDocument`);
    const statements = isObject(doc) ? (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) : [];
    return statements.filter(isObject).flatMap((st) => {
      const service = isObject(st.Principal) ? st.Principal.Service : undefined;
      return (Array.isArray(service) ? service : service === undefined ? [] : [service]).map((x) => asString(x, `${where} Principal.Service`));
    });
  }

  /** Inline policies with Ref/GetAtt/Sub/If resolved; on a function's role, what the template cannot tell is refused. */
  private async rolePolicies(rawProps: JsonObject, where: string, mustBeReadable = true): Promise<DeployedRole['policies']> {
    for (const unreadable of mustBeReadable ? ['ManagedPolicyArns', 'PermissionsBoundary'] : ['PermissionsBoundary']) {
      const value = rawProps[unreadable];
      if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
        throw new DeployError(`${where}: ${unreadable} cannot be evaluated by the sandbox's IAM check (only inline Policies are read)`);
      }
    }
    const resolved = await this.resolve(rawProps.Policies ?? [], `${where} Policies`);
    if (!Array.isArray(resolved)) throw new DeployError(`${where}: Policies must be a list`);
    return resolved.map((p, i) => {
      if (!isObject(p) || !isObject(p.PolicyDocument)) throw new DeployError(`${where}: Policies[${i}] has no PolicyDocument`);
      return { name: asString(p.PolicyName, `${where} Policies[${i}].PolicyName`), document: p.PolicyDocument };
    });
  }

  /** The cluster resource types' creator (deploy-cluster.ts), made on first use. */
  private cluster(): ClusterResources {
    this.clusterResources ??= new ClusterResources({ endpoint: this.opts.endpoint, region: this.region, accountId: this.accountId });
    return this.clusterResources;
  }

  /**
   * `{{resolve:ssm:name}}` (and `:version`) in a resource's properties: read from Parameter
   * Store when the resource is created, as CloudFormation does; other dynamic references
   * (ssm-secure, secretsmanager) are not emulated and fail loudly.
   */
  private async dynamicReferences(value: Json, where: string): Promise<Json> {
    if (typeof value === 'string') {
      if (!value.includes('{{resolve:')) return value;
      let out = value;
      for (const m of value.matchAll(/\{\{resolve:([a-z-]+):([^}]*)\}\}/g)) {
        if (m[1] !== 'ssm') throw new DeployError(`${where}: dynamic reference ${m[0]} is not emulated (only {{resolve:ssm:...}})`);
        const [name, version] = (m[2] ?? '').split(':');
        const got = await this.clients.ssm.send(new GetParameterCommand({ Name: version ? `${name}:${version}` : name }));
        out = out.split(m[0]).join(required(got.Parameter?.Value, `${where}: ${m[0]} has no value`));
      }
      return out;
    }
    if (Array.isArray(value)) return Promise.all(value.map((v) => this.dynamicReferences(v, where)));
    if (isObject(value)) {
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value)) out[k] = await this.dynamicReferences(v, where);
      return out;
    }
    return value;
  }

  close(): void {
    this.clusterResources?.destroy();
  }

  // ---- functions ------------------------------------------------------------

  async functions(): Promise<Record<string, DeployedFunction>> {
    const mappings = new Map<string, EventSourceMapping[]>();
    for (const [logicalId, spec] of Object.entries(this.resourcesIn)) {
      if (spec.Type !== 'AWS::Lambda::EventSourceMapping') continue;
      if (typeof spec.Condition === 'string' && !this.condition(spec.Condition)) continue;
      const props = isObject(spec.Properties) ? spec.Properties : {};
      const where = `${logicalId} (event source mapping)`;
      const functionRef = await this.resolve(props.FunctionName, where);
      const functionName = asString(functionRef, where).replace(/^arn:aws:lambda:[^:]*:\d+:function:/, '');
      const sourceArn = asString(await this.resolve(props.EventSourceArn, where), where);
      const queue = [...this.deployed.values()].find((r) => r.type === 'AWS::SQS::Queue' && r.attributes.Arn === sourceArn);
      if (queue === undefined) throw new DeployError(`${where}: only SQS event sources are emulated, and ${sourceArn} is not a queue of this stack`);
      const queueProps = isObject(this.resourcesIn[queue.logicalId]?.Properties) ? (this.resourcesIn[queue.logicalId]!.Properties as JsonObject) : {};
      const visibility = queueProps.VisibilityTimeout !== undefined ? Number(await this.resolve(queueProps.VisibilityTimeout, `${queue.logicalId} VisibilityTimeout`)) : SQS_DEFAULT_VISIBILITY_SECONDS;
      const list = mappings.get(functionName) ?? [];
      list.push({
        visibilityTimeoutSeconds: visibility,
        logicalId,
        queueArn: sourceArn,
        queueUrl: queue.physicalId,
        batchSize: props.BatchSize !== undefined ? Number(props.BatchSize) : 10,
        functionResponseTypes: Array.isArray(props.FunctionResponseTypes) ? props.FunctionResponseTypes.map((x) => asString(x, where)) : [],
        enabled: props.Enabled !== false && props.Enabled !== 'false',
      });
      mappings.set(functionName, list);
    }
    const out: Record<string, DeployedFunction> = {};
    for (const [logicalId, spec] of Object.entries(this.resourcesIn)) {
      if (spec.Type !== 'AWS::Lambda::Function') continue;
      if (typeof spec.Condition === 'string' && !this.condition(spec.Condition)) continue;
      const props = isObject(spec.Properties) ? spec.Properties : {};
      const where = `${logicalId} (function)`;
      const functionName = (await this.ensure(logicalId)).physicalId;
      const roleArn = asString(await this.resolve(props.Role, `${where} Role`), `${where} Role`);
      const role = [...this.roles.values()].find((r) => r.arn === roleArn);
      if (role === undefined) throw new DeployError(`${where}: its Role ${roleArn} is not a role of this stack (known: ${[...this.roles.values()].map((r) => r.arn).join(', ') || 'none'})`);
      const code = isObject(props.Code) ? props.Code : {};
      const s3Key = asString(await this.resolve(code.S3Key, `${where} Code.S3Key`), `${where} Code.S3Key`);
      const zipName = s3Key.split('/').pop() ?? s3Key;
      const envIn = isObject(props.Environment) && isObject(props.Environment.Variables) ? props.Environment.Variables : {};
      const envResolved = (await this.resolve(envIn, `${where} Environment`)) as JsonObject;
      const environment = Object.fromEntries(Object.entries(envResolved).map(([k, v]) => [k, asString(v, `${where} Environment ${k}`)]));
      const key = zipName.replace(/\.zip$/, '');
      out[key] = {
        logicalId,
        role,
        functionName,
        zipName,
        handler: asString(props.Handler, `${where} Handler`),
        runtime: props.Runtime !== undefined ? asString(props.Runtime, where) : 'nodejs22.x',
        timeoutSeconds: props.Timeout !== undefined ? Number(props.Timeout) : 3,
        memoryMb: props.MemorySize !== undefined ? Number(props.MemorySize) : 128,
        environment,
        eventSources: mappings.get(functionName) ?? [],
      };
      for (const mapping of out[key].eventSources) {
        // CreateEventSourceMapping: "Lambda validates this requirement when you create or update an
        // event source mapping and will return an error if the function timeout exceeds the queue's
        // visibility timeout" (Lambda Developer Guide, configuring an SQS event source mapping).
        if (out[key].timeoutSeconds > mapping.visibilityTimeoutSeconds) {
          throw new DeployError(
            `${mapping.logicalId} (event source mapping): InvalidParameterValueException: Queue visibility timeout: ${mapping.visibilityTimeoutSeconds} seconds is less than Function timeout: ${out[key].timeoutSeconds} seconds`,
          );
        }
      }
    }
    return out;
  }

  async outputs(outputsIn: JsonObject): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [name, spec] of Object.entries(outputsIn)) {
      if (!isObject(spec)) continue;
      if (typeof spec.Condition === 'string' && !this.condition(spec.Condition)) continue;
      out[name] = asString(await this.resolve(spec.Value, `output ${name}`), `output ${name}`);
    }
    return out;
  }

  all(): Record<string, DeployedResource> {
    return Object.fromEntries(this.deployed);
  }

  logicalIds(): string[] {
    return Object.keys(this.resourcesIn);
  }
}

function required<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new DeployError(message);
  return value;
}

/** Deploy every resource of `template` into the emulator at `endpoint`. */
export async function deployStack(opts: DeployOptions): Promise<DeployedStack> {
  if (!/^https?:\/\//.test(opts.endpoint)) throw new DeployError(`endpoint must be an http(s) URL, got ${JSON.stringify(opts.endpoint)}`);
  const template = (opts.replace !== undefined ? replaceAll(opts.template, opts.replace) : opts.template) as JsonObject;
  const deployer = new Deployer(opts, template);
  for (const id of deployer.logicalIds()) await deployer.ensure(id);
  const functions = await deployer.functions();
  const outputs = await deployer.outputs(isObject(template.Outputs) ? template.Outputs : {});
  const resources = deployer.all();
  deployer.close();
  return {
    region: opts.region ?? DEFAULT_REGION,
    accountId: opts.accountId ?? DEFAULT_ACCOUNT,
    resources,
    functions,
    roles: Object.fromEntries(deployer.roles),
    lambdaPermissions: deployer.lambdaPermissions,
    invokeConfigs: deployer.invokeConfigs,
    outputs,
    physicalId(logicalId: string): string {
      const r = resources[logicalId];
      if (r === undefined || r.physicalId === '') throw new DeployError(`resource ${logicalId} was not deployed (${r?.status ?? 'not in the template'})`);
      return r.physicalId;
    },
  };
}
