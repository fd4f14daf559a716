/**
 * A function's environment as serverless.yml packages it, with each
 * CloudFormation intrinsic replaced by a value of the shape it will have once
 * deployed (a Ref to a topic is an SNS ARN, to a queue its URL, to a document
 * or parameter its Name; a template parameter its default; Fn::If the branch
 * its condition picks with those defaults). Package-time validation runs the
 * functions' own parsers over it, so the rules a cold start applies are the
 * rules `sls package` applies, with nothing written twice.
 */

/** What the packaged template says about the stack (serverless.yml `resources`, resolved). */
export interface TemplateView {
  readonly region: string;
  /** Template parameters: Ref gives their Default. */
  readonly parameters: Readonly<Record<string, { readonly Default?: unknown }>>;
  readonly conditions: Readonly<Record<string, unknown>>;
  readonly resources: Readonly<Record<string, { readonly Type?: unknown; readonly Properties?: Readonly<Record<string, unknown>> }>>;
}

/** An account for the placeholders: the real one is only known at deploy time and no rule reads it. */
const ACCOUNT = '123456789012';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parameterValue(template: TemplateView, name: string): string | undefined {
  if (!Object.hasOwn(template.parameters, name)) return undefined;
  const value = template.parameters[name]?.Default;
  return value === undefined || value === null ? '' : String(value);
}

/** Evaluates a template condition with the parameters' defaults (the conditions serverless.yml uses). */
export function conditionHolds(template: TemplateView, node: unknown): boolean {
  if (!isRecord(node)) throw new Error(`condition ${JSON.stringify(node)} is not understood`);
  const operand = (value: unknown): string => {
    if (typeof value === 'string') return value;
    if (isRecord(value) && typeof value.Ref === 'string') return parameterValue(template, value.Ref) ?? '';
    throw new Error(`condition operand ${JSON.stringify(value)} is not understood`);
  };
  const list = (key: string): unknown[] => (Array.isArray(node[key]) ? (node[key] as unknown[]) : []);
  if ('Fn::Not' in node) return !conditionHolds(template, list('Fn::Not')[0]);
  if ('Fn::Equals' in node) return operand(list('Fn::Equals')[0]) === operand(list('Fn::Equals')[1]);
  if ('Fn::And' in node) return list('Fn::And').every((n) => conditionHolds(template, n));
  if ('Fn::Or' in node) return list('Fn::Or').some((n) => conditionHolds(template, n));
  if (typeof node.Condition === 'string') return conditionHolds(template, template.conditions[node.Condition]);
  throw new Error(`condition ${JSON.stringify(node)} is not understood`);
}

/** The service part of a resource type: AWS::DynamoDB::Table -> dynamodb. */
function serviceOf(type: string): string {
  return (type.split('::')[1] ?? 'resource').toLowerCase();
}

/** What Ref gives for a resource of the stack, once deployed. */
function refValue(template: TemplateView, logicalId: string): string {
  const resource = template.resources[logicalId];
  const type = typeof resource?.Type === 'string' ? resource.Type : '';
  const props = resource?.Properties ?? {};
  const named = (key: string) => (typeof props[key] === 'string' ? (props[key] as string) : logicalId);
  switch (type) {
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${template.region}:${ACCOUNT}:${named('TopicName')}`;
    case 'AWS::SQS::Queue':
      return `https://sqs.${template.region}.amazonaws.com/${ACCOUNT}/${named('QueueName')}`;
    case 'AWS::SSM::Document':
    case 'AWS::SSM::Parameter':
      return named('Name');
    case 'AWS::DynamoDB::Table':
      return named('TableName');
    case 'AWS::ElasticLoadBalancingV2::TargetGroup':
      // Ref is the target group's ARN; without a Name, CloudFormation makes one up (at most 32 characters).
      return `arn:aws:elasticloadbalancing:${template.region}:${ACCOUNT}:targetgroup/${named('Name').slice(0, 32)}/0123456789abcdef`;
    default:
      return logicalId;
  }
}

/** One environment value as it will be once deployed. */
export function deployedValue(template: TemplateView, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isRecord(value)) {
    if (typeof value.Ref === 'string') return parameterValue(template, value.Ref) ?? refValue(template, value.Ref);
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') {
      const type = template.resources[getAtt[0]]?.Type;
      return `arn:aws:${serviceOf(typeof type === 'string' ? type : '')}:${template.region}:${ACCOUNT}:${getAtt[0]}`;
    }
    const choice = value['Fn::If'];
    if (Array.isArray(choice) && typeof choice[0] === 'string') {
      return deployedValue(template, conditionHolds(template, template.conditions[choice[0]]) ? choice[1] : choice[2]);
    }
  }
  return JSON.stringify(value);
}

/** A function's whole environment, deployed values only. */
export function deployedEnvironment(template: TemplateView, environment: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, deployedValue(template, value)]));
}
