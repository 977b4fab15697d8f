/**
 * Security gateways rewrite links so that a click goes through their scanner first. Most keep
 * the target in the URL; each rule below recovers it offline. Wrappers nest (Proofpoint at the
 * sender, Safe Links at the receiver), so unwrapping repeats, a bounded number of times.
 * Mimecast keeps the target on its own servers: it is recognised and reported, never followed.
 */
import { decodeProofpointV1, decodeProofpointV2, decodeProofpointV3 } from './proofpoint.js';

export type UnwrapStep =
  | { kind: 'unwrapped'; url: string; wrapper: string }
  | { kind: 'opaque'; wrapper: string; domain?: string }
  | { kind: 'none' };

interface Rule {
  wrapper: string;
  match: (u: URL) => boolean;
  target: (u: URL, raw: string) => string | undefined;
}

const endsWith = (host: string, suffix: string) => host === suffix || host.endsWith(`.${suffix}`);
const param = (...names: string[]) => (_u: URL, raw: string) => wrappedTarget(raw, names);

const RULES: Rule[] = [
  { wrapper: 'Safe Links', match: (u) => endsWith(u.hostname, 'safelinks.protection.outlook.com'), target: param('url') },
  {
    wrapper: 'Azure email safe links',
    match: (u) => (u.hostname === 'emails.azure.microsoft.com' || endsWith(u.hostname, 'safelink.emails.azure.net')) && u.pathname.startsWith('/redirect'),
    target: param('destination'),
  },
  { wrapper: 'Proofpoint v3', match: (u) => isProofpoint(u) && u.pathname.startsWith('/v3/__'), target: (_u, raw) => decodeProofpointV3(raw) },
  { wrapper: 'Proofpoint v2', match: (u) => isProofpoint(u) && u.pathname.startsWith('/v2/url'), target: (_u, raw) => decodeProofpointV2(raw) },
  { wrapper: 'Proofpoint v1', match: (u) => isProofpoint(u) && u.pathname.startsWith('/v1/url'), target: (_u, raw) => decodeProofpointV1(raw) },
  { wrapper: 'Barracuda', match: (u) => u.hostname === 'linkprotect.cudasvc.com', target: param('a') },
  {
    wrapper: 'Cisco',
    match: (u) => u.hostname === 'secure-web.cisco.com',
    // secure-web.cisco.com/<token>/<percent-encoded URL>: everything after the token, its raw `?`
    // included when the encoder left one (the URL parser would count it as Cisco's own query)
    target: (_u, raw) => {
      const rest = /^[a-z]+:\/\/[^/]+\/[^/?#]*\/(.*)$/is.exec(raw)?.[1] ?? '';
      return VERBATIM.test(rest) ? rest : decodeOnce(rest);
    },
  },
  { wrapper: 'Google', match: (u) => /^(www\.)?google\.[a-z.]+$/.test(u.hostname) && u.pathname === '/url', target: param('q', 'url') },
  // base64 of the target; its `+` may arrive raw, and form decoding (searchParams) would make it a space
  { wrapper: 'Sophos', match: (u) => endsWith(u.hostname, 'protection.sophos.com'), target: (_u, raw) => base64(rawQueryValue(raw, 'u')) },
  { wrapper: 'Trend Micro', match: (u) => u.hostname.endsWith('ctp.trendmicro.com'), target: param('url') },
  { wrapper: 'FireEye', match: (u) => endsWith(u.hostname, 'fireeye.com') && u.pathname.startsWith('/v1/url'), target: param('u') },
  { wrapper: 'EsvaLabs', match: (u) => u.hostname === 'urlsand.esvalabs.com', target: param('u') },
  {
    wrapper: 'AWS SES',
    match: (u) => endsWith(u.hostname, 'awstrack.me') && u.pathname.startsWith('/L0/'),
    target: (u) => decodeOnce(u.pathname.split('/')[2] ?? ''),
  },
];

/**
 * A target put in verbatim: a URL whose query still has a raw `=` (`?q=https://h/p?context=ab%2B`).
 * No gateway's encoder leaves one: Google's keeps the target's `:/?` raw but writes `=` as `%3D`,
 * `&` as `%26` and `%` as `%25`; the others encode every delimiter. A raw `?` alone therefore
 * says nothing (Google's `q=https://h/p?passcode%3D…` is encoded, and decodes once).
 */
const VERBATIM = /^[a-z][a-z0-9+.-]*:\/\/[^?#]*[?#][^=]*=/i;

/**
 * The target in a wrapper's query parameter, decoded exactly as the wrapper encoded it: one
 * percent-decode, which gives back the target byte for byte whatever characters the encoder
 * left raw, since every encoder writes `%` as `%25` (the target's own `%2B` arrives as `%252B`).
 * A target put in verbatim (VERBATIM) is taken as it is: its `%2B` and `%3D` are the link's own,
 * and decoding them would change the link (a Faspex 5 context with `+`, `/` or `=` in it would
 * no longer decode). Form decoding (`+` as space) is never applied: a URL has no spaces.
 */
function wrappedTarget(raw: string, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = rawQueryValue(raw, name);
    if (value === undefined) continue;
    return VERBATIM.test(value) ? value : decodeOnce(value);
  }
  return undefined;
}

/** The first non-empty `name=` of the query as written (no decoding). */
function rawQueryValue(raw: string, name: string): string | undefined {
  const q = raw.indexOf('?');
  if (q < 0) return undefined;
  const piece = raw
    .slice(q + 1)
    .replace(/#.*$/s, '')
    .split('&')
    .find((p) => p.startsWith(`${name}=`) && p.length > name.length + 1);
  return piece?.slice(name.length + 1);
}

function isProofpoint(u: URL): boolean {
  return u.hostname === 'urldefense.com' || u.hostname === 'urldefense.proofpoint.com' || u.hostname === 'urldefense.us';
}

function isMimecast(u: URL): boolean {
  return (/^protect(-[a-z0-9]+)?\.mimecast\.com$/.test(u.hostname) || endsWith(u.hostname, 'mimecastprotect.com')) && u.pathname.startsWith('/s/');
}

/** One round: which wrapper this is and what it wraps. */
export function unwrapOnce(raw: string): UnwrapStep {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { kind: 'none' };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return { kind: 'none' };
  if (isMimecast(u)) {
    const domain = u.searchParams.get('domain') ?? undefined;
    return domain ? { kind: 'opaque', wrapper: 'Mimecast', domain } : { kind: 'opaque', wrapper: 'Mimecast' };
  }
  for (const rule of RULES) {
    if (!rule.match(u)) continue;
    const target = rule.target(u, raw)?.trim();
    if (target && /^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return { kind: 'unwrapped', url: target, wrapper: rule.wrapper };
    return { kind: 'none' };
  }
  return { kind: 'none' };
}

export interface Unwrapped {
  url: string;
  /** outermost first */
  wrappers: string[];
  /** set when the innermost wrapper hides its target (Mimecast) */
  opaque?: { wrapper: string; domain?: string };
}

/** Unwraps until no rule matches, at most `maxRounds` times. */
export function unwrapUrl(raw: string, maxRounds = 5): Unwrapped {
  let url = raw;
  const wrappers: string[] = [];
  for (let round = 0; round < maxRounds; round++) {
    const step = unwrapOnce(url);
    if (step.kind === 'none') break;
    if (step.kind === 'opaque') return { url, wrappers, opaque: step.domain ? { wrapper: step.wrapper, domain: step.domain } : { wrapper: step.wrapper } };
    wrappers.push(step.wrapper);
    url = step.url;
  }
  return { url, wrappers };
}

function decodeOnce(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** Base64 (either alphabet, `+/=` raw or percent-encoded) of a printable URL; anything else is not one. */
function base64(s: string | undefined): string | undefined {
  const value = s === undefined ? undefined : decodeOnce(s);
  if (!value || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return undefined;
  const text = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  return /^[\x20-\x7e]+$/.test(text) ? text : undefined;
}
