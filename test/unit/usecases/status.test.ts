import type { GroupDescription } from '../../../lib/ports/autoscaling';
import type { RegisteredTarget } from '../../../lib/ports/elbv2';
import { parseStatusConfig } from '../../../lib/config/status';
import { MalformedEventError } from '../../../lib/errors';
import type { Log } from '../../../lib/logger';
import { checkStatusRequest, describeCluster, type StatusDeps } from '../../../lib/usecases/status';
import { storageNotDeployed } from '../../../lib/usecases/storage-not-deployed';
import type { StorageStatusPort } from '../../../lib/ports/storage';

const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pydio/0123456789abcdef';
const log = { debug: () => undefined, info: () => undefined, warn: jest.fn(), error: () => undefined } as unknown as Log;

const group = (name: string, states: string[]): GroupDescription => ({
  name, minSize: 1, maxSize: 4, desiredCapacity: states.length, targetGroupArns: [], availabilityZones: ['eu-west-1a'],
  instances: states.map((lifecycleState, i) => ({ instanceId: `i-0${i}`, availabilityZone: 'eu-west-1a', lifecycleState, healthStatus: 'Healthy', protectedFromScaleIn: false })),
});

function deps(over: Partial<StatusDeps> = {}, env: Record<string, string> = {}): StatusDeps {
  const groups = [group('pydio-compute', ['InService', 'Pending:Wait']), group('pydio-storage', ['InService', 'InService'])];
  const targets: RegisteredTarget[] = [{ instanceId: 'i-00', port: 80, state: 'healthy' }, { instanceId: 'i-01', port: 80, state: 'initial' }];
  return {
    config: parseStatusConfig({ STAGE: 'test', COMPUTE_ASG_NAME: 'pydio-compute', STORAGE_ASG_NAME: 'pydio-storage', TARGET_GROUP_ARN: TG, ...env }),
    autoScaling: { describeGroup: async (name) => groups.find((g) => g.name === name) },
    targets: { describeTargets: async () => targets },
    storage: storageNotDeployed,
    log,
    now: () => new Date('2026-11-21T10:00:00Z'),
    ...over,
  };
}

describe('describeCluster', () => {
  it('answers groups, instances with lifecycle states, targets with health, and storage not deployed', async () => {
    const status = await describeCluster(deps());
    expect(status).toMatchObject({
      stage: 'test',
      at: '2026-11-21T10:00:00.000Z',
      groups: {
        compute: { available: true, name: 'pydio-compute', desired: 2, lifecycleStates: { InService: 1, 'Pending:Wait': 1 } },
        storage: { available: true, name: 'pydio-storage', desired: 2 },
      },
      targets: { available: true, targetGroupArn: TG, healthy: 1, targets: [{ instanceId: 'i-00', state: 'healthy' }, { instanceId: 'i-01', state: 'initial' }] },
      storage: { available: false, reason: expect.stringContaining('not deployed') },
    });
    if (status.groups.compute.available) expect(status.groups.compute.instances.map((i) => i.lifecyclePending)).toEqual([false, true]);
    expect(JSON.parse(JSON.stringify(status))).toEqual(status); // plain JSON
  });

  it('has no storage group section when the stage has none', async () => {
    const status = await describeCluster(deps({}, { STORAGE_ASG_NAME: '' }));
    expect(status.groups.storage).toBeUndefined();
  });

  it('a part that cannot be read says why; the rest is still answered', async () => {
    const status = await describeCluster(deps({
      targets: { describeTargets: async () => { throw new Error('AccessDenied'); } },
      autoScaling: { describeGroup: async () => undefined },
    }));
    expect(status.targets).toEqual({ available: false, reason: 'target group could not be read: AccessDenied' });
    expect(status.groups.compute).toEqual({ available: false, reason: 'group pydio-compute does not exist' });
  });

  it('passes through what a storage status port reports', async () => {
    const storage: StorageStatusPort = {
      describeStorage: async () => ({ available: true, peers: [{ host: '10.0.1.10', state: 'connected' }], volumes: [], bricks: [], tasks: [{ volume: 'pydio-data', kind: 'rebalance', status: 'in progress' }] }),
    };
    const status = await describeCluster(deps({ storage }));
    expect(status.storage).toMatchObject({ available: true, tasks: [{ kind: 'rebalance' }] });
  });
});

describe('checkStatusRequest', () => {
  it.each([undefined, null, {}])('accepts %p', (event) => {
    expect(() => checkStatusRequest(event)).not.toThrow();
  });
  it.each([[{ group: 'x' }], ['text'], [[1]]])('refuses %p with a clear error', (event) => {
    expect(() => checkStatusRequest(event)).toThrow(MalformedEventError);
    expect(() => checkStatusRequest(event)).toThrow(/status takes no arguments/);
  });
});
