/** Prints the catalogue's summary table for the README: `npx tsx test/contracts/count.ts`. */
import { countByArea, loadCatalogue } from './catalogue';

const rows = countByArea(loadCatalogue());
console.log('| area | entries | wrong-before | gap |');
console.log('| --- | ---: | ---: | ---: |');
for (const row of rows) console.log(`| ${row.area} | ${row.entries} | ${row.wrongBefore} | ${row.gaps} |`);
