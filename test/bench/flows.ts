/**
 * Flow bench: scale-out (0 -> 1) then scale-in (1 -> 0) once each, through
 * the real bundled handler in the emulator (same setup as the flow tests),
 * and print per flow the AWS API calls the handler made (service:Operation
 * counts from the request recorder), the number of invocations and the
 * longest single invocation. Target: no invocation longer than 5 s (waiting
 * is done with delayed queue messages, never inside an invocation).
 *
 *   npx tsx test/bench/flows.ts
 */
import { eventually, GROUP, startFlowsEnvironment, type FlowsEnvironment } from '../integration/flows/harness';

const MAX_INVOCATION_MS = 5000;

interface FlowFigures {
  readonly name: string;
  readonly wallMs: number;
  readonly calls: Record<string, number>;
  readonly invocations: number;
  readonly longestMs: number;
  readonly failures: number;
}

async function measure(env: FlowsEnvironment, name: string, desired: number, done: (n: number, states: string[]) => boolean): Promise<FlowFigures> {
  const callsFrom = env.recorder.calls.length;
  const journalFrom = env.runner.journal.length;
  const started = Date.now();
  await env.setDesired(GROUP, desired);
  await eventually(
    async () => {
      const instances = await env.instances(GROUP);
      return done(instances.length, instances.map((i) => i.LifecycleState ?? '')) ? true : undefined;
    },
    `${name} to finish`,
    120_000,
    100,
  );
  // Let the flow's last invocation (completion + notification) be journaled.
  await eventually(async () => (env.runner.isIdle() ? true : undefined), 'the runner to be idle', 30_000, 50);
  const wallMs = Date.now() - started;
  const invocations = env.runner.journal.slice(journalFrom);
  return {
    name,
    wallMs,
    calls: env.recorder.countsSince(callsFrom),
    invocations: invocations.length,
    longestMs: Math.max(0, ...invocations.map((i) => i.durationMs)),
    failures: invocations.filter((i) => i.outcome !== 'success').length,
  };
}

function print(f: FlowFigures): void {
  const total = Object.values(f.calls).reduce((a, b) => a + b, 0);
  console.log(`== ${f.name}`);
  console.log(`wall time                 ${(f.wallMs / 1000).toFixed(1)} s`);
  console.log(`invocations               ${f.invocations} (${f.failures} not successful)`);
  console.log(`longest invocation        ${f.longestMs} ms (target <= ${MAX_INVOCATION_MS} ms: ${f.longestMs <= MAX_INVOCATION_MS ? 'met' : 'MISSED'})`);
  console.log(`AWS API calls             ${total}`);
  for (const [op, n] of Object.entries(f.calls).sort(([a], [b]) => a.localeCompare(b))) console.log(`  ${op.padEnd(52)} ${n}`);
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const env = await startFlowsEnvironment();
  console.log(`setup (package/cache, moto, front, deploy, runner): ${((Date.now() - t0) / 1000).toFixed(1)} s${env.packaged.packagedNow ? ' (packaged now)' : ' (package from cache)'}`);
  console.log(`functions' logs: ${env.logFile}`);
  try {
    const out = await measure(env, 'scale-out 0 -> 1', 1, (n, states) => n === 1 && states[0] === 'InService');
    const inn = await measure(env, 'scale-in 1 -> 0', 0, (n) => n === 0);
    print(out);
    print(inn);
    const missed = [out, inn].filter((f) => f.longestMs > MAX_INVOCATION_MS || f.failures > 0);
    return missed.length === 0 ? 0 : 1;
  } finally {
    await env.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exit(2);
  },
);
