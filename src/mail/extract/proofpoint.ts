/**
 * Proofpoint URL Defense, the three generations, following Proofpoint's own URLDefenseDecode.py
 * v3.0.1 (see shared/reference/email.md A2).
 */
import { decodeEntities } from './html.js';

/** v1: `u` up to `&k=`, percent-decoded, then HTML-unescaped. */
export function decodeProofpointV1(url: string): string | undefined {
  const m = /[?&]u=(.+?)&k=/.exec(url);
  return m ? decodeEntities(safeDecode(m[1]!)) : undefined;
}

/** v2: `u` up to `&d=`/`&c=`; `-` stands for `%` and `_` for `/`. */
export function decodeProofpointV2(url: string): string | undefined {
  const m = /[?&]u=(.+?)&[dc]=/.exec(url) ?? /[?&]u=([^&]+)$/.exec(url);
  if (!m) return undefined;
  return decodeEntities(safeDecode(m[1]!.replace(/-/g, '%').replace(/_/g, '/')));
}

const RUN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * v3: `v3/__<URL>__;<ENC>!!...`. The characters Proofpoint removed from <URL> are in <ENC>
 * (URL-safe base64 of UTF-8); `*` takes the next one, `**X` the next 2 + index(X) of them.
 * Percent-decoding happens before the substitution, so a re-inserted `%2F` stays encoded.
 */
export function decodeProofpointV3(url: string): string | undefined {
  const m = /v3\/__(.+?)__;(.*?)!/.exec(url);
  if (!m) return undefined;
  const body = safeDecode(m[1]!);
  let removed: string[];
  try {
    removed = Array.from(Buffer.from(m[2]!.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  let next = 0;
  const take = (n: number): string | undefined => {
    if (next + n > removed.length) return undefined;
    const run = removed.slice(next, next + n).join('');
    next += n;
    return run;
  };
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '*') {
      out += ch;
      continue;
    }
    if (body[i + 1] === '*' && i + 2 < body.length) {
      const n = RUN_ALPHABET.indexOf(body[i + 2]!);
      const run = n >= 0 ? take(n + 2) : undefined;
      if (run === undefined) return undefined;
      out += run;
      i += 2;
      continue;
    }
    const one = take(1);
    if (one === undefined) return undefined;
    out += one;
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
