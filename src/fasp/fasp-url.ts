/**
 * FASP URL (`faspe://`, `fasp://`) → TransferSpec, as Faspex 4 puts it in `<link rel="package">`
 * (faspex-protocol.md §4). Behaviour follows ascli's Aspera::Transfer::Uri, except that every
 * value is checked: where ascli's `to_i` silently turns `targetrate=foo` into 0, we refuse the
 * link and say which parameter is wrong. `auth`, `v`, `protect` and unknown parameters are
 * ignored, as in ascli.
 *
 * Repeated parameters: a recognised parameter given twice with the same value is accepted;
 * with different values it is an error (a link carrying two tokens is ambiguous, and guessing
 * "last wins" could silently authorise the wrong transfer). Ignored parameters may repeat.
 *
 * The URL is split by hand rather than with WHATWG `URL`: that parser resolves `..` and `%2e%2e`
 * segments in the path, so the source it yields would not be the path Faspex issued, and its
 * errors could not name the offending part.
 */
import { permanent } from '../errors.js';
import { registerSecret } from '../log/secrets.js';
import type { Cipher, RatePolicy, TransferSpec } from './transfer-spec.js';

const SCHEMES = new Set(['faspe', 'fasp']);
const RATE_POLICIES: readonly RatePolicy[] = ['low', 'fair', 'high', 'fixed'];
const CIPHERS: readonly Cipher[] = [
  'none',
  'aes-128', 'aes-192', 'aes-256',
  'aes-128-cfb', 'aes-192-cfb', 'aes-256-cfb',
  'aes-128-gcm', 'aes-192-gcm', 'aes-256-gcm',
];
// Registered for masking the moment they are decoded, and never echoed in an error.
const SECRET_PARAMS = new Set(['token', 'cookie']);

// scheme :// [userinfo @] host [: port] path [? query] [# fragment]
const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?(\[[^\]/?#]*\]|[^:/?#]*)(?::([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#.*)?$/s;
const HOSTNAME = /^[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$/;
const IPV6 = /^\[([0-9A-Fa-f:.]+)\]$/;
const DIGITS = /^[0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const invalid = (message: string) => permanent('LINK_INVALID', `FASP URL: ${message}`);

/** One thing wrong with the URL; all of them are gathered so one error lists every fault. */
class Problem extends Error {}
const problem = (message: string) => new Problem(message);

/**
 * Parses a Faspex FASP URL into a download TransferSpec. Throws LINK_INVALID whose message
 * names every faulty part (`FASP URL: policy must be ...; targetrate must be ...`).
 */
export function parseFaspUrl(url: string): TransferSpec {
  const m = URL_SHAPE.exec(url.trim());
  if (!m) throw invalid('not a URL of the form faspe://user@host:port/path?params');
  const [, scheme = '', userinfo, rawHost = '', rawPort, rawPath = '', rawQuery] = m;
  if (!SCHEMES.has(scheme.toLowerCase())) throw invalid(`scheme "${clip(scheme)}" is not faspe or fasp`);

  const problems: string[] = [];
  const check = (step: () => void): void => {
    try {
      step();
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      problems.push(e.message);
    }
  };

  const spec: TransferSpec = { direction: 'receive', remote_host: '', paths: [] };
  check(() => void (spec.remote_host = parseHost(rawHost)));
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    // The password part is never used, but it is a secret wherever it came from.
    if (colon >= 0) check(() => registerSecret(decode(userinfo.slice(colon + 1), 'the password')));
    check(() => {
      const user = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), 'the user name');
      if (user !== '') spec.remote_user = user;
    });
  }
  // ascp has no default user to fall back on (ascli: "Missing mandatory parameter: remote_user"):
  // without one it would log in as whoever runs the service, and fail on the server.
  if (spec.remote_user === undefined && !problems.some((p) => p.includes('user name'))) problems.push('the user is missing (remote_user): the link must be faspe://USER@host[:port]/path');
  if (rawPort !== undefined && rawPort !== '') check(() => void (spec.ssh_port = parsePort(rawPort, 'the SSH port (after the host)')));
  check(() => {
    const source = decode(rawPath.replace(/\+/g, ' '), 'the path');
    if (source === '' || source === '/') throw problem('the package path is missing');
    if (source.includes('\0')) throw problem('the path contains a NUL character');
    spec.paths = [{ source }];
  });

  const seen = new Map<string, string>();
  for (const piece of (rawQuery ?? '').split('&')) {
    if (piece === '') continue;
    check(() => {
      const [name, value] = parsePair(piece);
      if (!KNOWN.has(name)) return;
      const previous = seen.get(name);
      if (previous !== undefined && previous !== value) throw problem(`${name} is given more than once with different values`);
      seen.set(name, value);
      PARAMS[name]?.(spec, value, name);
    });
  }
  if (problems.length > 0) throw invalid(problems.join('; '));
  return spec;
}

type Setter = (spec: TransferSpec, value: string, name: string) => void;

const PARAMS: Record<string, Setter> = {
  token: (s, v) => void (s.token = v),
  cookie: (s, v) => void (s.cookie = v),
  sshfp: (s, v) => void (s.sshfp = v),
  policy: (s, v, n) => void (s.rate_policy = parsePolicy(v, n)),
  targetrate: (s, v, n) => void (s.target_rate_kbps = parseCount(v, n, 'kbit/s')),
  minrate: (s, v, n) => void (s.min_rate_kbps = parseCount(v, n, 'kbit/s')),
  bwcap: (s, v, n) => void (s.target_rate_cap_kbps = parseCount(v, n, 'kbit/s')),
  port: (s, v, n) => void (s.fasp_port = parsePort(v, n)),
  httpport: (s, v, n) => void (s.http_fallback_port = parsePort(v, n)),
  enc: (s, v, n) => void (s.cipher = parseCipher(v, n)),
  tags64: (s, v, n) => void (s.tags = parseTags64(v, n)),
  createpath: (s, v, n) => void (s.create_dir = parseYesNo(v, n)),
  fallback: (s, v, n) => void (s.http_fallback = parseYesNo(v, n)),
  lockpolicy: (s, v, n) => void (s.lock_rate_policy = parseYesNo(v, n)),
  lockminrate: (s, v, n) => void (s.lock_min_rate = parseYesNo(v, n)),
};
const KNOWN = new Set(Object.keys(PARAMS));

/**
 * One `key=value` of the `&`-separated query: `+` → space, `%XX` decoded (URI.decode_www_form).
 * Splitting at the first `=` keeps the base64 padding Faspex 4 leaves unencoded at the end of
 * the query (ascli rewrites it to %3D for the same effect). A `[]` suffix on a key is dropped,
 * as ascli does.
 */
function parsePair(piece: string): [string, string] {
  const eq = piece.indexOf('=');
  const rawName = eq < 0 ? piece : piece.slice(0, eq);
  const name = decode(rawName.replace(/\+/g, ' '), 'a parameter name').replace(/\[\]$/, '');
  const rawValue = eq < 0 ? '' : piece.slice(eq + 1);
  const value = decode(rawValue.replace(/\+/g, ' '), `the value of ${clip(name)}`);
  // Registered before any later check can fail, so no error or log line can carry it.
  if (SECRET_PARAMS.has(name)) registerSecret(value);
  return [name, value];
}

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw problem(`${what} has malformed percent-encoding`);
  }
}

