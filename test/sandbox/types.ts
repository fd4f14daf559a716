/** The sandbox's public shapes: the options of startSandbox, the Sandbox handle and what it reports. */
import type { SandboxAlarmOptions, SandboxAlarms } from './alarms';
import type { ControlPlane } from './control-plane/front';
import type { HaproxyDataPlane, NamespaceHosts } from './hosts';
import type { RecordedCall } from './lambda/recorder';
import type { InvokeResult } from './lambda/runner';
import type { ScheduledRun } from './lambda/scheduler';
import type { DeployedStack } from './stack/deploy';

export interface StartSandboxOptions {
  /**
   * Alarm-driven scaling (default off): a metrics agent publishes the hosts' real CPU and brick disk
   * usage, an evaluator turns them into alarm states and state-change events (alarms.ts); the stack
   * is packaged with these periods, thresholds and cooldown.
   */
  readonly alarms?: SandboxAlarmOptions;
  /** Names: bridge `pasbr<name>`, groups `<name>-compute`, `<name>-storage` (default 'pas', 1-8 of [a-z0-9]). */
  readonly name?: string;
  /** Second octet of the sandbox network 10.<octet>.0.0/16 (default 71; pick another to run beside a sandbox on 71). */
  readonly networkOctet?: number;
  /** Hosts' state dir (default <repo>/.sandbox); removed by stop(). */
  readonly stateDir?: string;
  /** HAProxy listener port on 127.0.0.1 (default 18080; 0 = any free port). */
  readonly lbPort?: number;
  /** Target group deregistration delay (default 6 s). */
  readonly deregistrationDelaySeconds?: number;
  /**
   * The compute group's HealthCheckGracePeriod (default 0: AWS's API default, which the User Guide
   * suggests with launch hooks; moto alone would store 300). SetInstanceHealth respecting it is
   * refused until an instance has been InService this long.
   */
  readonly computeHealthCheckGracePeriodSeconds?: number;
  /** Compute group MaxSize (default 4). */
  readonly computeMax?: number;
  /** Where the functions' JSON logs go (default a temp file, kept after stop). */
  readonly logFile?: string;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
  /** Tear down on SIGINT/SIGTERM/uncaught failure, then exit (default true). */
  readonly handleSignals?: boolean;
  /** Skip the initial 0 -> 1 scale-out (default false). */
  readonly skipInitialScaleOut?: boolean;
  /**
   * The scheduler's compressed clock (default 60: real time): one minute of every EventBridge
   * schedule (the watch's rate(1 minute)) and of Lambda's retry waits lasts this many real
   * seconds, 2-60. The functions see real time.
   */
  readonly scheduleMinuteSeconds?: number;
  /** Storage group MaxSize, 2-12 (default 2: no room to expand); each member is a host with its own glusterd. */
  readonly storageMax?: number;
  /**
   * Storage tier tests (default off): every storage host launched after boot gets a data disk of
   * this many MiB (a sparse loop device, `bin/storage-disk.sh`) at /dev/shm/pas-brick inside the
   * host, and the stage's storageBrickDevice points there. Detached at stop().
   */
  readonly storageDataDiskMiB?: number;
  /**
   * Needs storageDataDiskMiB (default off): the two boot storage hosts get such a data disk too,
   * formatted XFS and mounted at /bricks with their bricks at /bricks/<volume>/brick (the layout
   * prepare-brick makes), instead of bricks on the host file system under /srv/gluster. Then
   * `df /bricks` in every storage host is its brick disk (the disk-usage alarm's metric).
   */
  readonly storageBootDisks?: boolean;
  /**
   * Needs storageDataDiskMiB (default off): the stage grows in place (storageGrowInPlace,
   * storageGrowToGib). The launch template maps a /dev/sdf EBS volume of ceil(MiB/1024) GiB
   * (moto creates one per instance) and a ModifyVolume of a storage host's volume grows
   * its loop disk to the new size first (`storage-disk.sh grow`), as EBS would.
   */
  readonly storageGrowInPlace?: { readonly mode: 'allowed' | 'preferred'; readonly toGiB: number };
  /**
   * The storage lock's TTL (stage param storageLockStaleSeconds; default: the stack's 3600). A test
   * of what a dead operation leaves behind sets it short; the sandbox's waits are 1-2 s
   * (retryMaxSeconds 2), so a live holder renews it many times within even 20 s.
   */
  readonly storageLockStaleSeconds?: number;
  /**
   * Default off: the storage group starts with no member and `bin/storage-boot.sh` does not run:
   * no Gluster pool, no volume, nothing claimed on a config volume. The first members the test
   * launches go through the product's own storage launch flow (prepare-brick on their data
   * disks, peer probe, the bootstrap that creates pydio-config and pydio-data), as on a new
   * cluster. Needs storageDataDiskMiB (every member's brick disk) and skipInitialScaleOut
   * (nothing to mount yet); excludes storageBootDisks (no boot members).
   */
  readonly storageStartsEmpty?: boolean;
  /**
   * How long things take (default 'sandbox'). 'sandbox': the stage's waits are 1-2 s (retryBaseSeconds 1,
   * retryMaxSeconds 2, short timeouts) and an instance's SSM agent answers as soon as its host is up.
   * 'realistic': the stage keeps serverless.yml's production defaults (retryBaseSeconds 10,
   * retryMaxSeconds 120, ssmOnlineTimeoutSeconds 600, commandTimeoutSeconds 600, healthyTimeoutSeconds 600,
   * drainMaxSeconds 900, heartbeat timeouts 900) and every instance's agent registers
   * `agentRegistrationSeconds` after its host is up (default 30 there). Documents run for real in both;
   * health checks are the target group's own (interval, thresholds) in both.
   */
  readonly timings?: 'sandbox' | 'realistic';
  /**
   * Seconds from a host being up to its SSM agent being registered (Online, taking commands), 0-600.
   * Default: 0 with timings 'sandbox', 30 with 'realistic' (boot/settings.ts says why 30).
   */
  readonly agentRegistrationSeconds?: number;
}

