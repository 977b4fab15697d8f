/**
 * Package links: which URLs announce a downloadable Faspex package, of which kind, and what
 * identifies the package. Pure (no network), shared by the mail extractor, the Faspex clients,
 * `enqueue` and the job ids. Passcodes and Faspex 5 contexts are registered as secrets here,
 * the moment they are first seen.
 */
import { permanent } from '../errors.js';
import { registerSecret } from '../log/secrets.js';
import { canonicalHost } from './allowlist.js';
import type { BoxKind } from './faspex5-box-spec.js';

export type LinkKind = 'faspex4-external' | 'faspex4-received' | 'faspex5-public' | 'faspex5-inbox' | 'fasp-url';

export interface PackageLink {
  kind: LinkKind;
  /** the link as the user's mail client would open it: unwrapped, normalised, nothing added */
  url: string;
  /** `host[:port]`, lower-case, default port omitted */
  server: string;
  /** scheme://host[:port]<prefix>: the Faspex web root the API calls hang from (none for fasp-url) */
  baseUrl: string;
  /** delivery id (Faspex 4), package id (Faspex 5), or a stable digest of a FASP URL's path */
  packageId: string;
  /** Faspex 4 external passcode or Faspex 5 public-link passcode: a secret */
  passcode?: string;
  /** Faspex 5 public link: the raw `context` value, sent back to the server as received */
  context?: string;
  /**
   * Faspex 5 inbox: the box a sweep found the package in (from the job, never from a URL), so the
   * download is made as that box's recipient entry (src/faspex/faspex5-recipient.ts)
   */
  box?: { kind: BoxKind; id?: string | undefined } | undefined;
}

export type LinkVerdict =
  | { ok: true; link: PackageLink }
  | { ok: false; reason: string; what: 'not-faspex' | 'upload-form' | 'invalid' };

const F4_EXTERNAL = /^(.*)\/external_deliveries\/(\d+)\/?$/;
const F4_RECEIVED = /^(.*)\/received\/(\d+)\/?$/;
const F4_UPLOAD = /\/external\/(submissions|dropbox_submissions)\/new\/?$/;
const F5_PUBLIC_PATH = /^(.*?)(\/public\/package|\/public)?\/?$/;
/**
 * A registered user's Faspex 5 package. No public source shows the link a Faspex 5 "Package
 * received" mail gives an account holder (docs/faspex5.md); these are the web UI's likely forms.
 * Faspex 5 package ids are usually numbers, so `/received/<digits>` stays Faspex 4's.
 */
const F5_INBOX = /^(.*\/aspera\/faspex)\/(?:inbox|packages|inbox\/packages)\/([A-Za-z0-9_-]{1,64})\/?$/;

/** Decides whether `raw` is a package download link, and normalises it. */
export function classifyLink(raw: string): LinkVerdict {
  const text = raw.trim();
  if (/^faspe?:\/\//i.test(text)) return classifyFaspUrl(text);

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, what: 'invalid', reason: 'not a URL (a package link starts with https:// or faspe://)' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, what: 'not-faspex', reason: `${url.protocol} is not a web link` };
  if (url.username || url.password) return { ok: false, what: 'invalid', reason: 'a link with a user name or password in it is never followed' };

  const host = canonicalHost(url.hostname);
  const server = url.port ? `${host}:${url.port}` : host;
  const origin = `${url.protocol}//${server}`;
  const path = url.pathname;

  if (F4_UPLOAD.test(path)) {
    return { ok: false, what: 'upload-form', reason: 'a Faspex upload (submission) form, not a package to download' };
  }

  const external = F4_EXTERNAL.exec(path);
  if (external) {
    const passcode = url.searchParams.get('passcode');
    if (!passcode) return { ok: false, what: 'invalid', reason: 'a Faspex external delivery link without its passcode' };
    registerSecret(passcode);
    return ok({ kind: 'faspex4-external', url: canonicalUrl(url, origin), server, baseUrl: origin + external[1], packageId: external[2]!, passcode });
  }

  const context = contextParam(url.search);
  if (context !== undefined) return classifyFaspex5Public(url, origin, server, context);

  const inbox = F5_INBOX.exec(path);
  if (inbox) {
    return ok({ kind: 'faspex5-inbox', url: canonicalUrl(url, origin), server, baseUrl: origin + inbox[1], packageId: inbox[2]! });
  }

  const received = F4_RECEIVED.exec(path);
  if (received) {
    return ok({ kind: 'faspex4-received', url: canonicalUrl(url, origin), server, baseUrl: origin + received[1], packageId: received[2]! });
  }

  return { ok: false, what: 'not-faspex', reason: 'not a Faspex package link' };
}

