/** Boot phase "validate options": startSandbox's options checked, defaulted and frozen into the settings every later phase reads. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveAlarmOptions, type ResolvedAlarmOptions } from '../alarms';
import { SandboxError } from '../errors';
import { REPO_DIR } from '../hosts';
import type { StartSandboxOptions } from '../types';

export const STAGE = 'pasbox';
/** The target group ARN the stack is packaged with, replaced by the real one at deploy. */
export const TARGET_GROUP_PLACEHOLDER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pas-placeholder/0000000000000000';
/** The launch template's device name of the brick EBS volume (grow in place). */
export const STORAGE_EBS_DEVICE = '/dev/sdf';
/** Where a storage host's data disk appears inside the host (bin/storage-disk.sh). */
export const STORAGE_DATA_DEVICE = '/dev/shm/pas-brick';
const NAME = /^[a-z0-9]{1,8}$/;
/** serverless.yml's production RETRY_MAX_SECONDS: the stack refuses a lock TTL under twice it. */
const PRODUCTION_RETRY_MAX_SECONDS = 120;
/**
 * The realistic default of agentRegistrationSeconds: from a host being up to its SSM agent taking commands.
 * Not a documented figure (AWS publishes none); chosen on the conservative side of what is known:
 * amazon-ssm-agent 3.3.987.0 and later wait for cloud-init to finish (`cloud-init status --wait`, up to
 * 10 minutes) before they start (amazonlinux/amazon-linux-2023#397, the agent's release notes), so the
 * user data's own run and the agent's registration (an EC2 identity key pair, RegisterManagedInstance
 * / UpdateInstanceInformation) come after the OS boot; an Amazon Linux 2 boot log shows cloud-init's
 * first stage starting 13 s after power-on (DataBiosphere/azul#5671). The sandbox's host is "up" once
 * its namespace exists, which is earlier than an EC2 instance's cloud-init: 30 s covers the boot to
 * cloud-init plus a short user data and the registration, and is not shorter than what is reported.
 */
export const REALISTIC_AGENT_REGISTRATION_SECONDS = 30;

/** Where the host scripts record what they create, and the bridge they put the hosts on. */
export interface HostOptions {
  readonly stateDir: string;
  readonly bridge: string;
  readonly bridgeCidr: string;
}

export interface SandboxSettings {
  readonly name: string;
  readonly octet: number;
  readonly deregistrationDelaySeconds: number;
  readonly computeMax: number;
  readonly alarms: ResolvedAlarmOptions | undefined;
  readonly storageMax: number;
  readonly dataDiskMiB: number | undefined;
  readonly bootDisks: boolean;
  /** The storage group starts empty: no storage-boot.sh, the product's bootstrap makes the volumes. */
  readonly storageStartsEmpty: boolean;
  readonly growInPlace: StartSandboxOptions['storageGrowInPlace'];
  readonly lockStaleSeconds: number | undefined;
  /** The listener port asked for (undefined: 18080, 0: any free port). */
  readonly lbPort: number | undefined;
  readonly handleSignals: boolean;
  readonly skipInitialScaleOut: boolean;
  /** 'realistic': the stage keeps serverless.yml's production waits (retries 10-120 s, the long timeouts). */
  readonly timings: 'sandbox' | 'realistic';
  /** Seconds from a host being up to its SSM agent taking commands. */
  readonly agentRegistrationSeconds: number;
  /** The compute group's HealthCheckGracePeriod. */
  readonly computeGracePeriodSeconds: number;
  /** Real milliseconds one minute of an EventBridge schedule lasts (the scheduler's compressed clock). */
  readonly scheduleMinuteMs: number;
  readonly say: (line: string) => void;
  readonly hostOptions: HostOptions;
  readonly computeGroup: string;
  readonly storageGroup: string;
  readonly logFile: string;
}

