/**
 * Expansion bench: one storage expansion by one replica set in a real sandbox
 * (namespaced hosts, GlusterFS, loop-device bricks, the deployed stack), with
 * FILES small files on pydio-data, and where its time went: Gluster's own work
 * (add-brick, rebalance start/status) against our control plane's overhead
 * (test/bench/expansion-split.ts, the split the expansion e2e prints too).
 *
 * The same split in flow-split.ts's terms (running: documents, Gluster; overhead; the storage
 * function's AWS API calls) follows. PAS_BENCH_TIMINGS=realistic runs the sandbox with the
 * production waits (startSandbox's `timings: 'realistic'`: retries 10-120 s, agents registering
 * 30 s after boot); the default here is the sandbox's own 1-2 s waits.
 *
 * Skips with the reason printed (exit 0) when the machine cannot run the
 * sandbox (not root, no Gluster, ...). Sandbox 'bench' on 10.84.0.0/16.
 *
 *   npx tsx test/bench/expansion.ts
 *   PAS_BENCH_TIMINGS=realistic npx tsx test/bench/expansion.ts
 */
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sandboxSkipReason } from '../e2e/sandbox/prerequisites';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { formatSplit, measureExpansionSplit, watchGlusterActions } from './expansion-split';
import { accessKeyIdOf } from '../sandbox/iam/identity';
import { formatFlowSplit, splitFlow, type RunningInterval } from './flow-split';

const NAME = 'bench';
const OCTET = 84;
const VOLUME = 'pydio-data';
const FILES = 500;
const MOUNT = '/mnt/bench-data';
const PHASE = 'bench: expand pydio-data by one replica set';
/** The production waits (PAS_BENCH_TIMINGS=realistic) find each step over up to 120 s late: a longer bound then. */
const EXPANSION_TIMEOUT_S = process.env.PAS_BENCH_TIMINGS === 'realistic' ? 1200 : 300;

async function main(): Promise<number> {
  const skip = sandboxSkipReason();
  if (skip !== undefined) {
    console.log(`skipped: ${skip}`);
    return 0;
  }
  const timings = process.env.PAS_BENCH_TIMINGS ?? 'sandbox';
  if (timings !== 'sandbox' && timings !== 'realistic') throw new Error(`PAS_BENCH_TIMINGS must be 'sandbox' or 'realistic', got '${timings}'`);
  console.log(`timings ${timings}`);
  const t0 = Date.now();
  let sb: Sandbox | undefined;
  try {
    sb = await startSandbox({ name: NAME, networkOctet: OCTET, stateDir: path.join(tmpdir(), `pas-${NAME}-${process.pid}`), lbPort: 0, handleSignals: true, skipInitialScaleOut: true, storageMax: 4, storageDataDiskMiB: 512, timings });
    const via = (await sb.status()).instances.find((i) => i.role === 'storage')?.instanceId;
    if (via === undefined) throw new Error('the sandbox booted without a storage member');
    console.log(`sandbox boot ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await sb.hosts.exec(
      via,
      ['bash', '-c', `set -e; mkdir -p ${MOUNT} && mount -t glusterfs localhost:/${VOLUME} ${MOUNT}; mkdir -p ${MOUNT}/bench; for i in $(seq 1 ${FILES}); do head -c $((RANDOM % 4096 + 1)) /dev/urandom >${MOUNT}/bench/f$i; done; umount ${MOUNT}`],
      150,
    );
    const watch = watchGlusterActions(sb);
    const box = sb;
    const outcome = await sb.phase(PHASE, async () => {
      const answer = await box.invoke('storage', { volume: VOLUME, sets: 1 });
      if ((answer as { result?: { outcome?: string } }).result?.outcome !== 'accepted') throw new Error(`the expansion request was not accepted: ${JSON.stringify(answer)}`);
      for (let i = 0; i < EXPANSION_TIMEOUT_S * 2; i += 1) {
        const ended = (await box.notifications()).find((n) => ['storage.succeeded', 'storage.failed', 'storage.refused'].includes(n.attributes.eventType ?? '') && n.attributes.operation === 'expand');
        if (ended !== undefined) return ended;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`the expansion did not end within ${EXPANSION_TIMEOUT_S} s`);
    });
    watch.stop();
    if (outcome.attributes.eventType !== 'storage.succeeded') throw new Error(`the expansion did not succeed: ${outcome.subject}`);
    console.log(`expansion of ${VOLUME} by one replica set (1 x 2 -> 2 x 2, ${FILES} files, rebalance included): ${outcome.subject}`);
    for (const line of formatSplit(await measureExpansionSplit(sb, PHASE, watch.actions))) console.log(line);
    const phase = (await sb.phases()).find((p) => p.name === PHASE);
    const { storage: storageFn, lifecycle: lifecycleFn } = sb.stack.functions;
    if (phase === undefined || storageFn === undefined || lifecycleFn === undefined) throw new Error('the expansion phase, the storage or the lifecycle function is missing');
    // Ends when the storage function published storage.succeeded (the bench's own 0.5 s polls for it are not the flow's time).
    const polled = phase.start + phase.seconds * 1000;
    const window = { start: phase.start, end: Number.isFinite(outcome.at) ? Math.min(outcome.at, polled) : polled };
    const steps = (await sb.stepTimings()).filter((t) => t.end !== undefined && t.start >= window.start && t.start <= window.end);
    const intervals: RunningInterval[] = steps.map((t) => ({
      kind: t.documentName.includes('gluster-command') ? 'Gluster' : 'other documents',
      label: `${t.documentName.replace(/^.*?-(storage-|compute-)/, '$1')}${watch.actions.get(t.commandId) !== undefined ? ` ${watch.actions.get(t.commandId)}` : ''} on ${t.instanceId}`,
      start: t.start,
      end: t.end ?? t.start,
    }));
    // The flow's functions: the storage request's and the lifecycle hooks' of the members it launches.
    const keys = new Set([accessKeyIdOf(storageFn), accessKeyIdOf(lifecycleFn)]);
    const calls = sb.apiCalls().filter((c) => c.accessKeyId !== undefined && keys.has(c.accessKeyId));
    // The new members: from the group's capacity change to their agents registered.
    const grown = calls.find((c) => c.at >= window.start && c.operation === 'SetDesiredCapacity' && c.status === 200);
    for (const id of new Set(steps.map((t) => t.instanceId))) {
      const online = sb.hosts.agentOnlineAt(id);
      if (grown !== undefined && online !== undefined && online > grown.at) intervals.push({ kind: 'launch + agent registration', label: `launch + agent of ${id}`, start: grown.at, end: online });
    }
    const split = splitFlow('expansion by one replica set', window, intervals, calls);
    const kinds = {
      Gluster: '(storage-gluster-command steps: add-brick, rebalance start and status)',
      'other documents': '(prepare-brick, peer-probe, status reads)',
      'launch + agent registration': "(the storage group's SetDesiredCapacity -> each new member's SSM agent registered)",
    };
    for (const line of formatFlowSplit(split, { window: 'the storage request invoked -> storage.succeeded published', kinds })) console.log(line);
    return 0;
  } finally {
    await sb?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exit(2);
  },
);
