/**
 * The front's IAM check. A request signed with a function's key (see
 * identity.ts) is evaluated against that function's role as packaged; a
 * request signed otherwise (the sandbox's own setup and tests) passes.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { Reply } from '../control-plane/wire';
import type { DeployedStack } from '../stack/deploy';
import { authorizationChecks, IamMappingError, type ResourceLookup, type Scope } from './checks';
import { accessDenied, cannotAuthorize, deniedMessage, invalidToken } from './deny';
import { evaluateAll, type IdentityPolicy } from './evaluate';
import { accessKeyIdOf, accessKeyIdOfRequest, isRoleAccessKey, sessionArnOf } from './identity';
import { parseCall, RequestParseError } from './request';

export interface FunctionIdentity {
  readonly accessKeyId: string;
  readonly functionName: string;
  readonly sessionArn: string;
  readonly policies: readonly IdentityPolicy[];
}

export interface IamDecisionRecord {
  readonly functionName: string;
  readonly action: string;
  readonly resource: string;
  readonly allowed: boolean;
  readonly code?: string;
}

/** The identity of each function of a deployed stack: its role's key and policies. */
export function identitiesOf(stack: Pick<DeployedStack, 'functions'>): FunctionIdentity[] {
  return Object.values(stack.functions).map((fn) => ({
    accessKeyId: accessKeyIdOf(fn),
    functionName: fn.functionName,
    sessionArn: sessionArnOf(fn.role, fn.functionName),
    policies: fn.role.policies,
  }));
}

/** Lookups straight from moto (unrestricted): group ARNs, instance groups, tags, table keys. */
export function motoLookup(motoUrl: string, region: string): ResourceLookup {
  const config = { region, endpoint: motoUrl, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 };
  const asg = new AutoScalingClient(config);
  const ec2 = new EC2Client(config);
  const dynamodb = new DynamoDBClient(config);
  return {
    async groupArn(groupName) {
      const out = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }));
      return out.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === groupName)?.AutoScalingGroupARN;
    },
    async groupOfInstance(instanceId) {
      const out = await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
      return out.AutoScalingInstances?.find((i) => i.InstanceId === instanceId)?.AutoScalingGroupName;
    },
    async tagsOf(resourceId) {
      const out = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [resourceId] }] }));
      return Object.fromEntries((out.Tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key as string, t.Value ?? '']));
    },
    async partitionKeyOf(tableName) {
      const out = await dynamodb.send(new DescribeTableCommand({ TableName: tableName })).catch((error: unknown) => {
        if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
        throw error;
      });
      return out?.Table?.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
    },
  };
}

export class IamEnforcer {
  private readonly identities = new Map<string, FunctionIdentity>();
  /** Every decision on a function's call, in order (allowed ones too). */
  readonly decisions: IamDecisionRecord[] = [];

  constructor(
    private readonly lookup: ResourceLookup,
    private readonly scope: Scope,
    private readonly log: (message: string, fields?: Record<string, unknown>) => void = () => undefined,
  ) {}

  /** From now on, requests signed with these keys are checked against these roles. */
  enforce(identities: readonly FunctionIdentity[]): void {
    for (const identity of identities) this.identities.set(identity.accessKeyId, identity);
  }

  /** undefined: go on; a Reply: the refusal to send instead. */
  async authorize(headers: IncomingHttpHeaders, body: Buffer): Promise<Reply | undefined> {
    const accessKeyId = accessKeyIdOfRequest(headers.authorization);
    if (accessKeyId === undefined || !isRoleAccessKey(accessKeyId)) return undefined;
    let call;
    try {
      call = parseCall(headers, body);
    } catch (error) {
      if (error instanceof RequestParseError) return cannotAuthorize({ signingName: 'unknown', protocol: 'json', message: error.message });
      throw error;
    }
    const identity = this.identities.get(accessKeyId);
    if (identity === undefined) {
      this.log('iam: unknown function key', { accessKeyId, operation: call.operation });
      return invalidToken(call);
    }
    try {
      const checks = await authorizationChecks(call, this.lookup, this.scope);
      const decision = await evaluateAll(identity.sessionArn, identity.policies, checks, this.scope.accountId);
      if (decision.allowed) {
        for (const c of checks) this.decisions.push({ functionName: identity.functionName, action: c.action, resource: c.resource, allowed: true });
        return undefined;
      }
      const message = deniedMessage(identity.sessionArn, decision.check.action, decision.check.resource, decision.explicit);
      const reply = accessDenied({ signingName: call.signingName, protocol: call.protocol, message });
      const code = reply.headers['x-amzn-query-error']?.split(';')[0] ?? reply.headers['x-amzn-errortype'] ?? /<Code>([^<]+)<\/Code>/.exec(reply.body)?.[1];
      this.decisions.push({ functionName: identity.functionName, action: decision.check.action, resource: decision.check.resource, allowed: false, ...(code ? { code } : {}) });
      this.log('iam: denied', { functionName: identity.functionName, action: decision.check.action, resource: decision.check.resource });
      return reply;
    } catch (error) {
      if (!(error instanceof IamMappingError)) throw error;
      this.log('iam: cannot authorize', { functionName: identity.functionName, error: error.message });
      return cannotAuthorize({ signingName: call.signingName, protocol: call.protocol, message: error.message });
    }
  }
}