/** Refuses a bad option with a SandboxError naming it; creates the temp dir of the default log file. */
export function resolveSettings(options: StartSandboxOptions): SandboxSettings {
  const name = options.name ?? 'pas';
  if (!NAME.test(name)) throw new SandboxError(`sandbox name '${name}' must be 1-8 lower-case letters or digits`);
  const octet = options.networkOctet ?? 71;
  if (!Number.isInteger(octet) || octet < 1 || octet > 254) throw new SandboxError(`networkOctet must be an integer 1-254, got ${octet}`);
  const delay = options.deregistrationDelaySeconds ?? 6;
  if (!(delay >= 0 && delay <= 3600)) throw new SandboxError(`deregistrationDelaySeconds must be 0-3600, got ${delay}`);
  const computeMax = options.computeMax ?? 4;
  if (!Number.isInteger(computeMax) || computeMax < 1 || computeMax > 10) throw new SandboxError(`computeMax must be an integer 1-10, got ${computeMax}`);
  const alarmSettings = options.alarms === undefined ? undefined : resolveAlarmOptions(options.alarms, computeMax);
  const storageMax = options.storageMax ?? 2;
  if (!Number.isInteger(storageMax) || storageMax < 2 || storageMax > 12) throw new SandboxError(`storageMax must be an integer 2-12, got ${storageMax}`);
  const dataDiskMiB = options.storageDataDiskMiB;
  if (dataDiskMiB !== undefined && !(Number.isInteger(dataDiskMiB) && dataDiskMiB >= 300 && dataDiskMiB <= 4096)) {
    throw new SandboxError(`storageDataDiskMiB must be an integer 300-4096 (XFS needs 300 MiB; the file is sparse), got ${dataDiskMiB}`);
  }
  const minuteSeconds = options.scheduleMinuteSeconds ?? 60;
  if (!(Number.isInteger(minuteSeconds) && minuteSeconds >= 2 && minuteSeconds <= 60)) throw new SandboxError(`scheduleMinuteSeconds must be a whole number 2-60, got ${minuteSeconds}`);
  const grace = options.computeHealthCheckGracePeriodSeconds ?? 0;
  if (!(Number.isInteger(grace) && grace >= 0 && grace <= 7200)) throw new SandboxError(`computeHealthCheckGracePeriodSeconds must be a whole number 0-7200, got ${grace}`);
  const bootDisks = options.storageBootDisks === true;
  const growInPlace = options.storageGrowInPlace;
  if (growInPlace !== undefined) {
    if (dataDiskMiB === undefined) throw new SandboxError('storageGrowInPlace needs storageDataDiskMiB (the disks it grows)');
    if (!Number.isInteger(growInPlace.toGiB) || growInPlace.toGiB < 1 || growInPlace.toGiB > 4) throw new SandboxError(`storageGrowInPlace.toGiB must be an integer 1-4 (sparse loop disks), got ${growInPlace.toGiB}`);
  }
  const lockStaleSeconds = options.storageLockStaleSeconds;
  // The stack refuses a lock TTL under twice RETRY_MAX_SECONDS (the sandbox's 2) or under 10 s.
  if (lockStaleSeconds !== undefined && !(Number.isInteger(lockStaleSeconds) && lockStaleSeconds >= 10 && lockStaleSeconds <= 86400)) {
    throw new SandboxError(`storageLockStaleSeconds must be an integer 10-86400, got ${lockStaleSeconds}`);
  }
  const timings = options.timings ?? 'sandbox';
  if (timings !== 'sandbox' && timings !== 'realistic') throw new SandboxError(`timings must be 'sandbox' or 'realistic', got ${JSON.stringify(timings)}`);
  const agentRegistrationSeconds = options.agentRegistrationSeconds ?? (timings === 'realistic' ? REALISTIC_AGENT_REGISTRATION_SECONDS : 0);
  if (!(Number.isInteger(agentRegistrationSeconds) && agentRegistrationSeconds >= 0 && agentRegistrationSeconds <= 600)) {
    throw new SandboxError(`agentRegistrationSeconds must be a whole number 0-600, got ${agentRegistrationSeconds}`);
  }
  if (timings === 'realistic' && lockStaleSeconds !== undefined && lockStaleSeconds < 2 * PRODUCTION_RETRY_MAX_SECONDS) {
    throw new SandboxError(`storageLockStaleSeconds ${lockStaleSeconds} is under twice the production retryMaxSeconds (${PRODUCTION_RETRY_MAX_SECONDS}) that timings 'realistic' keeps: the stack would refuse it`);
  }
  if (bootDisks && dataDiskMiB === undefined) throw new SandboxError('storageBootDisks needs storageDataDiskMiB (the size of every storage host\'s data disk)');
  const storageStartsEmpty = options.storageStartsEmpty === true;
  if (storageStartsEmpty) {
    if (dataDiskMiB === undefined) throw new SandboxError('storageStartsEmpty needs storageDataDiskMiB (each member prepares its brick on its own data disk)');
    if (options.skipInitialScaleOut !== true) throw new SandboxError('storageStartsEmpty needs skipInitialScaleOut: there is no volume to mount until the storage group bootstraps');
    if (bootDisks) throw new SandboxError('storageStartsEmpty excludes storageBootDisks: there are no boot members');
  }
  const hostOptions: HostOptions = Object.freeze({
    stateDir: path.resolve(options.stateDir ?? path.join(REPO_DIR, '.sandbox')),
    bridge: name === 'pas' ? 'pasbr0' : `pasbr${name}`,
    bridgeCidr: `10.${octet}.0.1/16`,
  });
  return Object.freeze({
    name,
    octet,
    deregistrationDelaySeconds: delay,
    computeMax,
    alarms: alarmSettings,
    storageMax,
    dataDiskMiB,
    bootDisks,
    storageStartsEmpty,
    growInPlace,
    lockStaleSeconds,
    lbPort: options.lbPort,
    handleSignals: options.handleSignals !== false,
    skipInitialScaleOut: options.skipInitialScaleOut === true,
    timings,
    agentRegistrationSeconds,
    scheduleMinuteMs: minuteSeconds * 1000,
    computeGracePeriodSeconds: grace,
    say: options.log ?? (() => undefined),
    hostOptions,
    computeGroup: `${name}-compute`,
    storageGroup: `${name}-storage`,
    logFile: options.logFile ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), `${name}-sandbox-`)), 'functions.log'),
  });
}
