import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import {
  BOOTSTRAP_KEY,
  healthName,
  lifecycleClaimKey,
  lifecycleCommandKey,
  LOCK_KEY,
  memberName,
  membersPath,
  storageClaimKey,
  storageCommandKey,
  summaryName,
  WATCH_RUN_KEY,
  WATCH_STATE_KEY,
} from '../../../lib/core/records';
import { REPO_ROOT } from '../source-imports';

const instanceId = 'i-0123456789abcdef0';
const launch = { instanceId, transition: 'launch' as const };
const terminate = { instanceId, transition: 'terminate' as const };

describe('coordination table keys', () => {
  // The keys are a format: claims of flows in flight and the bootstrap record are read
  // under them after a deploy, and the watch finds an instance's claim by its transition.
  it.each([
    ['compute launch claim', lifecycleClaimKey(launch), `lifecycle/${instanceId}/launch`],
    ['compute terminate claim', lifecycleClaimKey(terminate), `lifecycle/${instanceId}/terminate`],
    ['storage launch claim', storageClaimKey(launch), `storage/lifecycle/${instanceId}/launch`],
    ['storage terminate claim', storageClaimKey(terminate), `storage/lifecycle/${instanceId}/terminate`],
    ['compute flow parked on a command', lifecycleCommandKey('cmd-1'), 'lifecycle/command/cmd-1'],
    ['storage flow parked on a command', storageCommandKey('cmd-1'), 'storage/command/cmd-1'],
    ['lock', LOCK_KEY, 'storage/lock'],
    ['bootstrap claim', BOOTSTRAP_KEY, 'storage/bootstrap'],
    ['watch state', WATCH_STATE_KEY, 'watch/state'],
    ['watch run', WATCH_RUN_KEY, 'watch/run'],
  ])('%s is %s', (_what, key, expected) => {
    expect(key).toBe(expected);
  });
});

describe('Parameter Store names', () => {
  // The names are a format: records written by the previous version are read under them after a deploy.
  it.each([
    ['health', healthName('prod'), '/pydio-autoscaler/prod/storage/health'],
    ['summary', summaryName('prod'), '/pydio-autoscaler/prod/storage/summary'],
    ['members', membersPath('prod'), '/pydio-autoscaler/prod/storage/members'],
    ['member', memberName('prod', instanceId), `/pydio-autoscaler/prod/storage/members/${instanceId}`],
  ])('%s is %s', (_what, name, expected) => {
    expect(name).toBe(expected);
  });
});

