import fs from 'node:fs';
import path from 'node:path';
import { chatSampleBlocks } from './core/chat-sample';
import { packageCheckSample } from './config/package-check-sample';

const README = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');

describe('README shows the notices and the package check as the code makes them', () => {
  it('the e-mail text and the Chatbot JSON of one failure, side by side in "In chat"', () => {
    const section = README.slice(README.indexOf('### In chat (AWS Chatbot), and by severity'), README.indexOf('\n## Tests'));
    const { email, chatbot } = chatSampleBlocks();
    expect(section).toContain(email);
    expect(section).toContain(chatbot);
  });

  it('what `sls package` prints for a stage that cannot work, in "Checks at package time"', () => {
    const section = README.slice(README.indexOf('## Checks at package time'), README.indexOf('\n## Configure'));
    expect(section).toContain(packageCheckSample());
  });
});
