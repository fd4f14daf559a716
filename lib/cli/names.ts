/**
 * What the operator CLI calls, named as serverless.yml deploys it: each function is
 * `<service>-<stage>-<function>` and logs to `/aws/lambda/<that name>`.
 */
import { OperatorError } from '../errors';

/** serverless.yml `service:` (test/unit/cli/names.test.ts keeps them equal). */
export const SERVICE = 'pydio-autoscaler';

/** The functions an operator calls or reads: serverless.yml's function keys. */
export type FunctionKey = 'status' | 'storage' | 'alarm' | 'lifecycle';

/** osls refuses any other stage name: "Stage names may contain only ASCII letters, numbers, and hyphens." */
const STAGE = /^[A-Za-z0-9-]+$/;

/** Lambda: "If you specify only the function name, it is limited to 64 characters in length." */
export const MAX_FUNCTION_NAME = 64;

const LONGEST_KEY: FunctionKey = 'lifecycle';

/** Refuses a stage no deployment can have, naming why. */
export function checkStage(stage: string): string {
  if (!STAGE.test(stage)) throw new OperatorError(`--stage must be the name of a deployed stage (ASCII letters, digits and hyphens, as serverless allows), got ${JSON.stringify(stage)}`);
  const longest = `${SERVICE}-${stage}-${LONGEST_KEY}`;
  if (longest.length > MAX_FUNCTION_NAME) {
    throw new OperatorError(`--stage ${stage} is too long: its function names (e.g. ${longest}, ${longest.length} characters) exceed Lambda's ${MAX_FUNCTION_NAME}`);
  }
  return stage;
}

export function functionName(stage: string, key: FunctionKey): string {
  return `${SERVICE}-${stage}-${key}`;
}

/** Lambda's default log group: "stored in a log group named /aws/lambda/<function-name>". */
export function logGroupName(stage: string, key: FunctionKey): string {
  return `/aws/lambda/${functionName(stage, key)}`;
}