/** The parameter ARNs' paths a role of serverless.yml grants, as patterns for stage `prod`. */
function grantedPaths(template: string, role: string): RegExp[] {
  const lines = template.split('\n');
  const start = lines.findIndex((line) => line === `    ${role}:`);
  if (start < 0) throw new Error(`no role ${role} in serverless.yml`);
  const end = lines.findIndex((line, i) => i > start && /^ {4}[A-Z]\w*:$/.test(line));
  const block = lines.slice(start, end < 0 ? undefined : end).join('\n');
  return [...block.matchAll(/:parameter(\/pydio-autoscaler\/\$\{sls:stage\}[^'"\s]*)/g)].map((m) => {
    const pattern = (m[1] as string).replace('${sls:stage}', 'prod').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
    return new RegExp(`^${pattern}$`);
  });
}

describe('every name is granted to the roles that use it (serverless.yml)', () => {
  const template = fs.readFileSync(path.join(REPO_ROOT, 'serverless.yml'), 'utf8');
  const storageNames = [healthName('prod'), summaryName('prod'), membersPath('prod'), memberName('prod', instanceId)];

  it.each([
    ['StorageFunctionRole', storageNames],
    ['AlarmFunctionRole', [healthName('prod')]],
    ['StatusFunctionRole', [healthName('prod'), summaryName('prod'), membersPath('prod'), memberName('prod', instanceId)]],
    ['WatchFunctionRole', [healthName('prod')]],
  ])('%s', (role, names) => {
    const granted = grantedPaths(template, role);
    expect(granted.length).toBeGreaterThan(0);
    expect(names.filter((name) => !granted.some((pattern) => pattern.test(name)))).toEqual([]);
  });

  it('the lifecycle role is granted no Parameter Store record at all (its claims are in the coordination table)', () => {
    expect(grantedPaths(template, 'LifecycleFunctionRole')).toEqual([]);
  });
});

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, string[]>>;
}

/** The coordination table statements of a role: their actions and the key patterns (dynamodb:LeadingKeys) they allow. */
function tableGrants(role: string): { actions: string[]; keys: RegExp[] }[] {
  const template = yaml.load(fs.readFileSync(path.join(REPO_ROOT, 'serverless.yml'), 'utf8'), { schema: CFN_SCHEMA }) as {
    resources: { Resources: Record<string, { Properties: { Policies: { PolicyDocument: { Statement: Statement[] } }[] } }> };
  };
  // A statement under !If [condition, statement, AWS::NoValue] counts as granted.
  const statements = template.resources.Resources[role]!.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement)
    .map((st) => ('If' in st ? (st as unknown as { If: [unknown, Statement] }).If[1] : st))
    .filter((st): st is Statement => typeof st === 'object' && st !== null && 'Action' in st);
  return statements
    .filter((st) => JSON.stringify(st.Resource ?? '').includes('CoordinationTable'))
    .map((st) => ({
      actions: ([] as string[]).concat(st.Action),
      keys: (st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? []).map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`)),
    }));
}

/** Enough of CloudFormation's YAML tags to read serverless.yml (their values are kept as { tag: value }). */
const CFN_SCHEMA = yaml.DEFAULT_SCHEMA.extend(
  ['Ref', 'GetAtt', 'Sub', 'If', 'Equals', 'Not', 'And', 'Or', 'Condition', 'Select', 'Split', 'Join', 'FindInMap', 'GetAZs', 'Base64', 'Cidr', 'ImportValue'].flatMap((tag) =>
    (['scalar', 'sequence', 'mapping'] as const).map((kind) => new yaml.Type(`!${tag}`, { kind, construct: (data: unknown) => ({ [tag]: data }) })),
  ),
);

describe('every coordination key is granted to the role that uses it, and to no other (serverless.yml, dynamodb:LeadingKeys)', () => {
  const computeKeys = [lifecycleClaimKey(launch), lifecycleClaimKey(terminate), lifecycleCommandKey('cmd-1')];
  const storageKeys = [storageClaimKey(launch), storageClaimKey(terminate), storageCommandKey('cmd-1'), LOCK_KEY, BOOTSTRAP_KEY];
  const granted = (role: string, key: string) => tableGrants(role).some((g) => g.keys.some((k) => k.test(key)));

  it.each([
    ['LifecycleFunctionRole', computeKeys, storageKeys],
    ['StorageFunctionRole', storageKeys, computeKeys],
  ])('%s', (role, own, others) => {
    expect(own.filter((key) => !granted(role, key))).toEqual([]);
    expect(others.filter((key) => granted(role, key))).toEqual([]);
    // Every statement on the table is narrowed to keys: none grants the whole table.
    expect(tableGrants(role).every((g) => g.keys.length > 0)).toBe(true);
  });

  it('WatchFunctionRole writes only its own keys and only reads the flows\' claims (never the lock or the bootstrap record)', () => {
    const watchKeys = [WATCH_STATE_KEY, WATCH_RUN_KEY];
    const claims = [lifecycleClaimKey(launch), lifecycleClaimKey(terminate), storageClaimKey(launch), storageClaimKey(terminate)];
    const grantedFor = (key: string, action: string) => tableGrants('WatchFunctionRole').some((g) => g.actions.includes(action) && g.keys.some((k) => k.test(key)));
    for (const key of watchKeys) for (const action of ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem']) expect([key, action, grantedFor(key, action)]).toEqual([key, action, true]);
    for (const key of claims) {
      expect([key, grantedFor(key, 'dynamodb:GetItem')]).toEqual([key, true]);
      expect([key, grantedFor(key, 'dynamodb:PutItem') || grantedFor(key, 'dynamodb:DeleteItem')]).toEqual([key, false]);
    }
    for (const key of [LOCK_KEY, BOOTSTRAP_KEY]) expect([key, granted('WatchFunctionRole', key)]).toEqual([key, false]);
    for (const role of ['LifecycleFunctionRole', 'StorageFunctionRole']) expect(watchKeys.filter((key) => granted(role, key))).toEqual([]);
  });

  it.each(['AlarmFunctionRole', 'StatusFunctionRole'])('%s is granted nothing on the table', (role) => {
    expect(tableGrants(role)).toEqual([]);
  });
});
