/**
 * The Faspex 4 requests and the ResolvedPackage, built without I/O (faspex-protocol.md §2–3), so
 * the exact URLs, headers and bodies are tested as tables. faspex4-client.ts sends them.
 */
import type { TransferSpec } from '../fasp/transfer-spec.js';
import { permanent } from '../errors.js';
import { registerSecret } from '../log/secrets.js';
import { canonicalHost, type AllowedHost } from './allowlist.js';
import type { Faspex4Package } from './faspex4-xml.js';
import type { PackageLink } from './link.js';
import type { PackageFile, ResolvedPackage } from './resolved-package.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface PlannedRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** The standard web root; a raw FASP URL does not say where the web side lives. */
export const STANDARD_ROOT = '/aspera/faspex';

export const URL_LIST_TYPE = 'application/vnd.aspera.url-list+xml';

export function basicAuth(creds: Credentials): string {
  const value = `Basic ${Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64')}`;
  registerSecret(creds.password);
  registerSecret(value.slice('Basic '.length));
  return value;
}

/** Form A: only the passcode is re-sent (form-urlencoded), with no credentials (§2.1). */
export function externalDescriptionRequest(link: PackageLink): PlannedRequest {
  if (!link.passcode) throw permanent('LINK_INVALID', 'a Faspex external delivery link without its passcode');
  const query = new URLSearchParams({ passcode: link.passcode }).toString();
  return { method: 'GET', url: `${link.baseUrl}/external_deliveries/${link.packageId}?${query}`, headers: { accept: 'application/xml' } };
}

/** Forms B/C: the recipient delivery id, with the account's Basic credentials (§2.1). */
export function receivedDescriptionRequest(link: PackageLink, creds: Credentials): PlannedRequest {
  return {
    method: 'GET',
    url: `${link.baseUrl}/received/${link.packageId}`,
    headers: { accept: 'application/xml', authorization: basicAuth(creds) },
  };
}

/** `&`, `<`, `>` and `"` escaped for an attribute value; the URL itself is sent verbatim (§3.2). */
export function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function issueTokenBody(faspUrl: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><url-list xmlns="http://schemas.asperasoft.com/xml/url-list"><url href="${escapeAttribute(faspUrl)}"/></url-list>`;
}

export function issueTokenRequest(baseUrl: string, faspUrl: string, creds: Credentials): PlannedRequest {
  return {
    method: 'POST',
    url: `${baseUrl}/issue-token?direction=down`,
    headers: { authorization: basicAuth(creds), accept: 'text/plain', 'content-type': URL_LIST_TYPE },
    body: issueTokenBody(faspUrl),
  };
}

/** The issue-token answer is the token itself; trimmed because a trailing newline is likely. */
export function readIssuedToken(body: string, host: string): string {
  const token = body.trim();
  if (token === '') throw permanent('BAD_RESPONSE', `Faspex server ${host} issued an empty transfer token`);
  if (token.startsWith('<') || /\s/.test(token)) {
    throw permanent('BAD_RESPONSE', `Faspex server ${host} answered issue-token with a document instead of a transfer token`);
  }
  registerSecret(token);
  return token;
}

/**
 * For a raw faspe:// link without a token: the web root on the same host, at the standard path.
 * The FASP URL's port is the SSH port, not the web one, so the scheme and port come from the one
 * allowlist entry naming this host, if there is exactly one; otherwise https on 443.
 */
export function derivedBaseUrl(faspHost: string, allowlist: readonly AllowedHost[] = []): string {
  const name = canonicalHost(faspHost.replace(/^\[|\]$/g, ''));
  const host = name.includes(':') ? `[${name}]` : name;
  const entries = allowlist.filter((e) => !e.wildcard && e.host.replace(/^\[|\]$/g, '') === name);
  if (entries.length === 1) {
    const { scheme, port } = entries[0]!;
    const standard = (scheme === 'https' && port === 443) || (scheme === 'http' && port === 80);
    return `${scheme}://${host}${standard ? '' : `:${port}`}${STANDARD_ROOT}`;
  }
  return `https://${host}${STANDARD_ROOT}`;
}

/** The decoded path of a FASP URL (no query), or undefined when it cannot be read. */
export function faspPath(faspUrl: string): string | undefined {
  const m = /^[a-z]+:\/\/[^/?#]*([^?#]*)/i.exec(faspUrl.trim().replace(/ /g, '%20'));
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** `PKG - <title>`, the folder name Faspex gives a package's content. */
export function titleFromPath(path: string): string | undefined {
  const last = path.replace(/\/+$/, '').split('/').pop() ?? '';
  const m = /^PKG - (.+)$/.exec(last);
  return m ? m[1] : undefined;
}

/** Per-file links → paths relative to the package folder (not yet made safe: the runner does). */
export function filesFromLinks(pkg: Faspex4Package, packagePath: string | undefined): PackageFile[] {
  const root = packagePath?.replace(/\/+$/, '');
  const files: PackageFile[] = [];
  for (const link of pkg.fileLinks) {
    const path = faspPath(link.href);
    let rel: string | undefined;
    if (path && root && path.startsWith(`${root}/`)) rel = path.slice(root.length + 1);
    rel ??= link.title ?? path?.split('/').filter(Boolean).pop();
    if (!rel) continue;
    files.push(link.length === undefined ? { path: rel } : { path: rel, size: link.length });
  }
  return files;
}

export function fromDescription(link: PackageLink, pkg: Faspex4Package, spec: TransferSpec): ResolvedPackage {
  const source = spec.paths[0]?.source;
  const files = filesFromLinks(pkg, source);
  const sized = files.filter((f) => f.size !== undefined);
  const resolved: ResolvedPackage = {
    link,
    packageId: pkg.id ?? link.packageId,
    title: pkg.title ?? (source ? titleFromPath(source) : undefined),
    deliveryId: pkg.deliveryId ?? (link.kind === 'fasp-url' ? undefined : link.packageId),
    sender: pkg.sender,
    note: pkg.note,
    recipients: pkg.recipients.map((r) => r.name).filter((n) => n !== ''),
    metadata: pkg.metadata,
    files,
    transferSpec: spec,
  };
  if (files.length > 0 && sized.length === files.length) resolved.totalBytes = sized.reduce((n, f) => n + f.size!, 0);
  // Faspex 4 has no encryption flag (faspex-protocol.md §2.2 knows none); its list shows the
  // encrypted files by their `.aspera-env` names.
  if (files.length > 0) resolved.encrypted = files.some((f) => f.path.endsWith('.aspera-env'));
  return dropUndefined(resolved);
}

export function fromFaspUrl(link: PackageLink, spec: TransferSpec): ResolvedPackage {
  const source = spec.paths[0]?.source;
  return dropUndefined({ link, packageId: link.packageId, title: source ? titleFromPath(source) : undefined, transferSpec: spec });
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
