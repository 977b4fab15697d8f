/**
 * Faspex 5's `config.js`: the web UI's settings as a JavaScript assignment, e.g.
 *
 *   window.faspexConfig = { client_id: 'aBc', redirect_uri: '/aspera/faspex/token', sso: false };
 *
 * The public-link flow needs `client_id` and `redirect_uri` from it (faspex-protocol.md §7.2).
 * The text comes from the network, so it is never evaluated: this reads the object literal after
 * the first `=` with a small parser that accepts only data (strings, numbers, booleans, null,
 * nested objects and arrays, unquoted or quoted keys, comments, trailing commas) and stops at
 * anything else (calls, identifiers, template strings) with an error.
 */
import { permanent } from '../errors.js';

export type JsValue = string | number | boolean | null | JsValue[] | { [key: string]: JsValue };

export interface WebClientConfig {
  clientId: string;
  redirectUri: string;
}

const MAX_DEPTH = 16;

class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new SyntaxError(`${what} at character ${this.pos}`);
  }

  skip(): void {
    for (;;) {
      const rest = this.text.slice(this.pos);
      const m = /^(?:\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/)/.exec(rest);
      if (!m) return;
      this.pos += m[0].length;
    }
  }

  peek(): string {
    this.skip();
    return this.text[this.pos] ?? '';
  }

  expect(ch: string): void {
    if (this.peek() !== ch) this.fail(`expected "${ch}"`);
    this.pos++;
  }

  value(depth: number): JsValue {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    const ch = this.peek();
    if (ch === '{') return this.object(depth);
    if (ch === '[') return this.array(depth);
    if (ch === '"' || ch === "'") return this.string();
    const rest = this.text.slice(this.pos);
    const num = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(rest);
    if (num) {
      this.pos += num[0].length;
      return Number(num[0]);
    }
    const word = /^(true|false|null|undefined)\b/.exec(rest);
    if (word) {
      this.pos += word[0].length;
      return word[1] === 'true' ? true : word[1] === 'false' ? false : null;
    }
    return this.fail('a value that is not plain data');
  }

  object(depth: number): { [key: string]: JsValue } {
    this.expect('{');
    const out: { [key: string]: JsValue } = Object.create(null) as { [key: string]: JsValue };
    while (this.peek() !== '}') {
      const ch = this.peek();
      let key: string;
      if (ch === '"' || ch === "'") key = this.string();
      else {
        const m = /^[A-Za-z_$][\w$]*/.exec(this.text.slice(this.pos));
        if (!m) this.fail('expected a key');
        key = m[0];
        this.pos += key.length;
      }
      this.expect(':');
      out[key] = this.value(depth + 1);
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== '}') this.fail('expected "," or "}"');
    }
    this.pos++;
    return out;
  }

  array(depth: number): JsValue[] {
    this.expect('[');
    const out: JsValue[] = [];
    while (this.peek() !== ']') {
      out.push(this.value(depth + 1));
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== ']') this.fail('expected "," or "]"');
    }
    this.pos++;
    return out;
  }

  string(): string {
    const quote = this.text[this.pos]!;
    let out = '';
    for (this.pos++; this.pos < this.text.length; this.pos++) {
      const c = this.text[this.pos]!;
      if (c === quote) {
        this.pos++;
        return out;
      }
      if (c === '\n') break;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[++this.pos] ?? '';
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0' };
      if (e === 'u' || e === 'x') {
        const len = e === 'u' ? 4 : 2;
        const hex = this.text.slice(this.pos + 1, this.pos + 1 + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) this.fail('a bad escape');
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += len;
      } else out += simple[e] ?? e;
    }
    return this.fail('an unterminated string');
  }
}

/** The object literal assigned in a config.js text; throws SyntaxError when it is not plain data. */
export function parseConfigJs(text: string): { [key: string]: JsValue } {
  const eq = text.indexOf('=');
  if (eq < 0) throw new SyntaxError('no "=" in config.js');
  const reader = new Reader(text.slice(eq + 1));
  const value = reader.object(0);
  // Anything after the literal must be an end of statement, not more code.
  const tail = reader.text.slice(reader.pos).replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '').trim();
  if (!/^;?$/.test(tail)) throw new SyntaxError('more than one object literal in config.js');
  return value;
}

/** client_id and redirect_uri of the web UI, or a BAD_RESPONSE naming what is missing. */
export function readWebClientConfig(text: string, host: string): WebClientConfig {
  let config: { [key: string]: JsValue };
  try {
    config = parseConfigJs(text);
  } catch (e) {
    throw permanent('BAD_RESPONSE', `Faspex server ${host} sent a config.js this client cannot read (${(e as Error).message}); is it a Faspex 5 server?`, { host });
  }
  const clientId = config.client_id;
  const redirectUri = config.redirect_uri;
  if (typeof clientId !== 'string' || clientId === '' || typeof redirectUri !== 'string' || redirectUri === '') {
    throw permanent('BAD_RESPONSE', `Faspex server ${host} sent a config.js without client_id and redirect_uri; is it a Faspex 5 server?`, { host });
  }
  return { clientId, redirectUri };
}
