/**
 * A strict JSON parser (RFC 8259) that never turns a number into a double: every number keeps its
 * literal text. Objects become Maps (keys in order, no prototype surprises, duplicates rejected).
 */

export class ExactJsonNumber {
  constructor(readonly text: string) {}
}

export type ExactJsonValue = string | boolean | null | ExactJsonNumber | ExactJsonValue[] | Map<string, ExactJsonValue>;

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function parseExactJson(text: string): ExactJsonValue {
  const parser = new Parser(text);
  parser.skipSpace();
  const value = parser.value(0);
  parser.skipSpace();
  if (parser.pos !== text.length) parser.fail('unexpected text after the value');
  return value;
}

const MAX_DEPTH = 256;

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new SyntaxError(`JSON: ${message} at offset ${this.pos}`);
  }

  skipSpace(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 32 || c === 10 || c === 13 || c === 9) p++;
      else break;
    }
    this.pos = p;
  }

  value(depth: number): ExactJsonValue {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default: {
        NUMBER.lastIndex = this.pos;
        const m = NUMBER.exec(this.text);
        if (!m || m[0].length === 0)
          this.fail(c === undefined ? 'unexpected end' : `unexpected character ${JSON.stringify(c)}`);
        this.pos += m[0].length;
        return new ExactJsonNumber(m[0]);
      }
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return value;
  }

  private object(depth: number): Map<string, ExactJsonValue> {
    const out = new Map<string, ExactJsonValue>();
    this.members('}', () => {
      if (this.text[this.pos] !== '"') this.fail('expected a string key');
      const key = this.string();
      if (out.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}`);
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail('expected ":"');
      this.pos++;
      this.skipSpace();
      out.set(key, this.value(depth + 1));
    });
    return out;
  }

  private array(depth: number): ExactJsonValue[] {
    const out: ExactJsonValue[] = [];
    this.members(']', () => out.push(this.value(depth + 1)));
    return out;
  }

  /** The members of an object or an array: `member` reads each; commas between, `close` at the end. */
  private members(close: '}' | ']', member: () => void): void {
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === close) {
      this.pos++;
      return;
    }
    for (;;) {
      member();
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === close) return;
      if (c !== ',') this.fail(`expected "," or "${close}"`);
      this.skipSpace();
    }
  }

  private string(): string {
    const t = this.text;
    let p = ++this.pos;
    let out = '';
    let chunkStart = p;
    for (;;) {
      const c = t.charCodeAt(p);
      if (Number.isNaN(c)) {
        this.pos = p;
        this.fail('unterminated string');
      }
      if (c === 34 /* " */) {
        out += t.slice(chunkStart, p);
        this.pos = p + 1;
        return out;
      }
      if (c < 0x20) {
        this.pos = p;
        this.fail('control character in string');
      }
      if (c !== 92 /* \ */) {
        p++;
        continue;
      }
      out += t.slice(chunkStart, p);
      const e = t[p + 1];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = t.slice(p + 2, p + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.pos = p;
            this.fail('bad \\u escape');
          }
          out += String.fromCharCode(parseInt(hex, 16));
          p += 4;
          break;
        }
        default:
          this.pos = p;
          this.fail('bad escape');
      }
      p += 2;
      chunkStart = p;
    }
  }
}
