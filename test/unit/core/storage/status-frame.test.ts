import { parseStatusBundle } from '../../../../lib/core/storage/gluster-parse';
import { randomBytes } from 'node:crypto';
import {
  BUNDLE_END,
  SSM_STDOUT_LIMIT,
  STATUS_MAX_CHARS,
  STATUS_PART_CHARS,
  STATUS_STEPS,
  continuesInNextPart,
  unframeStatus,
} from '../../../../lib/core/storage/status-frame';
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

/** A plain bundle that hardly compresses (random bytes, base64 in a comment): framed, about 1.3 characters a byte. */
function incompressible(bytes: number): string {
  return `### gluster-status pool-list rc=0 ###\n<!-- ${randomBytes(bytes).toString('base64')} -->\n${BUNDLE_END}\n`;
}

/** The parts the document's steps print: STATUS_PART_CHARS each, in step order. */
function parts(framed: string): string[] {
  return STATUS_STEPS.map((_, i) => framed.slice(i * STATUS_PART_CHARS, (i + 1) * STATUS_PART_CHARS));
}

describe('a framed bundle printed in parts (one per document step)', () => {
  it('goes on in the next step while the last part read was whole and the end line is missing', () => {
    const framed = frameStatus(incompressible(40_000));
    expect(framed.length).toBeGreaterThan(2 * STATUS_PART_CHARS);
    const [p0, p1, p2] = parts(framed);
    expect(continuesInNextPart(p0!)).toBe(true);
    expect(continuesInNextPart(p0! + p1!)).toBe(true);
    expect(continuesInNextPart(p0! + p1! + p2!)).toBe(false);
    expect(unframeStatus(p0! + p1! + p2!)).toBe(unframeStatus(framed));
  });

  it('stops after a short part, a small frame, or a plain bundle', () => {
    expect(continuesInNextPart(frameStatus(plain))).toBe(false);
    expect(continuesInNextPart(plain.padEnd(STATUS_PART_CHARS, 'x'))).toBe(false);
    expect(continuesInNextPart('')).toBe(false);
  });

  it('refuses the first part alone (what one GetCommandInvocation of the first step gives), by name', () => {
    const [p0] = parts(frameStatus(incompressible(40_000)));
    expect(() => unframeStatus(p0!)).toThrow(/no "### gluster-status-bundle end ###" line .*a part is missing or was cut/);
  });

  it("refuses a bundle longer than the document's parts, naming the limit", () => {
    const framed = frameStatus(incompressible(STATUS_MAX_CHARS));
    const read = parts(framed).join('');
    expect(read.length).toBe(STATUS_MAX_CHARS);
    expect(() => unframeStatus(read)).toThrow(/longer than the document's 8 parts of 20,000 characters/);
  });
});
