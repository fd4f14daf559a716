import fs from 'node:fs';
import path from 'node:path';
import {
  bootstrapClaimName,
  healthName,
  lifecycleClaimName,
  lockName,
  memberName,
  membersPath,
  lifecycleHoldKey,
  storageClaimName,
  storageLifecycleHoldKey,
  summaryName,
  WATCH_RUN_KEY,
  WATCH_STATE_KEY,
} from '../../../lib/core/records';
import { REPO_ROOT } from '../source-imports';

const action = { instanceId: 'i-0123456789abcdef0', token: 'c1d2e3f4-0000-4000-8000-000000000000' };

describe('Parameter Store names', () => {
  // The names are a format: claims of actions in flight and records written by the
  // previous version are read under them after a deploy.
  it.each([
    ['lifecycle claim', lifecycleClaimName('prod', action), `/pydio-autoscaler/prod/lifecycle/${action.instanceId}/${action.token}`],
    ['storage claim', storageClaimName('prod', action), `/pydio-autoscaler/prod/storage/lifecycle/${action.instanceId}/${action.token}`],
    ['lock', lockName('prod'), '/pydio-autoscaler/prod/storage/lock'],
    ['bootstrap claim', bootstrapClaimName('prod'), '/pydio-autoscaler/prod/storage/bootstrap'],
    ['health', healthName('prod'), '/pydio-autoscaler/prod/storage/health'],
    ['summary', summaryName('prod'), '/pydio-autoscaler/prod/storage/summary'],
    ['members', membersPath('prod'), '/pydio-autoscaler/prod/storage/members'],
    ['member', memberName('prod', action.instanceId), `/pydio-autoscaler/prod/storage/members/${action.instanceId}`],
  ])('%s is %s', (_what, name, expected) => {
    expect(name).toBe(expected);
  });
});

describe('coordination store keys', () => {
  // Keyed by transition, not token: the watch reads whether a flow holds an instance's waiting action.
  it.each([
    ['compute launch hold', lifecycleHoldKey(action.instanceId, 'launch'), `lifecycle/${action.instanceId}/launch`],
    ['compute terminate hold', lifecycleHoldKey(action.instanceId, 'terminate'), `lifecycle/${action.instanceId}/terminate`],
    ['storage launch hold', storageLifecycleHoldKey(action.instanceId, 'launch'), `storage/lifecycle/${action.instanceId}/launch`],
    ['watch state', WATCH_STATE_KEY, 'watch/state'],
    ['watch run', WATCH_RUN_KEY, 'watch/run'],
  ])('%s is %s', (_what, key, expected) => {
    expect(key).toBe(expected);
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
  const storageNames = [
    storageClaimName('prod', action), lockName('prod'), bootstrapClaimName('prod'), healthName('prod'),
    summaryName('prod'), membersPath('prod'), memberName('prod', action.instanceId),
  ];

  it.each([
    ['LifecycleFunctionRole', [lifecycleClaimName('prod', action)]],
    ['StorageFunctionRole', storageNames],
    ['AlarmFunctionRole', [healthName('prod')]],
    ['StatusFunctionRole', [healthName('prod'), summaryName('prod'), membersPath('prod'), memberName('prod', action.instanceId)]],
  ])('%s', (role, names) => {
    const granted = grantedPaths(template, role);
    expect(granted.length).toBeGreaterThan(0);
    expect(names.filter((name) => !granted.some((pattern) => pattern.test(name)))).toEqual([]);
  });

  it('the lifecycle role is granted no storage record', () => {
    const granted = grantedPaths(template, 'LifecycleFunctionRole');
    expect(storageNames.filter((name) => granted.some((pattern) => pattern.test(name)))).toEqual([]);
  });
});
