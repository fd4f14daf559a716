import { parseStatusBundle } from '../../../../lib/core/storage/gluster-parse';
import { BUNDLE_END, SSM_STDOUT_LIMIT, unframeStatus } from '../../../../lib/core/storage/status-frame';
import { frameStatus } from '../../usecases/storage/fake-storage';

const plain = `### gluster-status pool-list rc=0 ###\n<cliOutput/>\n${BUNDLE_END}\n`;

describe('unframeStatus', () => {
  it('decodes the framed bundle (gzip, base64, size and SHA-256 checked)', () => {
    expect(unframeStatus(frameStatus(plain))).toBe(plain);
  });

  it('passes a plain bundle that has its end marker', () => {
    expect(unframeStatus(plain)).toBe(plain);
  });

  it.each([
    ['a plain bundle without its end marker', plain.replace(BUNDLE_END, ''), /no end marker .* \(output incomplete\)/],
    ['a plain bundle cut at the SSM limit', `${plain.replace(BUNDLE_END, '')}${'x'.repeat(SSM_STDOUT_LIMIT)}`.slice(0, SSM_STDOUT_LIMIT), /cut at Run Command's 24,000-character stdout limit/],
    ['a frame without its end line (cut)', frameStatus(plain).split('\n').slice(0, 2).join('\n'), /no "### gluster-status-bundle end ###" line/],
    ['an encoded bundle that is not gzip', frameStatus(plain).replace(/\n[^\n]+\n/, '\nbm90IGd6aXA=\n'), /does not decompress/],
    ['a size or digest that does not match', frameStatus(plain).replace(/sha256=[0-9a-f]{64}/, `sha256=${'0'.repeat(64)}`), /the header says/],
  ])('refuses %s, by name', (_what, stdout, message) => {
    expect(() => unframeStatus(stdout)).toThrow(message);
  });
});

describe('a framed bundle the script did not finish', () => {
  it('is refused for its missing end marker, not parsed without its last line', () => {
    expect(() => parseStatusBundle(frameStatus(plain.replace(`${BUNDLE_END}\n`, '')))).toThrow(/no end marker/);
  });
});
