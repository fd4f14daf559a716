import { isSteady, type SandboxStatus } from '../../sandbox/sandbox';

const G = 'compute';

function status(opts: { inService: string[]; healthy: string[]; runningHosts: Array<[string, string]> }): SandboxStatus {
  return {
    groups: [],
    instances: opts.inService.map((instanceId) => ({ instanceId, groupName: G, role: 'compute', lifecycleState: 'InService', health: 'Healthy', availabilityZone: 'eu-west-1a', privateIp: '' })),
    targets: opts.healthy.map((instanceId) => ({ instanceId, port: 80, state: 'healthy' })),
    hosts: opts.runningHosts.map(([instanceId, role]) => ({ instanceId, role, ip: '', running: true })),
  };
}

describe('isSteady: n compute instances InService, each a healthy target, and no host left running for one the group forgot', () => {
  test.each<[string, Parameters<typeof status>[0], number, boolean]>([
    ['one InService, healthy, its host running', { inService: ['i-1'], healthy: ['i-1'], runningHosts: [['i-1', 'compute']] }, 1, true],
    ['the group forgot i-2 but its host is still stopping', { inService: ['i-1'], healthy: ['i-1'], runningHosts: [['i-1', 'compute'], ['i-2', 'compute']] }, 1, false],
    ['a storage host does not count', { inService: ['i-1'], healthy: ['i-1'], runningHosts: [['i-1', 'compute'], ['i-s', 'storage']] }, 1, true],
    ['a target still draining', { inService: ['i-1'], healthy: ['i-1', 'i-2'], runningHosts: [['i-1', 'compute']] }, 1, false],
    ['too few instances', { inService: ['i-1'], healthy: ['i-1'], runningHosts: [['i-1', 'compute']] }, 2, false],
    ['an instance not yet healthy', { inService: ['i-1', 'i-2'], healthy: ['i-1'], runningHosts: [['i-1', 'compute'], ['i-2', 'compute']] }, 2, false],
  ])('%s', (_what, s, n, want) => {
    expect(isSteady(status(s), G, n)).toBe(want);
  });

  test('an instance that is Pending is not steady', () => {
    const s = status({ inService: ['i-1'], healthy: ['i-1'], runningHosts: [['i-1', 'compute']] });
    expect(isSteady({ ...s, instances: s.instances.map((i) => ({ ...i, lifecycleState: 'Pending:Wait' })) }, G, 1)).toBe(false);
  });
});
