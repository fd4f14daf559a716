/** Boot phases "load balancer" and "hosts": HAProxy on 127.0.0.1, and the namespace hosts launched instances get (recorded, faults injected). */
import { freePort } from '../control-plane/moto';
import { TARGET_GROUP_HEALTH_CHECK, TARGET_GROUP_STICKINESS } from '../control-plane/aws-setup';
import type { HostProvider, LaunchedInstance } from '../control-plane/types';
import { SandboxError } from '../errors';
import { HaproxyDataPlane, NamespaceHosts } from '../hosts';
import type { HostScripts } from './host-state';
import type { SandboxSettings } from './settings';
import type { Started } from './teardown';

/** Gives namespace hosts to launched instances, records them, and applies injected host faults. */
export class RecordingHosts implements HostProvider {
  readonly launched: (LaunchedInstance & { at: number })[] = [];
  readonly terminated: { instanceId: string; at: number }[] = [];
  private fault: { removeFile: string } | undefined;

  constructor(
    private readonly hosts: NamespaceHosts,
    private readonly computeGroup: string,
    /** Runs after the host exists and before the lifecycle event (storage data disks). */
    private readonly afterLaunch?: (instance: LaunchedInstance) => Promise<void>,
  ) {}

  injectOnNextLaunch(fault: { removeFile: string }): void {
    if (!/^(\/[A-Za-z0-9._-]+)+$/.test(fault.removeFile) || fault.removeFile.includes('/../')) {
      throw new SandboxError(`fault removeFile must be an absolute path of [A-Za-z0-9._-] segments, got '${fault.removeFile}'`);
    }
    this.fault = fault;
  }

  async onInstanceLaunched(instance: LaunchedInstance): Promise<void> {
    await this.hosts.onInstanceLaunched(instance);
    if (this.afterLaunch !== undefined) await this.afterLaunch(instance);
    this.launched.push({ ...instance, at: Date.now() });
    const fault = this.fault;
    if (fault !== undefined && instance.groupName === this.computeGroup) {
      this.fault = undefined;
      // Before the lifecycle event is emitted: no document can have run yet.
      await this.hosts.exec(instance.instanceId, ['rm', '-f', '--', fault.removeFile], 30);
    }
  }

  async onInstanceTerminated(instanceId: string): Promise<void> {
    await this.hosts.onInstanceTerminated(instanceId);
    this.terminated.push({ instanceId, at: Date.now() });
  }
}

/** Phase "load balancer": HAProxy (and the bridge) up, listening on the asked port or a free one. */
export async function startLoadBalancer(settings: SandboxSettings): Promise<Started & { dataPlane: HaproxyDataPlane }> {
  const lbPort = settings.lbPort === 0 ? await freePort() : (settings.lbPort ?? 18080);
  const dataPlane = new HaproxyDataPlane({ ...settings.hostOptions, listeners: [{ port: lbPort, stickiness: TARGET_GROUP_STICKINESS }], healthCheck: TARGET_GROUP_HEALTH_CHECK, closeGraceSeconds: 10 });
  await dataPlane.start();
  return { dataPlane, teardowns: [{ what: 'HAProxy', stop: () => dataPlane.stop() }] };
}

/**
 * Phase "hosts": the namespace hosts of both groups, behind a recorder that storage data disks and injected
 * faults hook into. Its teardown runs after the control plane stopped and before the state dir's teardown:
 * a launch still in flight must not recreate its host and the bridge after teardown.
 */
export function createHosts(settings: SandboxSettings, dataPlane: HaproxyDataPlane, scripts: HostScripts): Started & { hosts: NamespaceHosts; recording: RecordingHosts } {
  const hosts = new NamespaceHosts({ [settings.computeGroup]: 'compute', [settings.storageGroup]: 'storage' }, { ...settings.hostOptions, agentRegistrationSeconds: settings.agentRegistrationSeconds }, dataPlane);
  const recording = new RecordingHosts(hosts, settings.computeGroup, scripts.hasDataDisks ? (instance) => scripts.attachDataDisk(instance) : undefined);
  return { hosts, recording, teardowns: [{ what: 'host operations in flight', stop: () => hosts.close() }] };
}
