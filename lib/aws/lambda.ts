import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { callAws, isAwsError } from './call';
import type { FunctionInvokerPort, InvokeOutcome } from '../ports/lambda';

/** Where the operator's calls go: the SDK's own chain (environment, profile, instance role) fills what is not given. */
export interface OperatorClientOptions {
  readonly region?: string;
  readonly profile?: string;
  /** Another endpoint than AWS's (the sandbox's emulator); AWS_ENDPOINT_URL works too, read by the SDK itself. */
  readonly endpoint?: string;
}

/**
 * One attempt only: an invoke that asks the storage function to act must
 * not be sent twice because an answer was slow (the SDK retries throttling
 * and 5xx answers otherwise).
 */
export function createLambdaClient(options: OperatorClientOptions): LambdaClient {
  return new LambdaClient({
    maxAttempts: 1,
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
}

function parsePayload(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Invoke by name; ResourceNotFoundException becomes an outcome the caller words, every other error an AwsCallError. */
export function createFunctionInvoker(client: LambdaClient): FunctionInvokerPort {
  return {
    async invoke(functionName, payload, type = 'RequestResponse'): Promise<InvokeOutcome> {
      const operation = 'Invoke';
      const input = { FunctionName: functionName, InvocationType: type, Payload: Buffer.from(JSON.stringify(payload ?? {}), 'utf8') };
      let notFound: string | undefined;
      const out = await callAws(
        operation,
        () => client.send(new InvokeCommand(input)),
        (error) => {
          if (!isAwsError(error, 'ResourceNotFoundException')) return undefined;
          notFound = error instanceof Error ? error.message : String(error);
          return { value: undefined };
        },
      );
      if (out === undefined) return { kind: 'not-found', message: notFound ?? 'ResourceNotFoundException' };
      return {
        kind: 'answered',
        statusCode: out.StatusCode ?? 0,
        payload: parsePayload(out.Payload ? Buffer.from(out.Payload).toString('utf8') : ''),
        ...(out.FunctionError ? { functionError: out.FunctionError } : {}),
      };
    },
  };
}
