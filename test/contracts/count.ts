/**
 * The catalogue's summary table: `npx tsx test/contracts/count.ts` prints it,
 * `npx tsx test/contracts/count.ts --write` puts it into test/contracts/README.md
 * (between the counts markers; the unit test checks that the README agrees).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countByArea, loadCatalogue, type AreaCount } from './catalogue';

export const README = join(__dirname, 'README.md');
const START = '<!-- counts:start -->';
const END = '<!-- counts:end -->';

export function countsTable(rows: readonly AreaCount[]): string {
  return [
    '| area | entries | wrong-before | gap |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((row) => `| ${row.area} | ${row.entries} | ${row.wrongBefore} | ${row.gaps} |`),
  ].join('\n');
}

/** The table between the markers of `readme` (undefined without markers). */
export function tableIn(readme: string): string | undefined {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + START.length, end).trim();
}

export function withTable(readme: string, table: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README has no ${START} ... ${END} block`);
  return `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`;
}

if (require.main === module) {
  const table = countsTable(countByArea(loadCatalogue()));
  if (process.argv.includes('--write')) writeFileSync(README, withTable(readFileSync(README, 'utf8'), table));
  console.log(table);
}
