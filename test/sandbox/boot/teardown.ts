/** The boot's teardowns: what each phase left running, stopped in reverse order by stop(), a failed boot or a signal. */
import { SandboxError } from '../errors';

/** One thing a boot phase left running, and how to stop it; `what` names it when stopping it fails. */
export interface Teardown {
  readonly what: string;
  readonly stop: () => Promise<void>;
}

/**
 * The teardowns of what a phase started, in the order it started them (none: the phase left nothing running).
 * A phase starts at most one thing and starts it last, so a phase that fails has nothing of its own left to
 * stop: what needs stopping before a later step can fail is a phase of its own (the recorder before the deploy).
 */
export interface Started {
  readonly teardowns: readonly Teardown[];
}

export class Teardowns {
  private readonly stoppers: Teardown[] = [];
  private stopping: Promise<void> | undefined;
  private readonly signalHandlers: [string, (...args: unknown[]) => void][] = [];

  /** Keeps the phase's teardowns (they run before every one kept earlier) and hands the phase's results on. */
  keep<T extends Started>(started: T): T {
    this.stoppers.push(...started.teardowns);
    return started;
  }

  /** Stops everything kept, last kept first, once (later calls get the same promise); names each stop that failed. */
  readonly stopAll = (): Promise<void> => {
    if (this.stopping !== undefined) return this.stopping;
    // Some stop() calls wait on unref'd children and timers: keep the process alive until all are done.
    const keepAlive = setInterval(() => undefined, 1000);
    this.stopping = (async () => {
      for (const [signal, handler] of this.signalHandlers) process.off(signal, handler);
      const errors: string[] = [];
      for (const s of this.stoppers.reverse()) {
        try {
          await s.stop();
        } catch (error) {
          errors.push(`${s.what}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (errors.length > 0) throw new SandboxError(`teardown was incomplete: ${errors.join('; ')}`);
    })().finally(() => clearInterval(keepAlive));
    return this.stopping;
  };

  /** On SIGINT, SIGTERM or an uncaught failure: stop everything, then exit (130, 143, 1). Undone by stopAll(). */
  handleSignals(): void {
    const onSignal = (signal: unknown) => {
      process.stderr.write(`\nsandbox: ${String(signal)} received, tearing down...\n`);
      this.stopAll()
        .catch((error: unknown) => process.stderr.write(`sandbox: ${String(error)}\n`))
        .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    const onFailure = (error: unknown) => {
      process.stderr.write(`sandbox: uncaught failure, tearing down: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      this.stopAll()
        .catch(() => undefined)
        .finally(() => process.exit(1));
    };
    this.signalHandlers.push(['SIGINT', onSignal], ['SIGTERM', onSignal], ['uncaughtException', onFailure], ['unhandledRejection', onFailure]);
    for (const [signal, handler] of this.signalHandlers) process.on(signal, handler);
  }
}
