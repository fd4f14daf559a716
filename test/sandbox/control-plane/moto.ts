/**
 * Start and stop a private moto server (python3 -m moto.server) on a free
 * loopback port. Each caller gets its own process group; stop() kills only it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface MotoServer {
  readonly url: string;
  readonly port: number;
  /** Wipe every emulated resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export class MotoUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MotoUnavailableError';
  }
}

/** A port the kernel just handed out on 127.0.0.1 (free at the time of asking). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: no TCP address'));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

function assertMotoInstalled(): void {
  const probe = spawnSync('python3', ['-c', 'import moto.server'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error !== undefined) {
    throw new MotoUnavailableError(`python3 is not available (${probe.error.message}); install python3 and moto[server] to run the integration tests.`, { cause: probe.error });
  }
  if (probe.status !== 0) {
    throw new MotoUnavailableError(`moto is not installed for python3 (import moto.server failed: ${probe.stderr.trim().split('\n').pop() ?? ''}); run "pip install 'moto[server]'".`);
  }
}

async function isAnswering(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export interface StartMotoOptions {
  /** How long to wait for the server to answer (default 30 s). */
  readonly startTimeoutMs?: number;
}

export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  assertMotoInstalled();
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  let lastError = '';
  // A freshly picked port can be taken by someone else before moto binds it: retry a few times.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    while (!exited && Date.now() < deadline) {
      if (await isAnswering(url)) {
        return makeHandle(url, port, child, () => exited);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    killGroup(child, 'SIGKILL');
    lastError = exited ? `moto exited early: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : 'moto did not answer in time';
    if (!exited) break;
  }
  throw new MotoUnavailableError(`moto server could not be started on 127.0.0.1: ${lastError}.`);
}

function makeHandle(url: string, port: number, child: ChildProcess, hasExited: () => boolean): MotoServer {
  child.unref();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    url,
    port,
    async reset() {
      const res = await fetch(`${url}/moto-api/reset`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`moto reset failed with HTTP ${res.status}`);
    },
    async stop() {
      if (hasExited()) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      killGroup(child, 'SIGTERM');
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
      if ((await Promise.race([gone, timer])) === 'timeout') {
        killGroup(child, 'SIGKILL');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 2000).unref())]);
      }
      child.stderr?.destroy();
    },
  };
}
