import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { MAX_ATTEMPTS, MAX_PAGES, callAws, isAwsError } from './call';
import type { OperatorClientOptions } from './lambda';
import type { LogEvent, LogReaderPort, LogSearchResult } from '../ports/logs';

export function createLogsClient(options: OperatorClientOptions): CloudWatchLogsClient {
  return new CloudWatchLogsClient({
    maxAttempts: MAX_ATTEMPTS,
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
}

/** FilterLogEvents' own bound on one page (1..10000). */
export const MAX_PAGE_EVENTS = 10_000;

/**
 * FilterLogEvents, every page: a page may be partly full or even empty while a
 * nextToken says more may follow ("Partially full or empty pages don't
 * necessarily mean that pagination is finished"); only a missing nextToken ends
 * the search. Bounded by MAX_PAGES and by `maxEvents`.
 */
export function createLogReader(client: CloudWatchLogsClient): LogReaderPort {
  return {
    async search({ logGroupName, startTime, filterPattern, maxEvents }): Promise<LogSearchResult> {
      const operation = 'FilterLogEvents';
      const events: LogEvent[] = [];
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        let missing: string | undefined;
        const out = await callAws(
          operation,
          () =>
            client.send(
              new FilterLogEventsCommand({
                logGroupName,
                startTime,
                filterPattern,
                limit: Math.min(MAX_PAGE_EVENTS, Math.max(1, maxEvents - events.length)),
                ...(nextToken ? { nextToken } : {}),
              }),
            ),
          (error) => {
            if (!isAwsError(error, 'ResourceNotFoundException')) return undefined;
            missing = error instanceof Error ? error.message : String(error);
            return { value: undefined };
          },
        );
        if (out === undefined) return { found: false, message: missing ?? 'ResourceNotFoundException' };
        for (const e of out.events ?? []) {
          if (typeof e.timestamp === 'number' && typeof e.message === 'string') events.push({ timestamp: e.timestamp, message: e.message });
        }
        nextToken = out.nextToken;
        if (nextToken === undefined) return { found: true, events, truncated: false };
        if (events.length >= maxEvents) return { found: true, events: events.slice(0, maxEvents), truncated: true };
      }
      return { found: true, events, truncated: true };
    },
  };
}
