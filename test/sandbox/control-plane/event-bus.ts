/**
 * EventBridge delivery for events the control plane emits (lifecycle actions).
 *
 * moto's PutEvents does match rules and deliver to SQS, but it rewrites the
 * envelope (its own id, no `account`), so the event a Lambda would receive is
 * not the one AWS sends. We therefore read the rules and targets from moto
 * (ListRules / ListTargetsByRule), match the event patterns here, and put the
 * exact AWS-shaped event into each SQS target queue ourselves.
 *
 * As EventBridge, only where the queue's resource policy lets it: "For Lambda,
 * Amazon SNS, Amazon SQS, and Amazon CloudWatch Logs resources, EventBridge uses
 * resource-based policies" (EventBridge User Guide, resource-based policies). A
 * queue without a policy allowing events.amazonaws.com sqs:SendMessage for the
 * rule (aws:SourceArn) gets nothing: the delivery fails, as a FailedInvocation.
 */
import { EventBridgeClient, ListRulesCommand, ListTargetsByRuleCommand, type Rule } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { serviceMayAct } from '../iam/evaluate';

export interface AwsEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Record<string, unknown>;
}

export interface Delivery {
  readonly ruleName: string;
  readonly targetArn: string;
  readonly ok: boolean;
  readonly error?: string;
}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One matcher of a pattern array against one scalar event value. */
function matchScalar(matcher: Json, value: Json): boolean {
  if (!isObject(matcher)) return matcher === value;
  if ('prefix' in matcher) {
    const p = matcher.prefix;
    if (isObject(p) && typeof p['equals-ignore-case'] === 'string') {
      return typeof value === 'string' && value.toLowerCase().startsWith(p['equals-ignore-case'].toLowerCase());
    }
    return typeof value === 'string' && typeof p === 'string' && value.startsWith(p);
  }
  if ('suffix' in matcher) return typeof value === 'string' && typeof matcher.suffix === 'string' && value.endsWith(matcher.suffix);
  if ('equals-ignore-case' in matcher) {
    return typeof value === 'string' && typeof matcher['equals-ignore-case'] === 'string' && value.toLowerCase() === matcher['equals-ignore-case'].toLowerCase();
  }
  if ('wildcard' in matcher && typeof matcher.wildcard === 'string') {
    const re = new RegExp(`^${matcher.wildcard.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    return typeof value === 'string' && re.test(value);
  }
  if ('anything-but' in matcher) {
    const ab = matcher['anything-but'];
    if (Array.isArray(ab)) return !ab.some((x) => x === value);
    if (isObject(ab)) return !matchScalar(ab, value);
    return ab !== value;
  }
  if ('numeric' in matcher && Array.isArray(matcher.numeric)) {
    if (typeof value !== 'number') return false;
    const ops = matcher.numeric;
    for (let i = 0; i + 1 < ops.length; i += 2) {
      const op = ops[i];
      const n = Number(ops[i + 1]);
      const ok = op === '=' ? value === n : op === '<' ? value < n : op === '<=' ? value <= n : op === '>' ? value > n : op === '>=' ? value >= n : false;
      if (!ok) return false;
    }
    return true;
  }
  throw new Error(`event pattern: unsupported matcher ${JSON.stringify(matcher)}`);
}

/** A leaf: a scalar, or an array of scalars (comparison operators "only work on leaf nodes"). */
function isLeaf(value: Json): boolean {
  return !isObject(value) && !(Array.isArray(value) && value.some((v) => isObject(v) || Array.isArray(v)));
}

function matchField(pattern: Json, present: boolean, value: Json): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((m) => {
      // exists is a comparison operator: true matches a leaf only, never an object the event nests.
      if (isObject(m) && 'exists' in m) return m.exists === true ? present && isLeaf(value) : !present;
      if (!present) return false;
      const values = Array.isArray(value) ? value : [value];
      return values.some((v) => matchScalar(m, v));
    });
  }
  if (isObject(pattern)) return present && isObject(value) && matchesPattern(pattern, value);
  throw new Error(`event pattern: field value must be an array or an object, got ${JSON.stringify(pattern)}`);
}

/** EventBridge content filtering: every field of the pattern must match. */
export function matchesPattern(pattern: Record<string, Json>, event: Record<string, Json>): boolean {
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(sub) || !sub.some((alt) => isObject(alt) && matchesPattern(alt, event))) return false;
      continue;
    }
    if (!matchField(sub, key in event, event[key])) return false;
  }
  return true;
}

/** An event the bus lost on purpose (fault injection), and why. */
export interface Drop {
  /** What the test asked to lose, in its words. */
  readonly what: string;
  readonly match: (event: AwsEvent) => boolean;
}

export class EventBus {
  private readonly events: EventBridgeClient;
  private readonly sqs: SQSClient;
  private readonly drops: Drop[] = [];

  constructor(clientConfig: object) {
    this.events = new EventBridgeClient(clientConfig);
    this.sqs = new SQSClient(clientConfig);
  }

  private async listRules(): Promise<Rule[]> {
    const rules: Rule[] = [];
    let token: string | undefined;
    for (let page = 0; page < 100; page += 1) {
      const out = await this.events.send(new ListRulesCommand({ EventBusName: 'default', ...(token ? { NextToken: token } : {}) }));
      rules.push(...(out.Rules ?? []));
      token = out.NextToken;
      if (!token) break;
    }
    return rules;
  }

  /**
   * Fault injection: the next event `match` accepts is lost before it reaches
   * any rule or queue. Auto Scaling allows it: its events are delivered on a
   * best-effort basis (Amazon EC2 Auto Scaling event reference).
   */
  dropNext(what: string, match: (event: AwsEvent) => boolean): void {
    this.drops.push({ what, match });
  }

  /** Delivers `event` as publish does, unless a fault drops it: then no queue gets it, and `dropped` says which fault. */
  async deliver(event: AwsEvent): Promise<{ deliveries: Delivery[]; dropped?: string }> {
    const index = this.drops.findIndex((drop) => drop.match(event));
    if (index >= 0) {
      const [drop] = this.drops.splice(index, 1);
      return { deliveries: [], dropped: drop?.what ?? 'fault' };
    }
    return { deliveries: await this.publish(event) };
  }

  /** Deliver to every SQS target of every enabled rule whose pattern matches. */
  async publish(event: AwsEvent): Promise<Delivery[]> {
    const deliveries: Delivery[] = [];
    const asJson = JSON.parse(JSON.stringify(event)) as Record<string, Json>;
    for (const rule of await this.listRules()) {
      if (rule.State !== 'ENABLED' || rule.EventPattern === undefined || rule.Name === undefined) continue;
      if (!matchesPattern(JSON.parse(rule.EventPattern) as Record<string, Json>, asJson)) continue;
      const targets = await this.events.send(new ListTargetsByRuleCommand({ Rule: rule.Name, EventBusName: 'default' }));
      for (const target of targets.Targets ?? []) {
        const arn = target.Arn ?? '';
        const sqsArn = /^arn:aws:sqs:[^:]+:(\d+):(.+)$/.exec(arn);
        if (sqsArn === null) {
          deliveries.push({ ruleName: rule.Name, targetArn: arn, ok: false, error: 'only SQS targets are emulated' });
          continue;
        }
        try {
          const q = await this.sqs.send(new GetQueueUrlCommand({ QueueName: sqsArn[2], QueueOwnerAWSAccountId: sqsArn[1] }));
          const attributes = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['Policy'] }));
          const policyText = attributes.Attributes?.Policy;
          const policy = policyText ? (JSON.parse(policyText) as Record<string, unknown>) : undefined;
          if (!(await serviceMayAct('events.amazonaws.com', 'sqs:SendMessage', arn, sqsArn[1] ?? '', policy, { 'aws:SourceArn': rule.Arn ?? '', 'aws:SourceAccount': sqsArn[1] ?? '' }))) {
            deliveries.push({ ruleName: rule.Name, targetArn: arn, ok: false, error: `the queue's policy does not let events.amazonaws.com sqs:SendMessage for rule ${rule.Arn ?? rule.Name} (FailedInvocations)` });
            continue;
          }
          const body = target.Input ?? JSON.stringify(event);
          await this.sqs.send(new SendMessageCommand({ QueueUrl: q.QueueUrl, MessageBody: body }));
          deliveries.push({ ruleName: rule.Name, targetArn: arn, ok: true });
        } catch (error) {
          deliveries.push({ ruleName: rule.Name, targetArn: arn, ok: false, error: error instanceof Error ? error.message : String(error) });
        }
      }
    }
    return deliveries;
  }
}
