/**
 * FilterLogEvents as CloudWatch Logs may answer it, not as moto does (moto
 * answers every match at once): "A returned page might only be partially full,
 * or even empty ... Partially full or empty pages don't necessarily mean that
 * pagination is finished. If the results include a nextToken, there might be
 * more log events available." The front answers a first page that is empty
 * with a nextToken, then forwards the search to moto a few events a page, so a
 * reader that stops at an empty page, or reads one page only, misses events here
 * as it would on AWS.
 */
export const EMPTY_FIRST_PAGE_TOKEN = 'pas-sandbox/empty-first-page';
/** Events per page the sandbox lets moto answer. */
export const SANDBOX_PAGE_EVENTS = 3;

export type FilterLogEventsStep =
  | { readonly kind: 'answer'; readonly body: Record<string, unknown> }
  | { readonly kind: 'forward'; readonly body: Record<string, unknown> };

export function pageFilterLogEvents(input: Record<string, unknown>): FilterLogEventsStep {
  if (input.nextToken === undefined) return { kind: 'answer', body: { events: [], searchedLogStreams: [], nextToken: EMPTY_FIRST_PAGE_TOKEN } };
  const { nextToken, ...rest } = input;
  const limit = typeof input.limit === 'number' ? Math.min(input.limit, SANDBOX_PAGE_EVENTS) : SANDBOX_PAGE_EVENTS;
  return { kind: 'forward', body: { ...rest, ...(nextToken === EMPTY_FIRST_PAGE_TOKEN ? {} : { nextToken }), limit } };
}
