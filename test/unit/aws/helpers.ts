import type { Log } from '../../../lib/logger';

/** A Log whose calls the test can read. */
export function recordingLog(): Log & { infos: Array<[string, Record<string, unknown>]> } {
  const infos: Array<[string, Record<string, unknown>]> = [];
  return {
    infos,
    debug: jest.fn(),
    info: jest.fn((message: string, extra?: Record<string, unknown>) => {
      infos.push([message, extra ?? {}]);
    }) as unknown as Log['info'],
    warn: jest.fn(),
    error: jest.fn(),
  };
}

/** An error shaped like the SDK's: `name` is the service error code. */
export function awsError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return Object.assign(error, { $fault: 'client', $metadata: { httpStatusCode: 400 } });
}
