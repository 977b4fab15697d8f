/**
 * FASPEX_ALLOWED_HOSTS: which servers a link may point to. A link to any other host is
 * never fetched, so this is the SSRF guard as well as the trust boundary.
 *
 * Entry grammar (comma-separated):  [http://|https://]host[:port]   or   [scheme://]*.domain[:port]
 * - no scheme means https only; `http://` must be written out to allow plain http;
 * - no port means the scheme's default port only;
 * - `*.example.com` matches sub-domains of example.com at any depth, not example.com itself.
 */
export interface AllowedHost {
  scheme: 'https' | 'http';
  /** lower-case host; for a wildcard, the suffix without the leading `*.` */
  host: string;
  wildcard: boolean;
  port: number;
  /** the entry as written, for messages */
  source: string;
}

export class AllowlistSyntaxError extends Error {}

const HOST_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function defaultPort(scheme: 'https' | 'http'): number {
  return scheme === 'https' ? 443 : 80;
}

/** Lower-cases and converts an internationalised name to its ASCII (punycode) form. */
export function canonicalHost(host: string): string {
  const trimmed = host.trim().replace(/\.$/, '').toLowerCase();
  if (trimmed.startsWith('[')) return trimmed;
  try {
    return new URL(`https://${trimmed}`).hostname;
  } catch {
    return trimmed;
  }
}

export function parseAllowlist(text: string): AllowedHost[] {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  return entries.map(parseEntry);
}

function parseEntry(source: string): AllowedHost {
  let rest = source;
  let scheme: 'https' | 'http' = 'https';
  const schemeMatch = /^([a-z]+):\/\//i.exec(rest);
  if (schemeMatch) {
    const s = schemeMatch[1]!.toLowerCase();
    if (s !== 'https' && s !== 'http') throw new AllowlistSyntaxError(`"${source}": only https:// or http:// may be written`);
    scheme = s;
    rest = rest.slice(schemeMatch[0].length);
  }
  rest = rest.replace(/\/+$/, '');
  if (rest.includes('/') || rest.includes('@') || rest.includes('?')) {
    throw new AllowlistSyntaxError(`"${source}": write a host with an optional port, not a URL path`);
  }
  let port = defaultPort(scheme);
  const portMatch = /:(\d+)$/.exec(rest);
  if (portMatch) {
    port = Number(portMatch[1]);
    if (port < 1 || port > 65535) throw new AllowlistSyntaxError(`"${source}": port ${portMatch[1]} is out of range`);
    rest = rest.slice(0, -portMatch[0].length);
  }
  let wildcard = false;
  if (rest.startsWith('*.')) {
    wildcard = true;
    rest = rest.slice(2);
  }
  const host = canonicalHost(rest);
  const isIpv6 = host.startsWith('[') && host.endsWith(']');
  if (!isIpv6) {
    const labels = host.split('.');
    if (host.length === 0 || labels.some((l) => !HOST_LABEL.test(l))) {
      throw new AllowlistSyntaxError(`"${source}": "${rest}" is not a host name`);
    }
    if (wildcard && labels.length < 2) {
      throw new AllowlistSyntaxError(`"${source}": a wildcard needs a domain with at least two labels, like *.example.com`);
    }
  } else if (wildcard) {
    throw new AllowlistSyntaxError(`"${source}": a wildcard cannot apply to an IP address`);
  }
  return { scheme, host, wildcard, port, source };
}

/** The entry that allows this URL, or undefined. Pure: no DNS, no network. */
export function findAllowedEntry(url: URL, allowlist: readonly AllowedHost[]): AllowedHost | undefined {
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'https' && scheme !== 'http') return undefined;
  if (url.username || url.password) return undefined;
  const host = canonicalHost(url.hostname);
  const port = url.port ? Number(url.port) : defaultPort(scheme);
  return allowlist.find((entry) => {
    if (entry.scheme !== scheme || entry.port !== port) return false;
    if (entry.wildcard) return host.endsWith(`.${entry.host}`);
    return host === entry.host;
  });
}

export function isAllowed(url: URL, allowlist: readonly AllowedHost[]): boolean {
  return findAllowedEntry(url, allowlist) !== undefined;
}

/**
 * Host-only match, for what is not an HTTP request: the SSH/FASP host of a faspe:// link (its
 * ports are ascp's, not the web server's) and Mimecast's `domain` hint.
 */
export function isHostAllowed(host: string, allowlist: readonly AllowedHost[]): boolean {
  const h = canonicalHost(host);
  return allowlist.some((e) => (e.wildcard ? h.endsWith(`.${e.host}`) : h === e.host));
}

/**
 * Whether a package link may be followed: the web link by scheme, host and port; a raw faspe://
 * link by its transfer host, since ascp would connect there directly. One rule for every way a
 * link arrives (mail, `enqueue`, `download`, `resolve`).
 */
export function isLinkAllowed(link: { kind: string; url: string; server: string }, allowlist: readonly AllowedHost[]): boolean {
  if (link.kind === 'fasp-url') return isHostAllowed(link.server, allowlist);
  try {
    return isAllowed(new URL(link.url), allowlist);
  } catch {
    return false;
  }
}
