/**
 * Progress of a long call on stderr (stdout stays the answer, so --json can be
 * piped): the phase when it starts, how long so far while it runs, and how
 * long it took. On a terminal one line is rewritten each second; elsewhere
 * (a log, CI) a line every 5 seconds.
 */
export interface ProgressSink {
  write(text: string): void;
  readonly isTTY: boolean;
}

export interface Clock {
  now(): number;
  every(ms: number, tick: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  every(ms, tick) {
    const handle = setInterval(tick, ms);
    handle.unref();
    return () => clearInterval(handle);
  },
};

export interface Phase {
  /** Ends the phase: `outcome` in a few words (e.g. "answered", "failed"). */
  end(outcome: string): void;
}

const PREFIX = 'pydio-autoscaler: ';

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Starts a phase: `what` says what is being waited for, e.g. "invoking pydio-autoscaler-prod-storage (dry run: reads the Gluster status, up to ~25s)". */
export function startPhase(sink: ProgressSink, what: string, clock: Clock = systemClock): Phase {
  const started = clock.now();
  let ended = false;
  if (sink.isTTY) sink.write(`${PREFIX}${what} ...`);
  else sink.write(`${PREFIX}${what} ...\n`);
  const stop = clock.every(sink.isTTY ? 1000 : 5000, () => {
    if (ended) return;
    const so = `${PREFIX}${what} ... ${seconds(clock.now() - started)} so far`;
    sink.write(sink.isTTY ? `\r${so}` : `${so}\n`);
  });
  return {
    end(outcome) {
      if (ended) return;
      ended = true;
      stop();
      const line = `${PREFIX}${what}: ${outcome} after ${seconds(clock.now() - started)}`;
      sink.write(sink.isTTY ? `\r\x1b[2K${line}\n` : `${line}\n`);
    },
  };
}
