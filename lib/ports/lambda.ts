/**
 * Calling a deployed function through Lambda's Invoke API (the operator CLI).
 * Implemented by lib/aws/lambda.ts.
 */

/** RequestResponse runs the function and waits; DryRun only checks the name and the caller's permission. */
export type InvocationType = 'RequestResponse' | 'DryRun';

export type InvokeOutcome =
  | {
      readonly kind: 'answered';
      /** 200 for RequestResponse, 204 for DryRun. */
      readonly statusCode: number;
      /** The function's answer, parsed as JSON; undefined when the body was empty (DryRun). */
      readonly payload: unknown;
      /** X-Amz-Function-Error (e.g. "Unhandled"): the function failed; the payload holds errorType and errorMessage. */
      readonly functionError?: string;
    }
  /** Lambda's ResourceNotFoundException: no such function (or version) in this account and region. */
  | { readonly kind: 'not-found'; readonly message: string };

export interface FunctionInvokerPort {
  invoke(functionName: string, payload: unknown, type?: InvocationType): Promise<InvokeOutcome>;
}
