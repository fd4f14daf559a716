/** Shared fixture: one moto per test file, one control plane per test, simulated seams. */
import { SQSClient, ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { startControlPlane, type ControlPlane } from '../../sandbox/control-plane/front';
import { startMoto, type MotoServer } from '../../sandbox/control-plane/moto';
import { SimulatedDataPlane, SimulatedExecutor, SimulatedHosts } from '../../sandbox/control-plane/simulated';
import { clientConfig } from '../../sandbox/control-plane/aws-setup';
import type { ThrottleSettings } from '../../sandbox/control-plane/throttle';

export interface Harness {
  readonly cp: ControlPlane;
  readonly executor: SimulatedExecutor;
  readonly dataPlane: SimulatedDataPlane;
  readonly hosts: SimulatedHosts;
  readonly config: ReturnType<typeof clientConfig>;
}

export async function startHarness(moto: MotoServer, opts: { healthyAfterMs?: number; agentDelayMs?: number; throttle?: ThrottleSettings } = {}): Promise<Harness> {
  await moto.reset();
  const executor = new SimulatedExecutor({ agentDelayMs: opts.agentDelayMs ?? 0 });
  const dataPlane = new SimulatedDataPlane({ healthyAfterMs: opts.healthyAfterMs ?? 300 });
  const hosts = new SimulatedHosts(executor);
  const cp = await startControlPlane({ motoUrl: moto.url, executor, dataPlane, hosts, agentPollMs: 50, ...(opts.throttle ? { throttle: opts.throttle } : {}) });
  cp.events.on('step', (s: { instanceId: string; script: string; documentName: string; stepName: string }) => executor.noteStep(s));
  return { cp, executor, dataPlane, hosts, config: clientConfig(cp.url) };
}

export { startMoto };

/** Poll `probe` until it returns a value that is not undefined (bounded). */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Read (and delete) up to `count` messages from a queue, waiting at most `timeoutMs`. */
export async function drainQueue(endpoint: string, queueUrl: string, count: number, timeoutMs = 5000): Promise<unknown[]> {
  const sqs = new SQSClient(clientConfig(endpoint));
  const bodies: unknown[] = [];
  const deadline = Date.now() + timeoutMs;
  while (bodies.length < count && Date.now() < deadline) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const m of out.Messages ?? []) {
      bodies.push(JSON.parse(m.Body ?? 'null'));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return bodies;
}
