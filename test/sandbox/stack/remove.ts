/**
 * `sls remove` against the emulator: CloudFormation's DeleteStack over what deployStack
 * (deploy.ts) created, through the same AWS APIs (moto behind the control-plane front).
 *
 * - Order: the reverse of the dependencies. deployStack records a resource only after every
 *   resource it references (Ref, Fn::GetAtt, Fn::Sub, DependsOn), so its record is in
 *   creation order and the reverse of it deletes a dependent before what it depends on
 *   ("Resource A is deleted before resource B": DependsOn attribute, CloudFormation User Guide).
 * - DeletionPolicy: Retain keeps the resource; Snapshot snapshots it first, and only types that
 *   support snapshots may say so; RDS DB instances default to Snapshot (DeletionPolicy
 *   attribute, CloudFormation Template Reference).
 * - A delete the service refuses stops the removal there (the stack would be DELETE_FAILED):
 *   RemoveError names the resource and what is still there. Nothing is deleted that the
 *   service would not delete.
 * - Resources deployStack only recorded (IAM, Lambda, S3: see deploy.ts) were never in the
 *   emulator; they are reported, not deleted. Creating no cluster, the stack has no such resource
 *   with state (the deployment bucket that `sls remove` empties first is not emulated).
 *
 * The reference cluster's types (deploy-cluster.ts) are deleted by remove-cluster.ts.
 */
import { DeleteLifecycleHookCommand } from '@aws-sdk/client-auto-scaling';
import { DeleteAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteRuleCommand, ListTargetsByRuleCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteTopicCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { DeleteQueueCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DeleteDocumentCommand, DeleteParameterCommand } from '@aws-sdk/client-ssm';
import { CLUSTER_TYPES } from './deploy-cluster';
import { ClusterRemover, finalSnapshotId } from './remove-cluster';
import { DEFAULT_REGION, stackClients, type DeployedResource, type DeployedStack, type StackClients } from './deploy';

type JsonObject = Record<string, unknown>;

export class RemoveError extends Error {
  constructor(
    message: string,
    /** Resources still in the emulator when the removal stopped, by logical id. */
    readonly remaining: readonly string[],
    options?: { cause?: unknown },
    /** What was handled before it stopped, in order. */
    readonly done: readonly RemovedResource[] = [],
  ) {
    super(message, options);
    this.name = 'RemoveError';
  }
}

export type DeletionPolicy = 'Delete' | 'Retain' | 'Snapshot';

export interface RemovedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId: string;
  /** deleted; snapshotted then deleted (DeletionPolicy Snapshot); retained (Retain); not-in-emulator (recorded or skipped by deployStack). */
  readonly outcome: 'deleted' | 'snapshot-then-deleted' | 'retained' | 'not-in-emulator';
  /** The final snapshot left behind (snapshot-then-deleted). */
  readonly snapshotId?: string;
}

export interface RemoveOptions {
  /** Emulator URL (the control-plane front), as given to deployStack. */
  readonly endpoint: string;
  /** The template deployed (for each resource's DeletionPolicy). */
  readonly template: JsonObject;
  readonly stack: DeployedStack;
  /**
   * Only these logical ids: a stack that ended DELETE_FAILED is deleted again from what was left
   * (RemoveError.remaining), as a second DeleteStack would.
   */
  readonly only?: readonly string[];
  /** How long an Auto Scaling group of the stack may take to empty (default 20 minutes). */
  readonly groupEmptyTimeoutMs?: number;
}

/** Types for which CloudFormation takes a snapshot under DeletionPolicy Snapshot (DeletionPolicy attribute). */
export const SNAPSHOT_TYPES: ReadonlySet<string> = new Set([
  'AWS::EC2::Volume',
  'AWS::ElastiCache::CacheCluster',
  'AWS::ElastiCache::ReplicationGroup',
  'AWS::Neptune::DBCluster',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBInstance',
  'AWS::Redshift::Cluster',
]);

/**
 * A resource's DeletionPolicy as CloudFormation applies it: the attribute when set, else Delete,
 * except Snapshot for AWS::RDS::DBCluster and for an AWS::RDS::DBInstance without DBClusterIdentifier.
 */
export function deletionPolicyOf(logicalId: string, spec: JsonObject): DeletionPolicy {
  const type = String(spec.Type ?? '');
  const given = spec.DeletionPolicy;
  if (given !== undefined) {
    if (given !== 'Delete' && given !== 'Retain' && given !== 'Snapshot' && given !== 'RetainExceptOnCreate') {
      throw new RemoveError(`${logicalId}: DeletionPolicy ${JSON.stringify(given)} is not one of Delete, Retain, RetainExceptOnCreate, Snapshot`, []);
    }
    if (given === 'Snapshot' && !SNAPSHOT_TYPES.has(type)) throw new RemoveError(`${logicalId}: ${type} does not support DeletionPolicy Snapshot`, []);
    // RetainExceptOnCreate "behaves like Retain for stack operations, except for the stack operation that initially created the resource".
    return given === 'RetainExceptOnCreate' ? 'Retain' : given;
  }
  const props = typeof spec.Properties === 'object' && spec.Properties !== null ? (spec.Properties as JsonObject) : {};
  if (type === 'AWS::RDS::DBCluster' || (type === 'AWS::RDS::DBInstance' && props.DBClusterIdentifier === undefined)) return 'Snapshot';
  return 'Delete';
}

