import { MalformedEventError } from '../../errors';

/**
 * A small, strict XML reader for Gluster's `--xml` CLI output: elements,
 * attributes, text, comments, CDATA, the five predefined entities and numeric
 * character references. No DTDs, no namespaces, no processing instructions
 * other than the leading declaration. Anything else is refused with the
 * position, so a truncated or garbled command output never parses as an
 * empty (and harmless-looking) cluster.
 */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text (child elements' text excluded), entities decoded. */
  readonly text: string;
}

const NAME = /[A-Za-z_][A-Za-z0-9_.:-]*/y;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

class Reader {
  private pos = 0;
  public constructor(private readonly src: string, private readonly what: string) {}

  public fail(message: string): never {
    const before = this.src.slice(0, this.pos);
    const line = before.split('\n').length;
    const column = this.pos - before.lastIndexOf('\n');
    throw new MalformedEventError(`${this.what}: malformed XML at line ${line} column ${column}: ${message}`);
  }

  public document(): XmlElement {
    if (this.src.trim() === '') this.fail('the output is empty (is glusterd running?)');
    this.skipSpace();
    if (this.src.startsWith('<?xml', this.pos)) {
      const end = this.src.indexOf('?>', this.pos);
      if (end < 0) this.fail('unterminated XML declaration');
      this.pos = end + 2;
    }
    this.misc();
    if (this.src[this.pos] !== '<') this.fail('expected the root element');
    const root = this.element();
    this.misc();
    if (this.pos < this.src.length) this.fail('content after the root element');
    return root;
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos] as string)) this.pos += 1;
  }

  /** Whitespace and comments between top-level constructs. */
  private misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.src.startsWith('<!--', this.pos)) this.comment();
      else return;
    }
  }

  private comment(): void {
    const end = this.src.indexOf('-->', this.pos + 4);
    if (end < 0) this.fail('unterminated comment');
    this.pos = end + 3;
  }

  private name(): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.src);
    if (!m) this.fail('expected a name');
    this.pos += m[0].length;
    return m[0];
  }

  private element(): XmlElement {
    this.pos += 1; // '<'
    const name = this.name();
    const attributes: Record<string, string> = {};
    for (;;) {
      const spaced = /\s/.test(this.src[this.pos] ?? '');
      this.skipSpace();
      const c = this.src[this.pos];
      if (c === '>' || c === '/') break;
      if (c === undefined) this.fail(`unterminated start tag <${name}>`);
      if (!spaced) this.fail(`expected whitespace before an attribute in <${name}>`);
      const key = this.name();
      this.skipSpace();
      if (this.src[this.pos] !== '=') this.fail(`attribute ${key} of <${name}> has no value`);
      this.pos += 1;
      this.skipSpace();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(`attribute ${key} of <${name}> is not quoted`);
      const end = this.src.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail(`unterminated value of attribute ${key}`);
      const raw = this.src.slice(this.pos + 1, end);
      if (raw.includes('<')) this.fail(`'<' in the value of attribute ${key}`);
      if (key in attributes) this.fail(`attribute ${key} repeated in <${name}>`);
      attributes[key] = this.decode(raw);
      this.pos = end + 1;
    }
    if (this.src[this.pos] === '/') {
      if (this.src[this.pos + 1] !== '>') this.fail(`expected '/>' in <${name}>`);
      this.pos += 2;
      return { name, attributes, children: [], text: '' };
    }
    this.pos += 1; // '>'
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      const lt = this.src.indexOf('<', this.pos);
      if (lt < 0) this.fail(`element <${name}> is not closed`);
      text += this.decode(this.src.slice(this.pos, lt));
      this.pos = lt;
      if (this.src.startsWith('</', this.pos)) {
        this.pos += 2;
        const closing = this.name();
        if (closing !== name) this.fail(`</${closing}> closes <${name}>`);
        this.skipSpace();
        if (this.src[this.pos] !== '>') this.fail(`expected '>' after </${closing}`);
        this.pos += 1;
        return { name, attributes, children, text };
      }
      if (this.src.startsWith('<!--', this.pos)) {
        this.comment();
      } else if (this.src.startsWith('<![CDATA[', this.pos)) {
        const end = this.src.indexOf(']]>', this.pos);
        if (end < 0) this.fail('unterminated CDATA section');
        text += this.src.slice(this.pos + 9, end);
        this.pos = end + 3;
      } else if (this.src.startsWith('<!', this.pos) || this.src.startsWith('<?', this.pos)) {
        this.fail('declarations and processing instructions are not supported inside elements');
      } else {
        children.push(this.element());
      }
    }
  }

  private decode(raw: string): string {
    if (raw.includes(']]>')) this.fail("']]>' in text");
    return raw.replace(/&([^;&\s]*);?/g, (match, ref: string) => {
      if (!match.endsWith(';')) this.fail(`'&' not starting an entity: ${JSON.stringify(match)}`);
      if (ref in ENTITIES) return ENTITIES[ref] as string;
      const code = /^#x[0-9A-Fa-f]{1,6}$/.test(ref) ? parseInt(ref.slice(2), 16)
        : /^#[0-9]{1,7}$/.test(ref) ? parseInt(ref.slice(1), 10) : NaN;
      if (!Number.isFinite(code) || code > 0x10ffff) this.fail(`unknown entity &${ref};`);
      return String.fromCodePoint(code);
    });
  }
}

/** Parses an XML document; `what` names the source in errors (e.g. "gluster pool list"). */
export function parseXml(src: string, what: string): XmlElement {
  if (typeof src !== 'string') throw new MalformedEventError(`${what}: expected XML text, got ${typeof src}`);
  return new Reader(src, what).document();
}

/** Child elements named `name`. */
export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/** The one child named `name`, or undefined. More than one is an error. */
export function optionalChild(el: XmlElement, name: string, what: string): XmlElement | undefined {
  const found = childrenNamed(el, name);
  if (found.length > 1) throw new MalformedEventError(`${what}: <${el.name}> has ${found.length} <${name}> elements, expected one`);
  return found[0];
}

export function child(el: XmlElement, name: string, what: string): XmlElement {
  const found = optionalChild(el, name, what);
  if (!found) throw new MalformedEventError(`${what}: <${el.name}> has no <${name}>`);
  return found;
}

/** Trimmed text of the required child `name`. */
export function textOf(el: XmlElement, name: string, what: string): string {
  return child(el, name, what).text.trim();
}

/** The required child `name` as an integer (Gluster writes -1 for "none"). */
export function intOf(el: XmlElement, name: string, what: string): number {
  const raw = textOf(el, name, what);
  if (!/^-?[0-9]+$/.test(raw)) throw new MalformedEventError(`${what}: <${name}> is not a whole number: ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new MalformedEventError(`${what}: <${name}> is out of range: ${raw}`);
  return n;
}

/** The required child `name` as a decimal number (e.g. rebalance runtime "12.50"). */
export function numberOf(el: XmlElement, name: string, what: string): number {
  const raw = textOf(el, name, what);
  if (!/^-?[0-9]+(\.[0-9]+)?$/.test(raw)) throw new MalformedEventError(`${what}: <${name}> is not a number: ${JSON.stringify(raw)}`);
  return Number(raw);
}
