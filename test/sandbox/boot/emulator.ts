/** Boot phases of the emulator: moto, the control plane's log, and the control-plane front before moto with the real seams (hosts, HAProxy, disks). */
import fs from 'node:fs';
import path from 'node:path';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { clientConfig } from '../control-plane/aws-setup';
import { startControlPlane, type ControlPlane, type JournalEntry, type Logger } from '../control-plane/front';
import { startMoto, type MotoServer } from '../control-plane/moto';
import type { HaproxyDataPlane, NamespaceHosts } from '../hosts';
import type { HostScripts } from './host-state';
import type { RecordingHosts } from './hosts';
import type { SandboxSettings } from './settings';
import type { Started } from './teardown';

/** Phase "moto": the AWS API emulator the front forwards to. */
export async function startMotoServer(settings: SandboxSettings): Promise<Started & { moto: MotoServer }> {
  settings.say('starting moto...');
  const moto = await startMoto();
  return { moto, teardowns: [{ what: 'moto', stop: () => moto.stop() }] };
}

/** Phase "control-plane log": the front's own log beside the functions' log (its errors would otherwise only reach the SDK as an unparsable 500). */
export function openControlPlaneLog(settings: SandboxSettings): Started & { log: Logger } {
  const cpLog = fs.createWriteStream(path.join(path.dirname(settings.logFile), 'control-plane.log'), { flags: 'a' });
  const log: Logger = (message, fields) => {
    cpLog.write(`${JSON.stringify({ at: new Date().toISOString(), message, ...fields })}\n`);
  };
  return { log, teardowns: [{ what: 'control plane log', stop: () => new Promise<void>((r) => cpLog.end(() => r())) }] };
}

/** The front, where to reach it, and the SDK clients the sandbox's own handles use. */
export interface Front {
  readonly cp: ControlPlane;
  readonly endpoint: string;
  readonly config: ReturnType<typeof clientConfig>;
  readonly asg: AutoScalingClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly ec2: EC2Client;
  readonly ssm: SSMClient;
  readonly sqs: SQSClient;
  /** Every lifecycle event the front emitted, when. */
  readonly events: readonly { at: number; entry: JournalEntry }[];
}

export interface FrontSeams {
  readonly moto: MotoServer;
  readonly hosts: NamespaceHosts;
  readonly recording: RecordingHosts;
  readonly dataPlane: HaproxyDataPlane;
  readonly scripts: HostScripts;
  readonly log: Logger;
}

/** Phase "control plane": the front before moto, with the real hosts, HAProxy and (grow in place) the storage data disks behind it. */
export async function startFront(settings: SandboxSettings, seams: FrontSeams): Promise<Started & Front> {
  const events: { at: number; entry: JournalEntry }[] = [];
  const cp = await startControlPlane({
    motoUrl: seams.moto.url,
    executor: seams.hosts,
    dataPlane: seams.dataPlane,
    hosts: seams.recording,
    ...(settings.growInPlace !== undefined ? { volumeResized: (instanceId: string, sizeGiB: number) => seams.scripts.growDataDisk(instanceId, sizeGiB) } : {}),
    log: (message, fields) => {
      seams.log(message, fields);
      if (message === 'control plane error') settings.say(`control plane error: ${String(fields?.error ?? '')}`);
    },
  });
  const teardowns = [{ what: 'control plane', stop: () => cp.stop() }];
  cp.events.on('event', (entry: JournalEntry) => events.push({ at: Date.now(), entry }));
  const endpoint = cp.url;
  const config = clientConfig(endpoint);
  return {
    cp,
    endpoint,
    config,
    asg: new AutoScalingClient(config),
    elb: new ElasticLoadBalancingV2Client(config),
    ec2: new EC2Client(config),
    ssm: new SSMClient(config),
    sqs: new SQSClient({ ...config, useQueueUrlAsEndpoint: false }),
    events,
    teardowns,
  };
}
