import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one logger. Keys used across the project: instanceId, asgName,
 * hookName, commandId, step, flow. Level from POWERTOOLS_LOG_LEVEL.
 */
export const logger = new Logger({ serviceName: 'pydio-autoscaler' });

export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
