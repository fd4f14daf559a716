/** Browser-like clients of the load balancer: a cookie session, and a loop of sessions sending requests. */

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface Answer {
  readonly status: number;
  readonly node: string;
  readonly sessionId: string;
  readonly count: number;
}

/** A browser session: one cookie jar, requests through the load balancer. */
export class CookieSession {
  private readonly jar = new Map<string, string>();

  constructor(private readonly baseUrl: string) {}

  get cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** GET `path` (default the app's index) with the jar; keeps any Set-Cookie. */
  async get(pathAndQuery = '/index.php', timeoutMs = 10_000): Promise<Answer> {
    const res = await fetch(`${this.baseUrl}${pathAndQuery}`, {
      headers: this.jar.size > 0 ? { cookie: this.cookie } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    for (const line of res.headers.getSetCookie()) {
      const m = /^([^=;\s]+)=([^;]*)/.exec(line);
      if (m?.[1] !== undefined && m[2] !== undefined) this.jar.set(m[1], m[2]);
    }
    const text = await res.text();
    let body: { node?: string; sessionId?: string; count?: number } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // not JSON (e.g. HAProxy's 503 page): status tells
    }
    return { status: res.status, node: body.node ?? res.headers.get('x-pydio-node') ?? '', sessionId: body.sessionId ?? '', count: body.count ?? 0 };
  }
}

export interface LoopReport {
  readonly requests: number;
  readonly failures: number;
  readonly failureSamples: readonly string[];
  /** Per session: the nodes that answered, in order of first answer. */
  readonly nodesPerSession: readonly (readonly string[])[];
  /** Whether every session's counter only went up (its PHP session survived). */
  readonly countersMonotonic: boolean;
}

/**
 * `sessions` cookie sessions sending requests back to back through the LB
 * until `stop()` resolves or `maxSeconds` pass (bounded either way).
 */
export async function requestLoop(baseUrl: string, sessions: number, until: Promise<unknown>, maxSeconds = 300): Promise<LoopReport> {
  let done = false;
  void until.finally(() => {
    done = true;
  });
  const deadline = Date.now() + maxSeconds * 1000;
  let requests = 0;
  let failures = 0;
  const samples: string[] = [];
  const nodes: string[][] = [];
  let monotonic = true;
  await Promise.all(
    Array.from({ length: sessions }, async (_, index) => {
      const s = new CookieSession(baseUrl);
      const seen: string[] = [];
      nodes[index] = seen;
      let last = 0;
      for (let i = 0; i < 100_000 && !done && Date.now() < deadline; i += 1) {
        requests += 1;
        try {
          const a = await s.get();
          if (a.status !== 200) {
            failures += 1;
            if (samples.length < 5) samples.push(`session ${index}: HTTP ${a.status}`);
          } else {
            if (!seen.includes(a.node)) seen.push(a.node);
            if (a.count <= last) monotonic = false;
            last = a.count;
          }
        } catch (error) {
          failures += 1;
          if (samples.length < 5) samples.push(`session ${index}: ${error instanceof Error ? error.message : String(error)}`);
        }
        await sleep(50);
      }
    }),
  );
  return { requests, failures, failureSamples: samples, nodesPerSession: nodes, countersMonotonic: monotonic };
}
