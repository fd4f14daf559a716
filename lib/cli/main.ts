/**
 * The operator CLI's composition root (`npx pydio-autoscaler ...`, launched by
 * bin/pydio-autoscaler.js): parses the command line, builds the Lambda and
 * CloudWatch Logs clients with the operator's own credentials and Region (the
 * SDK's usual chain: environment, ~/.aws, --profile, instance role), runs the
 * command and turns every failure into one sentence on stderr.
 *
 * Exit codes: 0 done, 1 failed, 2 bad command line, 3 the storage function refused.
 */
import { createFunctionInvoker, createLambdaClient } from '../aws/lambda';
import { createLogReader, createLogsClient } from '../aws/logs';
import { AwsCallError, errorMessage, errorName, OperatorError } from '../errors';
import { parseArgs, USAGE, type Command } from './args';
import { EXIT, runCommand } from './commands';
import { systemClock, type ProgressSink } from './progress';

export interface Streams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
}

const PREFIX = 'pydio-autoscaler: ';
const NETWORK_CODES = /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|EAI_AGAIN)\b/;

/** An SDK or network failure in the operator's words. */
export function explain(error: unknown, where: string): string {
  const cause = error instanceof AwsCallError ? (error as { cause?: unknown }).cause ?? error : error;
  const name = errorName(cause);
  const message = errorMessage(cause);
  const operation = error instanceof AwsCallError ? error.operation : 'the call';
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return `no AWS credentials found: configure them as for the AWS CLI (aws configure, AWS_PROFILE or --profile, AWS_ACCESS_KEY_ID) [${message}]`;
  }
  if (['AccessDeniedException', 'AccessDenied', 'UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'UnauthorizedOperation'].includes(name)) {
    return `AWS refused ${operation} in ${where} with these credentials (${name}): ${message}`;
  }
  // A socket error's code, on the error or (when the SDK wrapped it) in its message.
  const code = (cause as { code?: unknown } | null)?.code;
  const network = typeof code === 'string' && NETWORK_CODES.test(code) ? code : NETWORK_CODES.exec(message)?.[0];
  if (network !== undefined || name === 'TimeoutError') {
    return `cannot reach the ${operation} endpoint in ${where} (${network ?? name}): ${message}`;
  }
  return `${operation} failed in ${where}: ${name && !message.startsWith(name) ? `${name}: ` : ''}${message}`;
}

async function resolveRegion(region: () => Promise<string>): Promise<string> {
  try {
    const value = await region();
    if (typeof value === 'string' && value !== '') return value;
  } catch {
    // the SDK says "Region is missing"; the sentence below says what to do
  }
  throw new OperatorError('no AWS Region: pass --region (e.g. --region eu-west-1), or set AWS_REGION or a region in ~/.aws/config');
}

export async function main(argv: readonly string[], streams: Streams): Promise<number> {
  const fail = (text: string, code: number): number => {
    streams.stderr.write(`${PREFIX}${text}\n`);
    return code;
  };
  let cmd: Command;
  try {
    cmd = parseArgs(argv);
  } catch (error) {
    if (error instanceof OperatorError) return fail(error.message, EXIT.usage);
    throw error;
  }
  if (cmd.kind === 'help') {
    streams.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }

  const options = cmd.common;
  const lambda = createLambdaClient(options);
  const logs = createLogsClient(options);
  let where = options.endpoint ?? options.region ?? 'the configured Region';
  try {
    const region = await resolveRegion(() => lambda.config.region());
    where = options.endpoint ? `${region} at ${options.endpoint}` : region;
    const progress: ProgressSink = { write: (text) => void streams.stderr.write(text), isTTY: streams.stderr.isTTY === true };
    return await runCommand(cmd, {
      invoker: createFunctionInvoker(lambda),
      logs: createLogReader(logs),
      out: (text) => void streams.stdout.write(text),
      progress,
      clock: systemClock,
      where,
    });
  } catch (error) {
    if (error instanceof OperatorError) return fail(error.message, EXIT.error);
    return fail(explain(error, where), EXIT.error);
  } finally {
    lambda.destroy();
    logs.destroy();
  }
}
