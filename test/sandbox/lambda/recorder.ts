/**
 * A recording pass-through in front of the emulator: every AWS API request
 * the functions make is forwarded unchanged and noted as service:Operation
 * (service from the SigV4 credential scope; operation from the awsQuery
 * `Action`, the JSON `X-Amz-Target`, or the path for REST services).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { accessKeyIdOfRequest } from '../iam/identity';

export interface RecordedCall {
  readonly service: string;
  readonly operation: string;
  readonly status: number;
  readonly at: number;
  readonly durationMs: number;
  /** The caller's access key id (each deployed function signs with its own: iam/identity.ts). */
  readonly accessKeyId?: string;
}

export interface Recorder {
  readonly url: string;
  readonly calls: readonly RecordedCall[];
  /** Calls recorded since `from` (an index into calls), counted per `service:Operation`. */
  countsSince(from: number): Record<string, number>;
  stop(): Promise<void>;
}

const MAX_BODY = 10 * 1024 * 1024;

function serviceOf(authorization: string | undefined): string {
  const m = /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return m?.[1] ?? 'unknown';
}

function operationOf(req: IncomingMessage, body: Buffer): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target !== '') return target.slice(target.lastIndexOf('.') + 1);
  const type = req.headers['content-type'] ?? '';
  if (type.includes('x-www-form-urlencoded')) {
    const action = new URLSearchParams(body.toString('utf8')).get('Action');
    if (action !== null) return action;
  }
  const action = new URL(req.url ?? '/', 'http://x').searchParams.get('Action');
  return action ?? `${req.method ?? 'GET'} ${new URL(req.url ?? '/', 'http://x').pathname}`;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body above 10 MiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startRecorder(targetUrl: string): Promise<Recorder> {
  const calls: RecordedCall[] = [];
  const server: Server = createServer((req, res) => {
    const started = Date.now();
    readBody(req)
      .then((body) => {
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && k !== 'content-length' && k !== 'connection' && k !== 'transfer-encoding') headers[k] = v;
        headers['content-length'] = String(body.length);
        const out = httpRequest(new URL(req.url ?? '/', targetUrl), { method: req.method, headers, timeout: 120_000 }, (upstream) => {
          const outHeaders: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(upstream.headers)) if (v !== undefined && k !== 'connection' && k !== 'transfer-encoding') outHeaders[k] = v;
          res.writeHead(upstream.statusCode ?? 502, outHeaders);
          upstream.pipe(res);
          upstream.on('end', () => {
            const accessKeyId = accessKeyIdOfRequest(req.headers.authorization);
            calls.push({ service: serviceOf(req.headers.authorization), operation: operationOf(req, body), status: upstream.statusCode ?? 0, at: started, durationMs: Date.now() - started, ...(accessKeyId !== undefined ? { accessKeyId } : {}) });
          });
        });
        out.on('timeout', () => out.destroy(new Error('emulator did not answer within 120 s')));
        out.on('error', (error) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`recorder: upstream error ${error.message}`);
        });
        out.end(body);
      })
      .catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(`recorder: ${error instanceof Error ? error.message : String(error)}`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    countsSince(from: number) {
      const counts: Record<string, number> = {};
      for (const c of calls.slice(from)) {
        const key = `${c.service}:${c.operation}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
