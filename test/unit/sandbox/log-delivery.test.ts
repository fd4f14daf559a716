/**
 * The sandbox's CloudWatch Logs: what the Lambda runner ships (test/sandbox/lambda/log-shipper.ts)
 * and how the front pages FilterLogEvents (test/sandbox/control-plane/log-pages.ts).
 */
import { EMPTY_FIRST_PAGE_TOKEN, pageFilterLogEvents, SANDBOX_PAGE_EVENTS } from '../../sandbox/control-plane/log-pages';
import { batches, EVENT_OVERHEAD_BYTES, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_EVENT_BYTES, streamNameOf } from '../../sandbox/lambda/log-shipper';

describe('log shipping as Lambda does it', () => {
  it('names a stream YYYY/MM/DD/[$LATEST]<32 hex> from the day the environment started', () => {
    expect(streamNameOf(new Date('2026-11-21T23:59:00Z'))).toMatch(/^2026\/11\/21\/\[\$LATEST\][0-9a-f]{32}$/);
  });

  it('splits lines into PutLogEvents batches of at most 10,000 events and 1,048,576 bytes (26 per event), in order', () => {
    const many = Array.from({ length: MAX_BATCH_EVENTS + 1 }, (_, i) => ({ timestamp: i, message: 'x' }));
    expect(batches(many).map((b) => b.length)).toEqual([MAX_BATCH_EVENTS, 1]);
    const large = Array.from({ length: 5 }, (_, i) => ({ timestamp: i, message: 'y'.repeat(300_000) }));
    const out = batches(large);
    for (const b of out) expect(b.reduce((n, e) => n + Buffer.byteLength(e.message ?? '') + EVENT_OVERHEAD_BYTES, 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(out.flat().map((e) => e.timestamp)).toEqual([0, 1, 2, 3, 4]);
    expect(out.flat().every((e) => Buffer.byteLength(e.message ?? '') === MAX_EVENT_BYTES)).toBe(true);
  });

  it('an empty line is shipped as one space (an event message may not be empty)', () => {
    expect(batches([{ timestamp: 1, message: '' }])).toEqual([[{ timestamp: 1, message: ' ' }]]);
  });
});

describe('FilterLogEvents pages, as CloudWatch Logs may answer them', () => {
  it('the first page is empty with a nextToken; the search then goes to moto a few events a page', () => {
    expect(pageFilterLogEvents({ logGroupName: 'g', filterPattern: '"x"' })).toEqual({ kind: 'answer', body: { events: [], searchedLogStreams: [], nextToken: EMPTY_FIRST_PAGE_TOKEN } });
    expect(pageFilterLogEvents({ logGroupName: 'g', nextToken: EMPTY_FIRST_PAGE_TOKEN, limit: 100 })).toEqual({ kind: 'forward', body: { logGroupName: 'g', limit: SANDBOX_PAGE_EVENTS } });
    expect(pageFilterLogEvents({ logGroupName: 'g', nextToken: 'g@s@7', limit: 1 })).toEqual({ kind: 'forward', body: { logGroupName: 'g', nextToken: 'g@s@7', limit: 1 } });
  });
});