/** classifyLink for callers that want an error: `enqueue`, `resolve`, `download`. */
export function parsePackageLink(raw: string): PackageLink {
  const verdict = classifyLink(raw);
  if (verdict.ok) return verdict.link;
  throw permanent(verdict.what === 'upload-form' ? 'LINK_NOT_DOWNLOAD' : 'LINK_INVALID', `this link is ${verdict.reason}`);
}

function ok(link: PackageLink): LinkVerdict {
  return { ok: true, link };
}

/** lower-case host, no default port, no fragment; path and query exactly as sent */
function canonicalUrl(url: URL, origin: string): string {
  return `${origin}${url.pathname}${url.search}`;
}

export interface Faspex5Context {
  package_id: string;
  passcode: string;
  type?: string;
  resource?: string;
  [key: string]: unknown;
}

/** The `context` of a Faspex 5 public link: base64 (standard or URL-safe) of a JSON object. */
export function decodeFaspex5Context(context: string): Faspex5Context | undefined {
  try {
    const json = Buffer.from(context.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    const value: unknown = JSON.parse(json);
    if (!value || typeof value !== 'object') return undefined;
    const v = value as Record<string, unknown>;
    const packageId = typeof v.package_id === 'string' || typeof v.package_id === 'number' ? String(v.package_id) : undefined;
    if (!packageId || typeof v.passcode !== 'string' || v.passcode === '') return undefined;
    return { ...v, package_id: packageId, passcode: v.passcode } as Faspex5Context;
  } catch {
    return undefined;
  }
}

function classifyFaspex5Public(url: URL, origin: string, server: string, context: string): LinkVerdict {
  registerSecret(context);
  const decoded = decodeFaspex5Context(context);
  if (!decoded) return { ok: false, what: 'invalid', reason: 'a Faspex 5 link whose context cannot be read (not base64 JSON with a package_id and a passcode)' };
  registerSecret(decoded.passcode);
  const type = typeof decoded.type === 'string' ? decoded.type : '';
  if (type && !/download/i.test(type)) {
    return { ok: false, what: 'upload-form', reason: `a Faspex 5 public ${type.replace(/_/g, ' ')} link, not a package to download` };
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(decoded.package_id)) return { ok: false, what: 'invalid', reason: 'a Faspex 5 link with an unusable package id' };
  const base = F5_PUBLIC_PATH.exec(url.pathname)![1]!.replace(/\/+$/, '');
  return ok({
    kind: 'faspex5-public',
    url: canonicalUrl(url, origin),
    server,
    baseUrl: origin + (base || '/aspera/faspex'),
    packageId: decoded.package_id,
    passcode: decoded.passcode,
    context,
  });
}

function classifyFaspUrl(text: string): LinkVerdict {
  const m = /^(faspe?):\/\/(?:[^@/]*@)?([^/:?#]+)(?::(\d+))?(\/[^?#]*)?/i.exec(text.replace(/ /g, '%20'));
  if (!m) return { ok: false, what: 'invalid', reason: 'a FASP URL without a host' };
  const host = canonicalHost(m[2]!);
  const path = m[4] ?? '/';
  for (const secret of text.match(/[?&](?:token|cookie)=([^&]+)/gi) ?? []) registerSecret(decodeURIComponentSafe(secret.replace(/^[?&][a-z]+=/i, '')));
  // The package folder (`<uuid>.aspera-package`) names the package when present.
  const pkg = /([0-9a-f-]{8,}\.aspera-package)/i.exec(decodeURIComponentSafe(path));
  // node:crypto on use (its load is a tenth of a one-shot command's start): most links name their package
  const packageId = pkg ? pkg[1]!.replace(/\.aspera-package$/i, '') : process.getBuiltinModule('node:crypto').createHash('sha256').update(`${host}${path}`).digest('hex').slice(0, 16);
  return ok({ kind: 'fasp-url', url: text, server: host, baseUrl: '', packageId });
}

/**
 * `context` decoded as a URL component, not as a form: base64 has no spaces, so a `+` in it is a
 * base64 `+` that a gateway or a mail client left unencoded, never a space.
 */
function contextParam(search: string): string | undefined {
  for (const piece of search.replace(/^\?/, '').split('&')) {
    if (piece.startsWith('context=')) return decodeURIComponentSafe(piece.slice('context='.length));
  }
  return undefined;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
