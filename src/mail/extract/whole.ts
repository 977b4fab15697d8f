/**
 * Whether a candidate link is whole, judged from the formats Faspex writes (email.md A1,
 * faspex-protocol.md §1, §7), because a cut link is worse than none: it fails later, on the
 * server, with a login page.
 *
 * - Faspex 4 external: the passcode is 40 hex digits. Fewer (all hex) is a cut; 40 followed by
 *   more is a line joined onto it. `expiration`, when present, is base64 of an ISO timestamp; one
 *   that decodes to the start of a timestamp only is a cut.
 * - Faspex 5 public: `context` is base64 of a JSON object with a package_id and a passcode. A cut
 *   does not parse; text joined after it makes it non-canonical base64.
 * - Anything else (a registered user's link, a FASP URL, a passcode not in Faspex's format)
 *   carries nothing to check: `unverifiable`, accepted alone, losing to a whole copy.
 * Pure.
 */
import { classifyLink, type LinkKind, type PackageLink } from '../../faspex/link.js';
import { canonicalHost } from '../../faspex/allowlist.js';

export type Judgement =
  | { state: 'whole' | 'unverifiable'; link: PackageLink; key: string }
  | { state: 'damaged'; reason: string; kind: LinkKind; server: string; url: string; key?: string }
  | { state: 'none' };

export function linkKey(link: Pick<PackageLink, 'kind' | 'server' | 'packageId'>): string {
  return `${link.kind}|${link.server}|${link.packageId}`;
}

const HEX40 = /^[0-9a-f]{40}$/i;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)$/;
/** what a timestamp's first characters look like: a cut one decodes to this */
const TIMESTAMP_START = /^\d{1,4}(?:-(?:\d{1,2}(?:-(?:\d{1,2}(?:T(?:\d{1,2}(?::(?:\d{1,2}(?::\d{0,2})?)?)?)?)?)?)?)?)?$/;

export function judgeLink(url: string): Judgement {
  const verdict = classifyLink(url);
  if (!verdict.ok) return verdict.what === 'invalid' ? damagedShape(url) : { state: 'none' };
  const link = verdict.link;
  const key = linkKey(link);
  const fault = link.kind === 'faspex4-external' ? faspex4Fault(link) : link.kind === 'faspex5-public' ? faspex5Fault(link) : 'unverifiable';
  if (fault === 'whole' || fault === 'unverifiable') return { state: fault, link, key };
  return { state: 'damaged', reason: fault, kind: link.kind, server: link.server, url: link.url, key };
}

function faspex4Fault(link: PackageLink): string {
  const passcode = link.passcode ?? '';
  let state = 'whole';
  if (!HEX40.test(passcode)) {
    if (/^[0-9a-f]{1,39}$/i.test(passcode)) return `its passcode is cut short (${passcode.length} of 40 hex digits)`;
    if (/^[0-9a-f]{40}./i.test(passcode)) return 'its passcode runs on past its 40 hex digits (text joined onto it)';
    state = 'unverifiable';
  }
  const expiration = rawParam(link.url, 'expiration');
  if (expiration !== undefined) {
    const [, base = '', after = ''] = /^([A-Za-z0-9+/_-]*={0,2})(.*)$/s.exec(expiration) ?? [];
    const decoded = Buffer.from(base, 'base64').toString('latin1');
    if (TIMESTAMP.test(decoded)) {
      if (after !== '') return 'its expiration runs on past its timestamp (text joined onto it)';
    } else if (after === '' && TIMESTAMP_START.test(decoded)) return 'its expiration is cut short';
    else state = 'unverifiable';
  }
  return state === 'whole' && !onlyKnownParams(link) ? 'unverifiable' : state;
}

/** Parameters a Faspex server writes, and what their values look like (undefined: checked apart). */
const KNOWN_PARAMS: Partial<Record<PackageLink['kind'], Record<string, RegExp | undefined>>> = {
  'faspex4-external': { passcode: undefined, expiration: undefined },
  'faspex5-public': { context: undefined, redirected: /^(true|false)$/, authenticated: /^(true|false)$/ },
};

/** Any other parameter, or an odd value of a known one, cannot be checked (a line joined onto the link?). */
function onlyKnownParams(link: PackageLink): boolean {
  const known = KNOWN_PARAMS[link.kind] ?? {};
  const q = link.url.indexOf('?');
  if (q < 0) return true;
  return link.url
    .slice(q + 1)
    .split('&')
    .every((piece) => {
      const eq = piece.indexOf('=');
      const name = eq < 0 ? piece : piece.slice(0, eq);
      if (!(name in known)) return false;
      const shape = known[name];
      return !shape || shape.test(piece.slice(eq + 1));
    });
}

function faspex5Fault(link: PackageLink): string {
  const fault = contextFault(link.context ?? '');
  return fault === 'whole' && !onlyKnownParams(link) ? 'unverifiable' : fault;
}

function contextFault(context: string): string {
  const urlSafe = /[-_]/.test(context);
  const bare = context.replace(/=+$/, '');
  const alphabet = urlSafe ? /^[A-Za-z0-9_-]*$/ : /^[A-Za-z0-9+/]*$/;
  if (!alphabet.test(bare) || context.length - bare.length > 2) return 'its context is not whole base64';
  const bytes = Buffer.from(bare, urlSafe ? 'base64url' : 'base64');
  const again = bytes.toString(urlSafe ? 'base64url' : 'base64').replace(/=+$/, '');
  return again === bare ? 'whole' : 'its context is not whole base64';
}

/** A Faspex-shaped link the classifier refused: cut where its secret should be. */
function damagedShape(raw: string): Judgement {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { state: 'none' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { state: 'none' };
  if (url.username || url.password) return { state: 'none' };
  const host = canonicalHost(url.hostname);
  const server = url.port ? `${host}:${url.port}` : host;
  const canonical = `${url.protocol}//${server}${url.pathname}${url.search}`;
  const external = /\/external_deliveries\/(\d+)\/?$/.exec(url.pathname);
  if (external) {
    return { state: 'damaged', reason: 'its passcode is missing', kind: 'faspex4-external', server, url: canonical, key: linkKey({ kind: 'faspex4-external', server, packageId: external[1]! }) };
  }
  if (rawParam(raw, 'context') !== undefined) return { state: 'damaged', reason: 'its context cannot be read (cut short?)', kind: 'faspex5-public', server, url: canonical };
  return { state: 'none' };
}

/** A query parameter percent-decoded as a URL component (`+` stays `+`: base64 has no spaces). */
export function rawParam(url: string, name: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const query = url.slice(q + 1).replace(/#.*$/s, '');
  for (const piece of query.split('&')) {
    const eq = piece.indexOf('=');
    if (eq < 0 || piece.slice(0, eq) !== name) continue;
    try {
      return decodeURIComponent(piece.slice(eq + 1));
    } catch {
      return piece.slice(eq + 1);
    }
  }
  return undefined;
}
