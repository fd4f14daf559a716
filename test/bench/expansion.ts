/**
 * Expansion bench: one storage expansion by one replica set in a real sandbox
 * (namespaced hosts, GlusterFS, loop-device bricks, the deployed stack), with
 * FILES small files on pydio-data, and where its time went: Gluster's own work
 * (add-brick, rebalance start/status) against our control plane's overhead
 * (test/bench/expansion-split.ts, the split the expansion e2e prints too).
 *
 * Skips with the reason printed (exit 0) when the machine cannot run the
 * sandbox (not root, no Gluster, ...). Sandbox 'bench' on 10.84.0.0/16.
 *
 *   npx tsx test/bench/expansion.ts
 */
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sandboxSkipReason } from '../e2e/sandbox/prerequisites';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { formatSplit, measureExpansionSplit, watchGlusterActions } from './expansion-split';

const NAME = 'bench';
const OCTET = 84;
const VOLUME = 'pydio-data';
const FILES = 500;
const MOUNT = '/mnt/bench-data';
const PHASE = 'bench: expand pydio-data by one replica set';
const EXPANSION_TIMEOUT_S = 300;

async function main(): Promise<number> {
  const skip = sandboxSkipReason();
  if (skip !== undefined) {
    console.log(`skipped: ${skip}`);
    return 0;
  }
  const t0 = Date.now();
  let sb: Sandbox | undefined;
  try {
    sb = await startSandbox({ name: NAME, networkOctet: OCTET, stateDir: path.join(tmpdir(), `pas-${NAME}-${process.pid}`), lbPort: 0, handleSignals: true, skipInitialScaleOut: true, storageMax: 4, storageDataDiskMiB: 512 });
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
