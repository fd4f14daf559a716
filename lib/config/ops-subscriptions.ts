/**
 * The stage parameter opsSubscriptions: more endpoints on the ops topic, each
 * with the least severity it wants. `sls package` turns each into an
 * AWS::SNS::Subscription with a filter policy on the `severity` message
 * attribute (lib/package-time/stage-params-plugin.js adds them to the template).
 *
 *   opsSubscriptions:
 *     - { protocol: https, endpoint: 'https://global.sns-api.chatbot.amazonaws.com', minSeverity: warning }
 *     - { protocol: email, endpoint: oncall@example.org, minSeverity: error }
 *
 * On the command line: --param='opsSubscriptions=[{"protocol":"email","endpoint":"a@example.org","minSeverity":"error"}]'.
 */
import { ConfigurationError } from '../errors';
import { SEVERITIES, severitiesFrom, type Severity } from '../core/notification';

/**
 * The protocols a subscription here may use: e-mail (the readable text) and
 * HTTPS (AWS Chatbot, which reads the custom notification JSON, or a webhook).
 * SQS and Lambda endpoints need a resource policy that lets the topic in,
 * which this stack does not write for them: subscribe those yourself.
 */
export const OPS_PROTOCOLS = ['email', 'email-json', 'https'] as const;
export type OpsProtocol = (typeof OPS_PROTOCOLS)[number];

export interface OpsSubscription {
  readonly protocol: OpsProtocol;
  readonly endpoint: string;
  readonly minSeverity: Severity;
}

export const OPS_SUBSCRIPTIONS_PARAM = 'opsSubscriptions';

/** The template's OpsEmail AllowedPattern, for the same kind of value. */
const EMAIL = /^[^@\s]+@[^@\s]+$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function endpointProblem(protocol: OpsProtocol, endpoint: string): string | undefined {
  if (protocol === 'email' || protocol === 'email-json') return EMAIL.test(endpoint) ? undefined : 'must be an e-mail address';
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'must be an https:// URL';
  }
  return url.protocol === 'https:' ? undefined : 'must be an https:// URL';
}

/**
 * The subscriptions a value of the parameter asks for: a list (YAML), a JSON
 * list (the command line), or nothing (absent, '', []). A bad entry stops
 * packaging with an error naming it, e.g. opsSubscriptions[1].minSeverity.
 */
export function parseOpsSubscriptions(value: unknown, param = OPS_SUBSCRIPTIONS_PARAM): OpsSubscription[] {
  let list: unknown = value;
  if (value === undefined || value === null || value === '') return [];
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch (cause) {
      throw new ConfigurationError(`${param} must be a list of {protocol, endpoint, minSeverity} (JSON on the command line), got ${JSON.stringify(value.slice(0, 80))}`, { cause });
    }
  }
  if (!Array.isArray(list)) throw new ConfigurationError(`${param} must be a list of {protocol, endpoint, minSeverity}, got ${JSON.stringify(list)}`);
  const seen = new Set<string>();
  return list.map((entry: unknown, index) => {
    const at = `${param}[${index}]`;
    if (!isRecord(entry)) throw new ConfigurationError(`${at} must be {protocol, endpoint, minSeverity}, got ${JSON.stringify(entry)}`);
    const unknown = Object.keys(entry).filter((key) => !['protocol', 'endpoint', 'minSeverity'].includes(key));
    if (unknown.length > 0) throw new ConfigurationError(`${at} has ${unknown.join(', ')}: only protocol, endpoint and minSeverity are read`);
    const { protocol, endpoint } = entry;
    const minSeverity = entry.minSeverity ?? 'info';
    if (typeof protocol !== 'string' || !(OPS_PROTOCOLS as readonly string[]).includes(protocol)) {
      throw new ConfigurationError(`${at}.protocol must be one of ${OPS_PROTOCOLS.join(', ')}, got ${JSON.stringify(protocol)}`);
    }
    if (typeof endpoint !== 'string') throw new ConfigurationError(`${at}.endpoint must be a string, got ${JSON.stringify(endpoint)}`);
    const problem = endpointProblem(protocol as OpsProtocol, endpoint);
    if (problem) throw new ConfigurationError(`${at}.endpoint ${problem} for protocol ${protocol}, got ${JSON.stringify(endpoint)}`);
    if (typeof minSeverity !== 'string' || !(SEVERITIES as readonly string[]).includes(minSeverity)) {
      throw new ConfigurationError(`${at}.minSeverity must be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(minSeverity)}`);
    }
    const key = `${protocol} ${endpoint}`;
    if (seen.has(key)) throw new ConfigurationError(`${at} subscribes ${endpoint} (${protocol}) a second time: SNS keeps one subscription per endpoint and protocol`);
    seen.add(key);
    return { protocol: protocol as OpsProtocol, endpoint, minSeverity: minSeverity as Severity };
  });
}

/**
 * The filter policy of a least severity: the severities from it on, matched
 * exactly against the `severity` attribute ("For each matching property name
 * in the filter policy, at least one property value matches"). None for info:
 * such a subscription gets everything, the CloudWatch alarms' messages too,
 * which carry no attributes and so never match a policy.
 */
export function filterPolicyFor(minSeverity: Severity): { severity: Severity[] } | undefined {
  return minSeverity === 'info' ? undefined : { severity: severitiesFrom(minSeverity) };
}

/** The template resources of the subscriptions: OpsSubscription1, 2, ... on the topic `topicLogicalId`. */
export function opsSubscriptionResources(subscriptions: readonly OpsSubscription[], topicLogicalId = 'NotificationsTopic'): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  subscriptions.forEach((subscription, index) => {
    const policy = filterPolicyFor(subscription.minSeverity);
    resources[`OpsSubscription${index + 1}`] = {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        TopicArn: { Ref: topicLogicalId },
        Protocol: subscription.protocol,
        Endpoint: subscription.endpoint,
        // Never RawMessageDelivery: Chatbot needs the SNS envelope ("Don't enable the Enable raw message delivery feature").
        ...(policy ? { FilterPolicyScope: 'MessageAttributes', FilterPolicy: policy } : {}),
      },
    };
  });
  return resources;
}
