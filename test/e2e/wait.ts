/**
 * The e2e tests' one poller: calls `probe` until it answers something other
 * than undefined, at most `timeoutMs` (and a bounded number of rounds), then
 * fails naming `what`. A probe that throws ends the wait at once, unless
 * `retryOnError` (the last error is then named on timeout).
 */
export interface WaitOptions {
  /** Pause between probes (default 1000 ms). */
  readonly intervalMs?: number;
  readonly retryOnError?: boolean;
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, options: WaitOptions = {}): Promise<T> {
  const intervalMs = options.intervalMs ?? 1000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let round = 0; round < 100_000; round += 1) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (!options.retryOnError) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError !== undefined ? ` (last error: ${String(lastError)})` : ''}`);
}
