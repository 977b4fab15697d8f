/**
 * A structured header value (`text/plain; charset="utf-8"; format=flowed`) as its value and
 * parameters, exactly as libmime's parseHeaderValue reads it (mailparser's reading, the
 * reference). The plain form almost every Content-Type and Content-Disposition has is read here;
 * anything else (backslash escapes, RFC 2231 continuations `name*0*=`, a key without a value,
 * blanks inside a token, line breaks) goes to libmime, loaded on first use: libmime brings
 * iconv-lite and encoding-japanese, which a one-shot `extract` should not pay for.
 * test/unit/mail-header-value.test.ts checks the plain reading against libmime's on generated
 * values.
 */
import { createRequire } from 'node:module';
import type Libmime from 'libmime';

export interface HeaderValue {
  value: string;
  params: Record<string, string>;
}

/** `type[; key=token | key="quoted"]*[;]`, blanks (space, tab) around any of them. */
const PLAIN = /^[ \t]*([^\s;"\\]+)[ \t]*((?:;[ \t]*[A-Za-z0-9_.-]+[ \t]*=[ \t]*(?:[^\s;"\\]+|"[^"\\]*")[ \t]*)*)(?:;[ \t]*)?$/;
const PARAM = /;[ \t]*([A-Za-z0-9_.-]+)[ \t]*=[ \t]*(?:([^\s;"\\]+)|"([^"\\]*)")[ \t]*/g;

let libmime: typeof Libmime | undefined;

export function parseHeaderValue(str: string): HeaderValue {
  return parsePlain(str) ?? parseByLibmime(str);
}

/** The plain form read directly; undefined when the value is not in it. */
export function parsePlain(str: string): HeaderValue | undefined {
  const m = PLAIN.exec(str);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(PARAM)) {
    const key = p[1]!.toLowerCase();
    // a name libmime sets as an own property, which a plain assignment here would not
    if (key === '__proto__') return undefined;
    // the first of a parameter given twice, as libmime keeps it
    if (!Object.hasOwn(params, key)) params[key] = p[2] ?? p[3]!;
  }
  return { value: m[1]!, params };
}

function parseByLibmime(str: string): HeaderValue {
  libmime ??= createRequire(import.meta.url)('libmime') as typeof Libmime;
  const parsed = libmime.parseHeaderValue(str);
  // own properties, whatever their name (fromEntries defines them; `params[k] = v` would set a prototype)
  const params = Object.fromEntries(Object.entries(parsed.params ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { value: String(parsed.value ?? ''), params };
}
