/** Boot phases on the machine's state: prerequisites and a previous run's leftovers, then the host scripts and the teardowns of what they record. */
import fs from 'node:fs';
import path from 'node:path';
import type { LaunchedInstance } from '../control-plane/types';
import { SandboxError } from '../errors';
import { BIN_DIR, checkSandboxPrerequisites, runProcess, teardownSandbox } from '../hosts';
import { STORAGE_DATA_DEVICE, type SandboxSettings } from './settings';
import type { Started, Teardown } from './teardown';

/** Phase "prerequisites and leftovers": refuses a machine the sandbox cannot run on, then removes what an interrupted run with the same state dir left. */
export async function clearLeftovers(settings: SandboxSettings): Promise<void> {
  await checkSandboxPrerequisites();
  // Leftovers of an interrupted run with the same state dir (hosts, HAProxy, bridge).
  await teardownSandbox(settings.hostOptions);
}

/** The scripts of bin/ that act on hosts outside the HostProvider seam: storage data disks, a host crash, the storage boot on data disks. */
export class HostScripts {
  private readonly diskDir: string;
  private readonly diskScript = path.join(BIN_DIR, 'storage-disk.sh');
  private storageBooted = false;
  private preformatMarker: string | undefined;

  constructor(private readonly settings: SandboxSettings) {
    this.diskDir = `${settings.hostOptions.stateDir}-disks`;
  }

  /** The environment every host script runs with: the state dir and bridge of this sandbox. */
  env(): Record<string, string> {
    const { stateDir, bridge, bridgeCidr } = this.settings.hostOptions;
    return { ...(process.env as Record<string, string>), PAS_STATE_DIR: stateDir, PAS_BRIDGE: bridge, PAS_BRIDGE_CIDR: bridgeCidr };
  }

  /** Whether launched storage hosts get a data disk (the storageDataDiskMiB option). */
  get hasDataDisks(): boolean {
    return this.settings.dataDiskMiB !== undefined;
  }

  /** From now on every storage host launched gets a data disk (the boot members got theirs only with storageBootDisks). */
  markStorageBooted(): void {
    this.storageBooted = true;
  }

  /** The next storage host's data disk is ext4 holding /pas-marker with `marker`. */
  preformatNext(marker: string): void {
    if (this.settings.dataDiskMiB === undefined) throw new SandboxError('preformatNextStorageDisk needs the storageDataDiskMiB option (no storage data disks otherwise)');
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(marker)) throw new SandboxError(`preformat marker must be 1-64 of [A-Za-z0-9._-], got '${marker}'`);
    this.preformatMarker = marker;
  }

  /** Runs after a host exists and before its lifecycle event: a storage host's data disk, blank or preformatted. */
  async attachDataDisk(instance: LaunchedInstance): Promise<void> {
    const dataDiskMiB = this.settings.dataDiskMiB;
    if (dataDiskMiB === undefined) return;
    if (instance.groupName !== this.settings.storageGroup || (!this.storageBooted && !this.settings.bootDisks)) return;
    const marker = this.preformatMarker;
    this.preformatMarker = undefined;
    const preformat = marker === undefined ? [] : ['--preformat-ext4', marker];
    const r = await runProcess('bash', [this.diskScript, 'attach', instance.instanceId, String(dataDiskMiB), this.diskDir, ...preformat], this.env(), 60);
    if (r.exitCode !== 0) throw new SandboxError(`storage-disk.sh attach ${instance.instanceId} failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  }

  /** A ModifyVolume reached its new size: the storage host's loop disk grows first, as EBS would. */
  async growDataDisk(instanceId: string, sizeGiB: number): Promise<void> {
    // Only storage hosts have a disk behind their volume; other volumes just change size in moto.
    if (!fs.existsSync(path.join(this.diskDir, `${instanceId}.loop`))) return;
    const r = await runProcess('bash', [this.diskScript, 'grow', instanceId, String(sizeGiB * 1024), this.diskDir], this.env(), 60);
    if (r.exitCode !== 0) throw new SandboxError(`storage-disk.sh grow ${instanceId} failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  }

  async detachDataDisks(): Promise<void> {
    const r = await runProcess('bash', [this.diskScript, 'detach', this.diskDir], this.env(), 60);
    if (r.exitCode !== 0) throw new SandboxError(`storage-disk.sh detach failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  }

  /** The two boot storage hosts, bricks on their data disks (XFS at /bricks) instead of /srv/gluster. */
  async bootStorageOnDataDisks(storageIds: readonly string[]): Promise<void> {
    const r = await runProcess('bash', [path.join(BIN_DIR, 'storage-boot.sh'), ...storageIds], { ...this.env(), PAS_BRICK_DEVICE: STORAGE_DATA_DEVICE, PAS_BRICK_ROOT: '/bricks' }, 180);
    if (r.exitCode !== 0) throw new SandboxError(`storage-boot.sh with boot disks failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }

  /** Every process of the host killed, then its network gone (`bin/host-crash.sh`). */
  async crashHost(instanceId: string): Promise<void> {
    const crash = await runProcess('bash', [path.join(BIN_DIR, 'host-crash.sh'), instanceId], this.env(), 60);
    if (crash.exitCode !== 0) throw new SandboxError(`host-crash.sh ${instanceId} failed: ${crash.stderr.trim().split('\n').pop() ?? ''}`);
  }
}

/**
 * Phase "host state": nothing starts here. What the host scripts will create is recorded in the state dir,
 * so its teardown is armed before the first script runs: hosts, HAProxy and bridge first, then the
 * storage data disks (the hosts' mount namespaces hold their XFS mounts).
 */
export function prepareHostScripts(settings: SandboxSettings): Started & { scripts: HostScripts } {
  const scripts = new HostScripts(settings);
  const teardowns: Teardown[] = [];
  if (scripts.hasDataDisks) teardowns.push({ what: 'storage data disks', stop: () => scripts.detachDataDisks() });
  // The hosts and the load balancer are one teardown (recorded in the state dir).
  teardowns.push({ what: 'hosts, HAProxy and bridge', stop: () => teardownSandbox(settings.hostOptions) });
  return { scripts, teardowns };
}
