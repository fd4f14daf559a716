/** The sandbox's own errors: a refused option or handle call, a boot step that failed, a wait that timed out. */

export class SandboxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxError';
  }
}

/** A bounded wait ended before the cluster reached the wanted state. */
export class SandboxTimeoutError extends SandboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxTimeoutError';
  }
}