export interface InstanceStatus {
  readonly instanceId: string;
  readonly groupName: string;
  readonly role: 'compute' | 'storage';
  readonly lifecycleState: string;
  readonly health: string;
  readonly availabilityZone: string;
  readonly privateIp: string;
}

export interface TargetStatus {
  readonly instanceId: string;
  readonly port: number;
  readonly state: string;
  readonly reason?: string;
}

export interface HostStatus {
  readonly instanceId: string;
  readonly role: string;
  readonly ip: string;
  readonly running: boolean;
}

export interface SandboxStatus {
  readonly groups: readonly { name: string; role: 'compute' | 'storage'; desired: number; min: number; max: number }[];
  readonly instances: readonly InstanceStatus[];
  readonly targets: readonly TargetStatus[];
  readonly hosts: readonly HostStatus[];
}

export interface SnsNotification {
  readonly at: number;
  readonly subject: string;
  readonly message: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export type TimelineKind = 'phase' | 'event' | 'action' | 'command' | 'sns' | 'host';

export interface TimelineEntry {
  readonly at: number;
  readonly kind: TimelineKind;
  readonly text: string;
  readonly durationMs?: number;
}

export interface StepTiming {
  readonly commandId: string;
  readonly instanceId: string;
  readonly documentName: string;
  readonly stepName: string;
  readonly status: string;
  readonly start: number;
  readonly end?: number;
}

export interface PhaseReport {
  readonly name: string;
  readonly start: number;
  readonly seconds: number;
  /** Sum of every Run Command step's duration in the phase (instances run in parallel: may exceed `seconds`). */
  readonly documentsSeconds: number;
  /** Time during which at least one document step was running (union of the step intervals). */
  readonly documentsWallSeconds: number;
  /** The rest of the wall time: our control plane (events, queue, Lambda, polling, registration, health checks). */
  readonly overheadSeconds: number;
}

export interface Sandbox {
  /** The load balancer (HAProxy) URL, on 127.0.0.1. */
  readonly lbUrl: string;
  /** The emulated AWS endpoint (the control-plane front). */
  readonly endpoint: string;
  readonly motoUrl: string;
  readonly stateDir: string;
  readonly logFile: string;
  readonly computeGroup: string;
  readonly storageGroup: string;
  readonly targetGroupArn: string;
  readonly stage: string;
  readonly stack: DeployedStack;
  /** The packaged CloudFormation template as deployed (e.g. the dashboard renderer resolves ClusterDashboard from it). */
  readonly template: Readonly<Record<string, unknown>>;
  readonly hosts: NamespaceHosts;
  readonly dataPlane: HaproxyDataPlane;
  readonly controlPlane: ControlPlane;
  /** The metrics agent and alarm evaluator, when started with the `alarms` option. */
  readonly alarms: SandboxAlarms | undefined;
  setDesiredCapacity(n: number): Promise<void>;
  /** Polls status() until `predicate` holds (bounded by `timeoutMs`); returns that status. */
  waitForState(predicate: (s: SandboxStatus) => boolean, timeoutMs: number, what?: string): Promise<SandboxStatus>;
  status(): Promise<SandboxStatus>;
  invoke(fn: string, payload: unknown): Promise<InvokeResult>;
  /** The stack's scheduled rules as the scheduler runs them (lambda/scheduler.ts). */
  readonly schedule: {
    rules(): Array<{ ruleName: string; functionKey: string; periodMs: number; permitted: boolean }>;
    /** Every firing so far (scheduled attempts and Lambda's retries), in order. */
    runs(): readonly ScheduledRun[];
    /** Fires a rule now, outside its clock; resolves when that attempt ended. */
    fireNow(ruleName: string): Promise<void>;
  };
  /**
   * Fault injection: the next lifecycle event of `transition` for `groupName` is lost before it
   * reaches any queue (Auto Scaling's events are best-effort); the timeline shows it DROPPED.
   */
  dropNextLifecycleEvent(transition: 'launch' | 'terminate', groupName: string): void;
  /** Invokes `fn` once per payload, all at once, each in an execution environment of its own (as Lambda scales out). */
  invokeConcurrently(fn: string, payloads: readonly unknown[]): Promise<InvokeResult[]>;
  /**
   * The next message of `fn`'s queue whose body matches is lost before delivery (deleted by the event
   * source, never invoked): the flow it carried dies there. Resolves with the body once dropped.
   */
  dropNextMessage(fn: string, matches: (body: string) => boolean): Promise<string>;
  notifications(): Promise<SnsNotification[]>;
  timeline(): Promise<TimelineEntry[]>;
  /** Runs `work` as a named phase and measures it (wall time vs document run time). */
  phase<T>(name: string, work: () => Promise<T>): Promise<T>;
  phases(): Promise<PhaseReport[]>;
  stepTimings(): Promise<StepTiming[]>;
  /** Every AWS API call the deployed functions made so far (service, operation, HTTP status, when, how long), in order. */
  apiCalls(): readonly RecordedCall[];
  /** Host-level fault: the next compute host launched loses the file `pathInHost` before any document runs. */
  injectFaultOnNextLaunch(fault: { removeFile: string }): void;
  /**
   * A storage instance fails: its host crashes at once (`bin/host-crash.sh`: every process killed, then its
   * network gone; moto keeps the instance), and after `noticeAfterSeconds` (default 5) the group notices as AWS
   * would (EC2 status check failed -> Unhealthy -> terminate hook -> a replacement in the zone that lost it).
   * Resolves once the host is down; `noticed` resolves when the group started terminating it.
   */
  killStorageHost(instanceId: string, options?: { noticeAfterSeconds?: number }): Promise<StorageHostKill>;
  /**
   * Storage tier (needs storageDataDiskMiB): the data disk of the NEXT storage host launched is
   * not blank but ext4 holding /pas-marker with `marker` ([A-Za-z0-9._-], 1-64), as a disk with
   * someone's data would be. Its image stays at `<stateDir>-disks/<instanceId>.img` until stop().
   */
  preformatNextStorageDisk(marker: string): void;
  stop(): Promise<void>;
}

export interface StorageHostKill {
  readonly instanceId: string;
  readonly availabilityZone: string;
  readonly privateIp: string;
  /** When the host went down (ms since the epoch). */
  readonly crashedAt: number;
  /** Resolves when the group noticed (marked Unhealthy, terminate hook open); rejects if the sandbox stopped first. */
  readonly noticed: Promise<void>;
}
