import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCatalogue, checkEntry, countByArea, loadCatalogue } from '../../contracts/catalogue';
import { countsTable, README, tableIn } from '../../contracts/count';

describe('the contract catalogue (test/contracts/catalogue/*.yml)', () => {
  const entries = loadCatalogue();

  it('has entries', () => {
    expect(entries.length).toBeGreaterThan(0);
  });

  it('every entry is complete, its references resolve and its id is unique', () => {
    expect(checkCatalogue(entries)).toEqual([]);
  });
});

describe('the catalogue checker', () => {
  const root = mkdtempSync(join(tmpdir(), 'catalogue-'));
  mkdirSync(join(root, 'lib'));
  writeFileSync(join(root, 'lib', 'queue.ts'), 'export const delaySeconds = 900;\n');
  writeFileSync(join(root, 'lib', 'queue.test.ts'), "it('caps the delay at 900 s', () => {});\n");
  const good = {
    id: 'sqs.send-message.delay-seconds',
    contract: 'DelaySeconds is at most 900.',
    source: { title: 'SendMessage', url: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html', quote: 'Maximum: 15 minutes' },
    product: 'lib/queue.ts#delaySeconds',
    enforced_by: 'lib/queue.ts#900',
    proven_by: 'lib/queue.test.ts#caps the delay',
    found: 'ok',
  };

  it('accepts a well-formed entry', () => {
    expect(checkEntry(good, root)).toEqual([]);
  });

  it.each([
    ['a missing field', { ...good, contract: undefined }, 'contract is missing'],
    ['a source with neither url nor repo+path', { ...good, source: { title: 't', quote: 'q' } }, 'source needs an http(s) url'],
    ['a source without a quote', { ...good, source: { ...good.source, quote: '' } }, 'source.quote is missing'],
    ['an unknown found', { ...good, found: 'fine' }, "found 'fine' is not one of"],
    ['a file that does not exist', { ...good, product: 'lib/nope.ts#delaySeconds' }, "'lib/nope.ts' is not a file"],
    ['a needle the file lacks', { ...good, proven_by: 'lib/queue.test.ts#rejects 901' }, "does not contain 'rejects 901'"],
    ['a reference without a needle', { ...good, enforced_by: 'lib/queue.ts' }, 'is not path#needle'],
    ['none: on an entry that is not a gap', { ...good, enforced_by: 'none: not yet' }, "enforced_by is 'none: ...' but found is 'ok'"],
    ['a gap that names an enforcer', { ...good, found: 'gap' }, 'a gap says why in enforced_by'],
    ['an id that is not dotted lower case', { ...good, id: 'SQS delay' }, 'must be lower-case and dotted'],
  ])('rejects %s', (_name, entry, problem) => {
    expect(checkEntry(entry as Record<string, unknown>, root).join('\n')).toContain(problem);
  });

  it('accepts a gap that says why, and moto as the enforcer of an ok entry', () => {
    expect(checkEntry({ ...good, found: 'gap', enforced_by: 'none: the sandbox has no such queue', proven_by: 'none: nothing to prove yet' }, root)).toEqual([]);
    expect(checkEntry({ ...good, enforced_by: 'none: moto refuses DelaySeconds 901 (InvalidParameterValue)' }, root)).toEqual([]);
  });

  it('rejects an id used twice, across files', () => {
    const problems = checkCatalogue([{ area: 'a', index: 0, raw: good }, { area: 'b', index: 3, raw: good }], root);
    expect(problems).toEqual([`b.yml[3] ${good.id}: id also used by a.yml[0]`]);
  });

  it('counts entries, wrong-before and gaps per area', () => {
    const rows = countByArea([
      { area: 'sqs', index: 0, raw: good },
      { area: 'sqs', index: 1, raw: { ...good, found: 'wrong-before' } },
      { area: 'sns', index: 0, raw: { ...good, found: 'gap' } },
    ]);
    expect(rows).toEqual([
      { area: 'sqs', entries: 2, wrongBefore: 1, gaps: 0 },
      { area: 'sns', entries: 1, wrongBefore: 0, gaps: 1 },
      { area: 'total', entries: 3, wrongBefore: 1, gaps: 1 },
    ]);
  });
});

describe('the README summary (test/contracts/README.md)', () => {
  it('shows the counts of the catalogue as it is (npx tsx test/contracts/count.ts --write)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(tableIn(readme)).toBe(countsTable(countByArea(loadCatalogue())));
  });
});
