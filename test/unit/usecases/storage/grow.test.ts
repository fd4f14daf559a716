import {
  DeleteParameterCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { createVolumePort, type Ec2Call } from '../../../../lib/aws/ec2-volumes';
import type { EbsVolume, VolumeModification, VolumePort } from '../../../../lib/ports/ec2-volumes';
import { createNotifierPort } from '../../../../lib/aws/sns';
import { createSsmPort } from '../../../../lib/aws/ssm';
import type { CommandInvocation, SendCommandInput } from '../../../../lib/ports/ssm';
import { parseXml } from '../../../../lib/core/storage/xml';
import { STATUS_STEPS } from '../../../../lib/core/storage/status-frame';
import { parseConfig } from '../../../../lib/config/compute';
import { AwsCallError, ConfigurationError } from '../../../../lib/errors';
import { parseStorageConfig, readOnlyDocuments } from '../../../../lib/config/storage';
import type { StorageDeps } from '../../../../lib/usecases/storage/cluster';
import { leastGrownBytes, parseGrowReport } from '../../../../lib/core/storage/grow';
import { handleStorageInvoke } from '../../../../lib/usecases/storage/invoke';
import { parseStorageRequest } from '../../../../lib/usecases/storage/requests';
import { encodeStorageRequest, type StorageRequest } from '../../../../lib/core/storage/flow-state';
import { awsError, recordingLog } from '../../aws/helpers';
import { A, B, FakeStorage, GiB, STORAGE_ENV, type FakeNode } from './fake-storage';

/**
 * Grow in place through the storage flow: the fake storage tier of
 * fake-storage.ts plus EBS volumes (one per member at /dev/sdf) behind the
 * VolumePort, and storage-grow-brick executed against the model (the file
 * system takes the volume's size; a volume not grown fails with exit 3).
 * Gluster reports each brick at its file system's size.
 */
const GROW_ENV = { STORAGE_GROW_IN_PLACE: 'preferred', STORAGE_GROW_TO_GIB: '200', DOC_STORAGE_GROW_BRICK: 'doc-grow-brick' };

interface FakeEbs { volumeId: string; sizeGiB: number; modifications: Array<VolumeModification & { reads: number }> }

class GrowCloud extends FakeStorage {
  public readonly ebs = new Map<string, FakeEbs>();
  /** Brick file system size per host (bytes); diskBytes when unset. */
  public readonly fsBytes = new Map<string, number>();
  /** Reads of a modification while it stays "modifying". */
  public modifyingReads = 2;
  public failModification?: string;
  public modifyError?: AwsCallError;
  /** storage-grow-brick leaves the file system as it is (a device that did not grow it). */
  public growfsStuck = false;
  public readonly ec2Calls: string[] = [];
  private readonly growCommands = new Map<string, { input: SendCommandInput; result?: CommandInvocation }>();
  private growId = 0;

  public attachVolumes(nodes: FakeNode[], sizeGiB = 100): void {
    for (const [i, n] of nodes.entries()) this.ebs.set(n.instanceId, { volumeId: `vol-0000000000000000${i + 1}`, sizeGiB, modifications: [] });
  }

  private byVolume(volumeId: string): [string, FakeEbs] {
    const found = [...this.ebs.entries()].find(([, v]) => v.volumeId === volumeId);
    if (!found) throw Object.assign(new AwsCallError('DescribeVolumes', `InvalidVolume.NotFound: ${volumeId}`), { code: 'InvalidVolume.NotFound' });
    return found;
  }

  private describeEbs(instanceId: string, v: FakeEbs): EbsVolume {
    return { volumeId: v.volumeId, sizeGiB: v.sizeGiB, state: 'in-use', zone: A, volumeType: 'gp3', attachments: [{ instanceId, device: '/dev/sdf', state: 'attached' }] };
  }

  public readonly volumesPort: VolumePort = {
    findAttachedVolume: async (instanceId, device) => {
      this.ec2Calls.push(`DescribeVolumes ${instanceId} ${device}`);
      const v = device === '/dev/sdf' ? this.ebs.get(instanceId) : undefined;
      return v ? this.describeEbs(instanceId, v) : undefined;
    },
    describeVolume: async (volumeId) => {
      const [instanceId, v] = this.byVolume(volumeId);
      return this.describeEbs(instanceId, v);
    },
    modifyVolumeSize: async (volumeId, sizeGiB) => {
      this.ec2Calls.push(`ModifyVolume ${volumeId} ${sizeGiB}`);
      if (this.modifyError) throw this.modifyError;
      const [, v] = this.byVolume(volumeId);
      const m = { volumeId, state: 'modifying' as const, targetSizeGiB: sizeGiB, originalSizeGiB: v.sizeGiB, progress: 0, startTime: this.now.toISOString(), reads: 0 };
      v.modifications.push(m);
      return { ...m };
    },
    latestModification: async (volumeId) => {
      const [, v] = this.byVolume(volumeId);
      const m = v.modifications.at(-1);
      if (!m) return undefined;
      m.reads += 1;
      if (m.state === 'modifying' && m.reads > this.modifyingReads) {
        if (this.failModification) Object.assign(m, { state: 'failed', statusMessage: this.failModification });
        else {
          Object.assign(m, { state: 'optimizing', progress: 50 });
          v.sizeGiB = m.targetSizeGiB;
        }
      }
      const { reads: _reads, ...out } = m;
      return out;
    },
  };

  public override statusBundle(on: FakeNode, wanted: readonly string[]): string {
    let out = super.statusBundle(on, wanted);
    for (const [host, bytes] of this.fsBytes) {
      const node = new RegExp(`(<hostname>${host.replace(/\./g, '\\.')}</hostname>[\\s\\S]*?<sizeTotal>)(\\d+)(</sizeTotal>\\s*<sizeFree>)(\\d+)`, 'g');
      out = out.replace(node, (_m, a: string, total: string, b: string, free: string) => `${a}${bytes}${b}${Number(free) + bytes - Number(total)}`);
    }
    return out;
  }

  private runGrow(input: SendCommandInput): CommandInvocation {
    const node = this.node(input.instanceId);
    const v = this.ebs.get(node.instanceId);
    const expect = Number(input.parameters.ExpectBytes);
    const device = (v?.sizeGiB ?? 0) * GiB;
    const before = this.fsBytes.get(node.ip) ?? this.diskBytes;
    if (device < expect) {
      return { status: 'Failed', exitCode: 3, stdout: '', stderr: `storage-grow-brick[size]: ERROR: /dev/nvme1n1 did not grow: it is ${device} bytes, the volume was grown to ${expect}` };
    }
    const after = this.growfsStuck ? before : device;
    this.fsBytes.set(node.ip, after);
    return { status: 'Success', exitCode: 0, stdout: `grow-brick device=/dev/nvme1n1 device_bytes=${device} fs_bytes_before=${before} fs_bytes_after=${after} grown=${after > before ? 'yes' : 'no'}\n`, stderr: '' };
  }

  public override deps(env: Record<string, string> = {}): StorageDeps {
    const base = super.deps({ ...GROW_ENV, ...env });
    const ssm: StorageDeps['ssm'] = {
      ...base.ssm,
      sendCommand: async (input) => {
        if (input.documentName !== 'doc-grow-brick') return base.ssm.sendCommand(input);
        const id = `grow-${++this.growId}`;
        this.calls.push({ op: 'sendCommand', args: input });
        this.growCommands.set(id, { input });
        return id;
      },
      getInvocation: async (commandId, instanceId, report) => {
        const command = this.growCommands.get(commandId);
        if (!command) return base.ssm.getInvocation(commandId, instanceId, report);
        command.result ??= this.runGrow(command.input);
        return command.result;
      },
    };
    return { ...base, ssm, volumes: this.volumesPort };
  }
}

const request = (over: Partial<StorageRequest> = {}) =>
  encodeStorageRequest({ action: 'expand', volume: 'pydio-data', sets: 1, allowSameZone: false, dryRun: false, reason: 'test', ...over });

function twoMembers(): { cloud: GrowCloud; m1: FakeNode; m2: FakeNode } {
  const cloud = new GrowCloud();
  const m1 = cloud.addNode(A);
  const m2 = cloud.addNode(B);
  cloud.cluster([m1, m2], undefined, undefined, 'quorum');
  cloud.attachVolumes([m1, m2]);
  return { cloud, m1, m2 };
}

const ofType = (cloud: FakeStorage, type: string) => cloud.notifications.filter((n) => n.eventType === type);

// --- the stage-wide dry run (DRY_RUN=true) --------------------------------------------------

/**
 * DRY_RUN=true builds every adapter with dryRun (lib/usecases/context.ts). So
 * that the fake cloud sees exactly what the real adapters would send, these
 * tests put the REAL adapters in front of it: createVolumePort over an EC2
 * transport answering from the model, createSsmPort over an SSM client that
 * hands each command to the fake's ports, createNotifierPort over an SNS
 * client that records what is published. Whatever reaches the fake reached
 * AWS; whatever the adapters swallowed (and logged as "dry run: would ...")
 * did not.
 */
interface Published { readonly subject: string; readonly body: string; readonly eventType: string }

const volumeXml = (v: EbsVolume) => `<item><volumeId>${v.volumeId}</volumeId><size>${v.sizeGiB}</size><availabilityZone>${v.zone}</availabilityZone><status>${v.state}</status>`
  + `<attachmentSet>${v.attachments.map((a) => `<item><volumeId>${v.volumeId}</volumeId><instanceId>${a.instanceId}</instanceId><device>${a.device}</device><status>${a.state}</status></item>`).join('')}</attachmentSet>`
  + `<volumeType>${v.volumeType}</volumeType></item>`;
const modificationXml = (tag: string, m: VolumeModification) => `<${tag}><volumeId>${m.volumeId}</volumeId><modificationState>${m.state}</modificationState><targetSize>${m.targetSizeGiB}</targetSize>`
  + `${m.originalSizeGiB !== undefined ? `<originalSize>${m.originalSizeGiB}</originalSize>` : ''}${m.progress !== undefined ? `<progress>${m.progress}</progress>` : ''}`
  + `${m.startTime ? `<startTime>${m.startTime}</startTime>` : ''}</${tag}>`;

/** The EC2 Query API over the fake's volumes: every action that reaches it is listed in `wire`. */
function ec2Wire(cloud: GrowCloud, wire: string[]): Ec2Call {
  const answer = (action: string, inner: string) => parseXml(`<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId>${inner}</${action}Response>`, `${action} answer`);
  return async (action, params) => {
    wire.push(action);
    const p = new Map(params);
    switch (action) {
      case 'DescribeVolumes': {
        const id = p.get('VolumeId.1');
        const found = id ? await cloud.volumesPort.describeVolume(id) : await cloud.volumesPort.findAttachedVolume(p.get('Filter.1.Value.1') ?? '', p.get('Filter.2.Value.1') ?? '');
        return answer(action, `<volumeSet>${found ? volumeXml(found) : ''}</volumeSet>`);
      }
      case 'DescribeVolumesModifications': {
        const m = await cloud.volumesPort.latestModification(p.get('VolumeId.1') ?? '');
        if (!m) throw Object.assign(new AwsCallError(action, 'InvalidVolumeModification.NotFound: never modified'), { code: 'InvalidVolumeModification.NotFound' });
        return answer(action, `<volumeModificationSet>${modificationXml('item', m)}</volumeModificationSet>`);
      }
      case 'ModifyVolume':
        return answer(action, modificationXml('volumeModification', await cloud.volumesPort.modifyVolumeSize(p.get('VolumeId') ?? '', Number(p.get('Size')))));
      default:
        throw new Error(`the fake EC2 does not know ${action}`);
    }
  };
}

/**
 * An SSMClient whose commands go to the fake's SSM port (the only way anything
 * reaches the fake). `steps` names a command's document steps, as AWS lists them.
 */
function ssmWire(ssm: StorageDeps['ssm'], steps: (commandId: string) => readonly string[] = () => ['main']): SSMClient {
  const send = async (command: unknown): Promise<unknown> => {
    if (command instanceof DescribeInstanceInformationCommand) {
      const agents = await ssm.describeManagedInstances(command.input.InstanceInformationFilterList?.[0]?.valueSet ?? []);
      return { InstanceInformationList: agents.map((a) => ({ InstanceId: a.instanceId, PingStatus: a.online ? 'Online' : 'ConnectionLost', ...(a.ipAddress ? { IPAddress: a.ipAddress } : {}) })) };
    }
    if (command instanceof SendCommandCommand) {
      const i = command.input;
      const parameters = Object.fromEntries(Object.entries(i.Parameters ?? {}).map(([k, v]) => [k, v[0] ?? '']));
      const id = await ssm.sendCommand({ documentName: i.DocumentName ?? '', instanceId: i.InstanceIds?.[0] ?? '', parameters, timeoutSeconds: i.TimeoutSeconds ?? 0, comment: i.Comment ?? '' });
      return { Command: { CommandId: id } };
    }
    // Every step of a command shares its status; a one-step document's step is called 'main'.
    if (command instanceof ListCommandInvocationsCommand) {
      const { CommandId = '', InstanceId = '' } = command.input;
      const r = await ssm.getInvocation(CommandId, InstanceId);
      const plugins = steps(CommandId).map((Name) => ({ Name, Status: r.status, ResponseCode: r.exitCode }));
      return { CommandInvocations: [{ CommandId, InstanceId, Status: r.status, CommandPlugins: plugins }] };
    }
    if (command instanceof GetCommandInvocationCommand) {
      const { CommandId = '', InstanceId = '', PluginName } = command.input;
      const names = steps(CommandId);
      if (PluginName === undefined || !names.includes(PluginName)) throw awsError('InvalidPluginName', `no step ${String(PluginName)}`);
      const r = await ssm.getInvocation(CommandId, InstanceId, names.length > 1 ? PluginName : undefined);
      return { Status: r.status, ResponseCode: r.exitCode, StandardOutputContent: r.stdout, StandardErrorContent: r.stderr };
    }
    if (command instanceof PutParameterCommand) {
      const { Name = '', Value = '', Overwrite } = command.input;
      if (!Overwrite) throw new Error(`the fake SSM takes no PutParameter without Overwrite (${Name}): claims live in the coordination table`);
      return ssm.putParameter(Name, Value).then(() => ({}));
    }
    if (command instanceof GetParameterCommand) {
      const value = await ssm.getParameter(command.input.Name ?? '');
      if (value === undefined) throw awsError('ParameterNotFound', 'not found');
      return { Parameter: { Value: value } };
    }
    if (command instanceof DeleteParameterCommand) return ssm.deleteParameter(command.input.Name ?? '').then(() => ({}));
    if (command instanceof GetParametersByPathCommand) {
      return { Parameters: (await ssm.listParameters(command.input.Path ?? '')).map((x) => ({ Name: x.name, Value: x.value })) };
    }
    throw new Error(`the fake SSM does not know ${String((command as object).constructor.name)}`);
  };
  return { send } as unknown as SSMClient;
}

function snsWire(published: Published[]): SNSClient {
  const send = async (command: PublishCommand): Promise<unknown> => {
    const { Subject = '', Message = '', MessageAttributes = {} } = command.input;
    published.push({ subject: Subject, body: Message, eventType: MessageAttributes.eventType?.StringValue ?? '' });
    return { MessageId: 'm-1' };
  };
  return { send } as unknown as SNSClient;
}

/**
 * The storage function of a stage with DRY_RUN=true, as buildStorageDeps wires
 * it, over the fake: the SSM adapter in dry run with the storage tier's
 * read-only documents (the Gluster status read still reaches the cluster).
 */
function dryRunStage(cloud: GrowCloud): { deps: StorageDeps; ec2: string[]; published: Published[]; log: ReturnType<typeof recordingLog> } {
  const base = cloud.deps({ DRY_RUN: 'true' });
  expect(base.config.dryRun).toBe(true);
  const log = recordingLog();
  const ec2: string[] = [];
  const published: Published[] = [];
  const steps = (commandId: string): readonly string[] => (cloud.commands.get(commandId)?.input.documentName === base.storage.documents.glusterStatus ? STATUS_STEPS : ['main']);
  const ssm = createSsmPort(ssmWire(base.ssm, steps), { dryRun: true, log }, readOnlyDocuments(base.storage));
  const deps: StorageDeps = {
    ...base,
    ssm,
    volumes: createVolumePort(ec2Wire(cloud, ec2), { dryRun: true, log }),
    notifier: createNotifierPort(snsWire(published), base.config.topicArn, { dryRun: true, log }),
  };
  return { deps, ec2, published, log };
}

const dryRunLines = (log: ReturnType<typeof recordingLog>, operation: string) => log.infos.filter(([message]) => message === `dry run: would ${operation}`).map(([, extra]) => extra);

describe('grow in place through the expand flow', () => {
  it('enlarges both volumes of the set, waits for optimizing, grows each XFS, verifies, and does not rebalance', async () => {
    // Prepare
    const { cloud, m1, m2 } = twoMembers();
    cloud.enqueue(request(), 0);
    // Act
    const outcomes = await cloud.drain();
    // Assess
    expect(outcomes.at(-1)).toBe('completed');
    expect(cloud.ec2Calls.filter((c) => c.startsWith('ModifyVolume'))).toEqual(['ModifyVolume vol-00000000000000001 200', 'ModifyVolume vol-00000000000000002 200']);
    expect(cloud.sent('doc-grow-brick').map((i) => [i.instanceId, i.parameters])).toEqual([
      [m1.instanceId, { BrickRoot: '/bricks', ExpectBytes: String(200 * GiB) }],
      [m2.instanceId, { BrickRoot: '/bricks', ExpectBytes: String(200 * GiB) }],
    ]);
    // The documents ran only once the modifications were optimizing.
    expect(outcomes.filter((o) => o === 'waiting').length).toBeGreaterThanOrEqual(2);
    expect(cloud.fsBytes.get(m1.ip)).toBe(200 * GiB);
    expect(cloud.glusterActions()).toEqual([]);
    expect(cloud.ops()).not.toContain('setDesiredCapacity');
    const planned = ofType(cloud, 'storage.planned')[0]!;
    expect(planned.subject).toContain('expansion planned (grow-in-place)');
    expect(planned.body).toContain('the stage prefers growing in place');
    const done = ofType(cloud, 'storage.succeeded')[0]!;
    expect(done.body).toContain('No rebalance');
    expect(done.body).toContain(`${m1.instanceId} (${m1.ip}): vol-00000000000000001 100 -> 200 GiB, XFS 100 GiB -> 200 GiB; Gluster reports 200 GiB`);
    expect(done.body).toMatch(/Gluster reports 200(\.0)? GiB/);
    expect(cloud.coordination.items.has('storage/lock')).toBe(false);
  });

  it('a request may ask for grow-in-place when the stage only allows it; without asking it adds bricks', async () => {
    const { cloud } = twoMembers();
    const deps = cloud.deps({ STORAGE_GROW_IN_PLACE: 'allowed' });
    cloud.enqueue(request({ strategy: 'grow-in-place' }), 0);
    expect((await cloud.drain(deps)).at(-1)).toBe('completed');
    expect(cloud.ec2Calls.filter((c) => c.startsWith('ModifyVolume'))).toHaveLength(2);

    const other = twoMembers().cloud;
    other.enqueue(request({ dryRun: true }), 0);
    await other.drain(other.deps({ STORAGE_GROW_IN_PLACE: 'allowed' }));
    expect(ofType(other, 'storage.planned')[0]!.subject).toContain('(add-bricks)');
    expect(other.ec2Calls).toEqual([]);
  });

  it('refuses grow-in-place asked for on a stage where it is off', async () => {
    const { cloud } = twoMembers();
    cloud.enqueue(request({ strategy: 'grow-in-place' }), 0);
    await cloud.drain(cloud.deps({ STORAGE_GROW_IN_PLACE: 'off' }));
    expect(ofType(cloud, 'storage.refused')[0]!.body).toContain('grow-in-place was asked for but is not enabled');
    expect(cloud.ec2Calls).toEqual([]);
  });

  it('does not modify a volume already at the size (a re-delivered flow), and still grows its file system', async () => {
    const { cloud, m1 } = twoMembers();
    cloud.ebs.get(m1.instanceId)!.sizeGiB = 200;
    cloud.enqueue(request(), 0);
    expect((await cloud.drain()).at(-1)).toBe('completed');
    expect(cloud.ec2Calls.filter((c) => c.startsWith('ModifyVolume'))).toEqual(['ModifyVolume vol-00000000000000002 200']);
    expect(cloud.sent('doc-grow-brick')).toHaveLength(2);
  });

  it('does not send a second ModifyVolume for a modification already under way (a delivery lost after sending it)', async () => {
    const { cloud, m2 } = twoMembers();
    const v = cloud.ebs.get(m2.instanceId)!;
    v.modifications.push({ volumeId: v.volumeId, state: 'modifying', targetSizeGiB: 200, originalSizeGiB: 100, progress: 10, startTime: cloud.now.toISOString(), reads: 0 });
    cloud.enqueue(request(), 0);
    expect((await cloud.drain()).at(-1)).toBe('completed');
    expect(cloud.ec2Calls.filter((c) => c.startsWith('ModifyVolume'))).toEqual(['ModifyVolume vol-00000000000000001 200']);
    expect(ofType(cloud, 'storage.succeeded')[0]!.body).toContain(`${m2.instanceId} (${m2.ip}): vol-00000000000000002 100 -> 200 GiB`);
  });

  it('fails clearly, releasing the lock, when EC2 reports the modification failed', async () => {
    const { cloud } = twoMembers();
    cloud.failModification = 'Volume size exceeds the account limit';
    cloud.enqueue(request(), 0);
    expect((await cloud.drain()).at(-1)).toBe('failed');
    const failed = ofType(cloud, 'storage.failed')[0]!;
    expect(failed.subject).toContain('await-volumes');
    expect(failed.body).toContain('failed: Volume size exceeds the account limit');
    expect(cloud.sent('doc-grow-brick')).toEqual([]);
    expect(cloud.coordination.items.has('storage/lock')).toBe(false);
  });

  it('fails naming the device when no EBS volume is attached there', async () => {
    const { cloud, m2 } = twoMembers();
    cloud.ebs.delete(m2.instanceId);
    cloud.enqueue(request(), 0);
    expect((await cloud.drain()).at(-1)).toBe('failed');
    expect(ofType(cloud, 'storage.failed')[0]!.body).toContain(`no EBS volume is attached to ${m2.instanceId} (${m2.ip}) at /dev/sdf: check STORAGE_BRICK_EBS_DEVICE`);
  });

  it('turns a final EC2 refusal of ModifyVolume into a failure with EC2 words', async () => {
    const { cloud } = twoMembers();
    cloud.modifyError = Object.assign(new AwsCallError('ModifyVolume', 'VolumeModificationRateExceeded: wait at least 6 hours between modifications per EBS volume'), { code: 'VolumeModificationRateExceeded' });
    cloud.enqueue(request(), 0);
    expect((await cloud.drain()).at(-1)).toBe('failed');
    expect(ofType(cloud, 'storage.failed')[0]!.body).toContain('wait at least 6 hours');
  });

  it('fails when the member says its device did not grow (exit 3), with its output', async () => {
    const { cloud, m1 } = twoMembers();
    cloud.modifyingReads = 0;
    // The volume shows the new size to EC2 but the member's device does not.
    const origLatest = cloud.volumesPort.latestModification;
    (cloud.volumesPort as { latestModification: VolumePort['latestModification'] }).latestModification = async (id) => {
      const m = await origLatest(id);
      if (id === 'vol-00000000000000001') cloud.ebs.get(m1.instanceId)!.sizeGiB = 100;
      return m;
    };
    cloud.enqueue(request(), 0);
    expect((await cloud.drain()).at(-1)).toBe('failed');
    const failed = ofType(cloud, 'storage.failed')[0]!;
    expect(failed.subject).toContain('grow-filesystems');
    expect(failed.body).toContain('did not grow');
  });

  it('fails when Gluster still reports the old brick size after the grow', async () => {
    const { cloud } = twoMembers();
    cloud.growfsStuck = true;
    cloud.enqueue(request(), 0);
    expect((await cloud.drain()).at(-1)).toBe('failed');
    const failed = ofType(cloud, 'storage.failed')[0]!;
    expect(failed.subject).toContain('verify-grown');
    expect(failed.body).toMatch(/has 100 GiB, expected at least 196 GiB/);
  });

  it('a dry-run invoke plans with the stage preference (or the strategy asked for) and changes nothing', async () => {
    const { cloud } = twoMembers();
    const preferred = await handleStorageInvoke({ volume: 'pydio-data', sets: 1, dryRun: true }, cloud.deps(), 'req-1');
    expect(JSON.stringify(preferred)).toContain('"strategy":"grow-in-place"');
    const asked = await handleStorageInvoke({ volume: 'pydio-data', sets: 1, dryRun: true, strategy: 'add-bricks' }, cloud.deps(), 'req-2');
    expect(JSON.stringify(asked)).toContain('"strategy":"add-bricks"');
    expect(cloud.ec2Calls).toEqual([]);
  });

  it('a dry-run request plans and changes nothing', async () => {
    const { cloud } = twoMembers();
    cloud.enqueue(request({ dryRun: true }), 0);
    await cloud.drain();
    expect(ofType(cloud, 'storage.planned')[0]!.body).toContain('Dry run: nothing was changed.');
    expect(cloud.ec2Calls).toEqual([]);
    expect(cloud.sent('doc-grow-brick')).toEqual([]);
  });

  it('gives up waiting for optimizing after the grow timeout', async () => {
    const { cloud } = twoMembers();
    cloud.modifyingReads = 10_000;
    cloud.enqueue(request(), 0);
    expect((await cloud.drain(cloud.deps({ STORAGE_GROW_TIMEOUT_SECONDS: '120' }), 2000)).at(-1)).toBe('failed');
    expect(ofType(cloud, 'storage.failed')[0]!.body).toMatch(/EBS modifications not optimizing after \d+s \(bound 120s\): vol-00000000000000001 modifying 0%/);
  });
});

describe('grow in place under dry run', () => {
  const LOCK = 'storage/lock';

  it.each<[string, Partial<StorageRequest>, string]>([
    ['grow in place (the stage prefers it)', {}, 'expansion planned (grow-in-place)'],
    ['add bricks', { strategy: 'add-bricks' }, 'expansion planned (add-bricks)'],
  ])('stage-wide DRY_RUN, %s: plans from the real Gluster status, tells ops, stops; nothing modified, the lock given back', async (_what, over, planned) => {
    // Prepare
    const { cloud } = twoMembers();
    const stage = dryRunStage(cloud);
    cloud.enqueue(request(over), 0);
    // Act
    const outcomes = await cloud.drain(stage.deps, 20);
    // Assess: ended after the plan, not failed, nothing left queued.
    expect(outcomes.at(-1)).toBe('completed');
    expect(outcomes).not.toContain('failed');
    expect(cloud.queue).toEqual([]);
    // The read-only status document reached the cluster; nothing else did.
    expect(cloud.ops()).toEqual(['sendCommand']);
    expect(cloud.sent('doc-gluster-status')).toHaveLength(1);
    expect(cloud.glusterActions()).toEqual([]);
    expect(stage.ec2.filter((a) => a === 'ModifyVolume')).toEqual([]);
    expect(dryRunLines(stage.log, 'ModifyVolume')).toEqual([]);
    expect([...cloud.ebs.values()].map((v) => [v.sizeGiB, v.modifications.length])).toEqual([[100, 0], [100, 0]]);
    expect(cloud.fsBytes.size).toBe(0);
    // Ops: one plan, marked dry run, with the commands it would run.
    expect(stage.published.map((n) => n.eventType)).toEqual(['storage.planned']);
    expect(stage.published[0]!.subject).toMatch(/^\[dry run\] /);
    expect(stage.published[0]!.subject).toContain(planned);
    expect(stage.published[0]!.body).toContain('Dry run: nothing was changed.');
    // The lock: taken and given back in the coordination table (the autoscaler's own bookkeeping, kept in dry run too).
    expect(cloud.coordination.log.filter((l) => l.includes(LOCK)).map((l) => l.split(' ')[0]).join(' ')).toMatch(/^(take )+release$/);
    expect(cloud.coordination.items.has(LOCK)).toBe(false);

    // Nothing half done: the same cluster then expands for real on a stage without DRY_RUN.
    cloud.enqueue(request(over), 0);
    const real = await cloud.drain(undefined, 200);
    expect(real).not.toContain('failed');
    const [realPlan] = ofType(cloud, 'storage.planned');
    expect(realPlan?.subject).not.toContain('dry run');
    // It went on to change the cluster: EBS modifications, or the group's capacity for the new members.
    expect(cloud.ec2Calls.some((c) => c.startsWith('ModifyVolume')) || cloud.ops().includes('setDesiredCapacity')).toBe(true);
  });

  it('a manual invoke on a DRY_RUN stage, the request itself not a dry run: answered with the plan, nothing queued or changed', async () => {
    const { cloud } = twoMembers();
    const stage = dryRunStage(cloud);
    const answer = await handleStorageInvoke({ volume: 'pydio-data', sets: 1 }, stage.deps, 'req-1');
    expect(answer).toMatchObject({ outcome: 'planned', dryRun: true });
    expect(JSON.stringify(answer)).toContain('"strategy":"grow-in-place"');
    // Not "accepted, queued": the queue adapter of a dry-run stage would only have logged the send.
    expect(cloud.queue).toEqual([]);
    expect(cloud.ops()).toEqual(['sendCommand']);
    expect(cloud.sent('doc-gluster-status')).toHaveLength(1);
    expect(stage.published.map((n) => n.eventType)).toEqual(['storage.planned']);
  });

  it('a dry-run request asking for grow-in-place on a stage that only allows it: plans grow-in-place, touches no volume, releases the lock', async () => {
    const { cloud } = twoMembers();
    cloud.enqueue(request({ dryRun: true, strategy: 'grow-in-place' }), 0);
    const outcomes = await cloud.drain(cloud.deps({ STORAGE_GROW_IN_PLACE: 'allowed' }), 20);
    expect(outcomes.at(-1)).toBe('completed');
    expect(outcomes).not.toContain('failed');
    expect(cloud.events()).toEqual(['storage.planned']);
    const planned = ofType(cloud, 'storage.planned')[0]!;
    expect(planned.subject).toContain('dry run: pydio-data expansion planned (grow-in-place)');
    expect(planned.body).toContain('Dry run: nothing was changed.');
    expect(planned.attributes.dryRun).toBe('true');
    // Planning needs no EC2 call at all; no document but the status read ran.
    expect(cloud.ec2Calls).toEqual([]);
    expect(cloud.sent('doc-grow-brick')).toEqual([]);
    expect(cloud.ops().filter((op) => op === 'sendCommand')).toHaveLength(1);
    expect(cloud.sent('doc-gluster-status')).toHaveLength(1);
    // The lock was taken for the plan and given back.
    expect(cloud.coordination.log.filter((l) => l.includes(LOCK)).map((l) => l.split(' ')[0]).join(' ')).toMatch(/^(take )+release$/);
    expect(cloud.coordination.items.has(LOCK)).toBe(false);
  });
});

describe('grow-in-place settings', () => {
  const parse = (env: Record<string, string>) => {
    const all = { ...STORAGE_ENV, ...env };
    return parseStorageConfig(all, parseConfig(all));
  };

  it('is off by default: no planner setting, no document needed', () => {
    const config = parse({});
    expect(config.growInPlace).toEqual({ mode: 'off', toGiB: 0, ebsDevice: '/dev/sdf' });
    expect(config.settings.growInPlace).toBeUndefined();
  });

  it.each([
    ['allowed', false],
    ['preferred', true],
  ])('%s gives the planner the size and the preference', (mode, preferred) => {
    const config = parse({ ...GROW_ENV, STORAGE_GROW_IN_PLACE: mode, STORAGE_BRICK_EBS_DEVICE: '/dev/xvdg' });
    expect(config.settings.growInPlace).toEqual({ enabled: true, toBytes: 200 * GiB, preferred });
    expect(config.growInPlace.ebsDevice).toBe('/dev/xvdg');
    expect(config.documents.growBrick).toBe('doc-grow-brick');
  });

  it.each([
    [{ STORAGE_GROW_IN_PLACE: 'yes' }, /STORAGE_GROW_IN_PLACE must be off, allowed or preferred/],
    [{ STORAGE_GROW_IN_PLACE: 'preferred', DOC_STORAGE_GROW_BRICK: 'd' }, /STORAGE_GROW_TO_GIB is required when STORAGE_GROW_IN_PLACE is preferred/],
    [{ ...GROW_ENV, STORAGE_GROW_TO_GIB: '0' }, /STORAGE_GROW_TO_GIB must be between 1 and 65536/],
    [{ ...GROW_ENV, DOC_STORAGE_GROW_BRICK: '' }, /DOC_STORAGE_GROW_BRICK is required/],
    [{ STORAGE_BRICK_EBS_DEVICE: '/dev/nvme1n1' }, /STORAGE_BRICK_EBS_DEVICE must be the EBS device name/],
    [{ STORAGE_BRICK_EBS_DEVICE: '/dev/sda' }, /STORAGE_BRICK_EBS_DEVICE must be/],
  ])('refuses %j', (env, message) => {
    expect(() => parse(env)).toThrow(ConfigurationError);
    expect(() => parse(env)).toThrow(message);
  });
});

describe('requests and reports', () => {
  it('reads strategy from a request, and refuses an unknown one', () => {
    expect(parseStorageRequest({ volume: 'pydio-data', sets: 1, strategy: 'grow-in-place' }, 'manual').strategy).toBe('grow-in-place');
    expect(parseStorageRequest({ volume: 'pydio-data', sets: 1 }, 'manual').strategy).toBeUndefined();
    expect(() => parseStorageRequest({ volume: 'pydio-data', sets: 1, strategy: 'bigger' }, 'manual')).toThrow(/field strategy must be "add-bricks" or "grow-in-place"/);
    expect(() => parseStorageRequest({ action: 'shrink', volume: 'pydio-data', strategy: 'grow-in-place' }, 'manual')).toThrow(/unknown field "strategy" for shrink/);
  });

  it.each([
    ['a 2 GiB sandbox disk (64 MiB log)', 2 * GiB, 2 * GiB - 64 * 1024 ** 2, true],
    ['a 2 GiB disk still at 1 GiB', 2 * GiB, 1 * GiB, false],
    ['200 GiB with a 2 GiB log', 200 * GiB, 198 * GiB, true],
    ['200 GiB still at 100 GiB', 200 * GiB, 100 * GiB, false],
  ])('counts %s as grown: %s', (_case, fs, reported, grown) => {
    expect(reported >= leastGrownBytes(fs)).toBe(grown);
  });

  it('parses the storage-grow-brick report line among logs', () => {
    expect(parseGrowReport('noise\ngrow-brick device=/dev/nvme1n1 device_bytes=214748364800 fs_bytes_before=107374182400 fs_bytes_after=214748364800 grown=yes\n')).toEqual({
      device: '/dev/nvme1n1', deviceBytes: 214748364800, before: 107374182400, after: 214748364800, grown: true,
    });
    expect(parseGrowReport('grow-brick device=/dev/x grown=yes')).toBeUndefined();
  });
});