/** What deployStack recorded for the delete call (DeployedResource.removeWith). */
function needed(r: DeployedResource, key: string): string {
  const value = r.removeWith?.[key];
  if (value === undefined || value === '') throw new RemoveError(`${r.logicalId}: deployStack recorded no ${key} to delete it with`, []);
  return value;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

class Remover {
  private readonly clients: StackClients;

  constructor(opts: RemoveOptions) {
    this.clients = stackClients(opts.stack.region ?? DEFAULT_REGION, opts.endpoint);
  }

  async delete(r: DeployedResource): Promise<void> {
    const c = this.clients;
    switch (r.type) {
      case 'AWS::SNS::Topic':
        // "Deletes a topic and all its subscriptions" (SNS API Reference, DeleteTopic).
        await c.sns.send(new DeleteTopicCommand({ TopicArn: r.physicalId }));
        return;
      case 'AWS::SNS::Subscription':
        await c.sns.send(new UnsubscribeCommand({ SubscriptionArn: r.physicalId }));
        return;
      case 'AWS::SQS::Queue':
        await c.sqs.send(new DeleteQueueCommand({ QueueUrl: r.physicalId }));
        return;
      case 'AWS::SQS::QueuePolicy':
        for (const url of needed(r, 'Queues').split(' ')) await c.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: '' } }));
        return;
      case 'AWS::SSM::Document':
        await c.ssm.send(new DeleteDocumentCommand({ Name: r.physicalId }));
        return;
      case 'AWS::SSM::Parameter':
        await c.ssm.send(new DeleteParameterCommand({ Name: r.physicalId }));
        return;
      case 'AWS::Events::Rule': {
        // "Before you can delete the rule, you must remove all targets, using RemoveTargets" (EventBridge API Reference, DeleteRule).
        const targets = (await c.events.send(new ListTargetsByRuleCommand({ Rule: r.physicalId }))).Targets ?? [];
        const ids = targets.map((t) => t.Id ?? '').filter((id) => id !== '');
        for (let i = 0; i < ids.length; i += 10) {
          const out = await c.events.send(new RemoveTargetsCommand({ Rule: r.physicalId, Ids: ids.slice(i, i + 10) }));
          if ((out.FailedEntryCount ?? 0) > 0) throw new Error(`RemoveTargets failed: ${JSON.stringify(out.FailedEntries)}`);
        }
        await c.events.send(new DeleteRuleCommand({ Name: r.physicalId }));
        return;
      }
      case 'AWS::AutoScaling::LifecycleHook':
        await c.autoscaling.send(new DeleteLifecycleHookCommand({ AutoScalingGroupName: needed(r, 'AutoScalingGroupName'), LifecycleHookName: r.physicalId }));
        return;
      case 'AWS::CloudWatch::Alarm':
        await c.cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: [r.physicalId] }));
        return;
      case 'AWS::Logs::LogGroup':
        await c.logs.send(new DeleteLogGroupCommand({ logGroupName: r.physicalId }));
        return;
      case 'AWS::DynamoDB::Table':
        await c.dynamodb.send(new DeleteTableCommand({ TableName: r.physicalId }));
        return;
      default:
        throw new RemoveError(`${r.logicalId}: removing ${r.type} is not emulated`, []);
    }
  }

  destroy(): void {
    for (const client of Object.values(this.clients)) client.destroy();
  }
}

/**
 * Delete the stack `opts.stack` from the emulator as CloudFormation's DeleteStack would, and
 * report each resource's outcome in the order they were handled.
 */
export async function removeStack(opts: RemoveOptions): Promise<RemovedResource[]> {
  const specs = (typeof opts.template.Resources === 'object' && opts.template.Resources !== null ? opts.template.Resources : {}) as Record<string, JsonObject>;
  const order = Object.values(opts.stack.resources).reverse().filter((r) => opts.only === undefined || opts.only.includes(r.logicalId));
  const remover = new Remover(opts);
  const cluster = new ClusterRemover({ endpoint: opts.endpoint, region: opts.stack.region, accountId: opts.stack.accountId, ...(opts.groupEmptyTimeoutMs !== undefined ? { groupEmptyTimeoutMs: opts.groupEmptyTimeoutMs } : {}) });
  const report: RemovedResource[] = [];
  const stillThere = (from: number) => order.slice(from).filter((r) => r.status === 'created').map((r) => r.logicalId);
  try {
    for (const [i, r] of order.entries()) {
      const base = { logicalId: r.logicalId, type: r.type, physicalId: r.physicalId };
      if (r.status !== 'created') {
        report.push({ ...base, outcome: 'not-in-emulator' });
        continue;
      }
      const spec = specs[r.logicalId] ?? {};
      const policy = deletionPolicyOf(r.logicalId, spec);
      if (policy === 'Retain') {
        report.push({ ...base, outcome: 'retained' });
        continue;
      }
      if (policy === 'Snapshot' && !CLUSTER_TYPES.has(r.type)) throw new RemoveError(`${r.logicalId}: DeletionPolicy Snapshot on ${r.type} is not emulated`, stillThere(i), undefined, report);
      try {
        if (CLUSTER_TYPES.has(r.type)) await cluster.delete(r, policy);
        else await remover.delete(r);
      } catch (error) {
        if (error instanceof RemoveError) throw new RemoveError(error.message, stillThere(i), { cause: error }, report);
        if (error instanceof Error && error.name === 'ClusterRemoveError') throw new RemoveError(`${r.logicalId} (${r.type}) DELETE_FAILED: ${error.message}`, stillThere(i), { cause: error }, report);
        throw new RemoveError(`${r.logicalId} (${r.type}) DELETE_FAILED: ${errorName(error)}: ${error instanceof Error ? error.message : String(error)}`, stillThere(i), { cause: error }, report);
      }
      report.push(policy === 'Snapshot' ? { ...base, outcome: 'snapshot-then-deleted', snapshotId: finalSnapshotId(r.physicalId) } : { ...base, outcome: 'deleted' });
    }
  } finally {
    remover.destroy();
    cluster.destroy();
  }
  return report;
}