function parseHost(raw: string): string {
  if (raw === '') throw problem('the host is missing');
  const v6 = IPV6.exec(raw);
  // ascp's --host takes an address, not a URL authority: no brackets.
  if (v6?.[1] !== undefined) return v6[1];
  if (!HOSTNAME.test(raw)) throw problem(`host "${clip(raw)}" is not a valid host name`);
  return raw;
}

function parsePort(value: string, name: string): number {
  const n = DIGITS.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 65535)) throw problem(`${name} must be a port number from 1 to 65535, got ${show(value)}`);
  return n;
}

function parseCount(value: string, name: string, unit: string): number {
  const n = DIGITS.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw problem(`${name} must be a whole number of ${unit} (0 or more), got ${show(value)}`);
  return n;
}

function parsePolicy(value: string, name: string): RatePolicy {
  const v = value.toLowerCase();
  if (!(RATE_POLICIES as readonly string[]).includes(v)) throw problem(`${name} must be one of ${RATE_POLICIES.join(', ')}, got ${show(value)}`);
  return v as RatePolicy;
}

/** aes128 → aes-128, aes256cfb → aes-256-cfb, aes128gcm → aes-128-gcm, none → none. */
function parseCipher(value: string, name: string): Cipher {
  const v = value
    .toLowerCase()
    .replace(/^aes/, 'aes-')
    .replace(/cfb$/, '-cfb')
    .replace(/gcm$/, '-gcm')
    .replace(/--/g, '-');
  if (!(CIPHERS as readonly string[]).includes(v)) {
    throw problem(`${name} ${show(value)} is not a known cipher (aes128, aes192, aes256, each optionally with a cfb or gcm suffix, or none)`);
  }
  return v as Cipher;
}

function parseYesNo(value: string, name: string): boolean {
  const v = value.toLowerCase();
  if (v === 'yes') return true;
  if (v === 'no') return false;
  throw problem(`${name} must be yes or no, got ${show(value)}`);
}

function parseTags64(value: string, name: string): unknown {
  // A raw `+` in the query has become a space; a space is never base64, so this only repairs.
  const b64 = value.replace(/ /g, '+');
  if (b64 === '' || !BASE64.test(b64)) throw problem(`${name} is not valid base64`);
  try {
    return JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as unknown;
  } catch {
    throw problem(`${name} does not decode to JSON`);
  }
}

function show(value: string): string {
  return JSON.stringify(clip(value));
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
