/**
 * The decision: a role's identity policies against one authorization check,
 * by @cloud-copilot/iam-simulate (an offline IAM policy simulator; AGPL-3.0,
 * a test-only dev dependency, never bundled into the functions).
 *
 * Only identity policies take part: the stack's roles carry no boundary, the
 * sandbox has no organization (SCPs, RCPs) and no resource policy grants a
 * role more than its own policies (the queue policies of the stack name the
 * events service only).
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { AuthorizationCheck } from './checks';

export interface IdentityPolicy {
  readonly name: string;
  readonly document: Readonly<Record<string, unknown>>;
}

export type Decision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly explicit: boolean; readonly check: AuthorizationCheck };

export class PolicyEvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyEvaluationError';
  }
}

/**
 * AWS owns the document names with a reserved prefix (CreateDocument: "aws", "amazon" and "amzn" are
 * reserved) and their ARNs carry no account (arn:aws:ssm:<region>::document/AWS-RunShellScript). The
 * simulator cannot evaluate an ARN without one, so such policy resources get `accountId`, as the
 * request's ARN does (checks.ts); nothing else in a policy is touched.
 */
const OWNED_DOCUMENT = /^(arn:[^:]+:ssm:[^:]*)::(document\/(?:aws|amazon|amzn)[^\s]*)$/i;

export function withOwnedDocumentAccount(document: Readonly<Record<string, unknown>>, accountId: string): Record<string, unknown> {
  const fix = (value: unknown): unknown =>
    typeof value === 'string' ? value.replace(OWNED_DOCUMENT, `$1:${accountId}:$2`) : Array.isArray(value) ? value.map(fix) : value;
  const statements = Array.isArray(document.Statement) ? document.Statement : document.Statement === undefined ? [] : [document.Statement];
  return {
    ...document,
    Statement: statements.map((statement: unknown) => {
      if (typeof statement !== 'object' || statement === null) return statement;
      const st = statement as Record<string, unknown>;
      return { ...st, ...(st.Resource !== undefined ? { Resource: fix(st.Resource) } : {}), ...(st.NotResource !== undefined ? { NotResource: fix(st.NotResource) } : {}) };
    }),
  };
}

/** One check: Allowed, or denied (explicitly by a Deny statement, or for want of an Allow). */
export async function evaluate(principalArn: string, policies: readonly IdentityPolicy[], check: AuthorizationCheck, accountId: string): Promise<Decision> {
  const result = await runSimulation(
    {
      request: { principal: principalArn, action: check.action, resource: { resource: check.resource, accountId }, contextVariables: { ...check.context } },
      identityPolicies: policies.map((p) => ({ name: p.name, policy: withOwnedDocumentAccount(p.document, accountId) })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    { simulationMode: 'Strict' },
  );
  if (result.resultType === 'error') {
    throw new PolicyEvaluationError(`cannot evaluate ${check.action} on ${check.resource}: ${result.errors.message} ${JSON.stringify(result.errors)}`);
  }
  if (result.overallResult === 'Allowed') return { allowed: true };
  return { allowed: false, explicit: result.overallResult === 'ExplicitlyDenied', check };
}

/** Every check must allow; the first refusal decides. */
export async function evaluateAll(principalArn: string, policies: readonly IdentityPolicy[], checks: readonly AuthorizationCheck[], accountId: string): Promise<Decision> {
  for (const check of checks) {
    const decision = await evaluate(principalArn, policies, check, accountId);
    if (!decision.allowed) return decision;
  }
  return { allowed: true };
}

/**
 * A service principal acting on a resource (EventBridge sending to a queue): only the
 * resource's own policy can allow it; none, or one without a matching statement, denies.
 */
export async function serviceMayAct(
  service: string,
  action: string,
  resourceArn: string,
  accountId: string,
  resourcePolicy: Readonly<Record<string, unknown>> | undefined,
  context: Readonly<Record<string, string>>,
): Promise<boolean> {
  if (resourcePolicy === undefined) return false;
  const result = await runSimulation(
    {
      request: { principal: service, action, resource: { resource: resourceArn, accountId }, contextVariables: { ...context } },
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
    },
    { simulationMode: 'Strict' },
  );
  if (result.resultType === 'error') throw new PolicyEvaluationError(`cannot evaluate ${action} by ${service} on ${resourceArn}: ${JSON.stringify(result.errors)}`);
  return result.overallResult === 'Allowed';
}
