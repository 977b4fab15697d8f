/**
 * Which outbound proxy a request goes through: HTTPS_PROXY for https:// targets (HTTP_PROXY when
 * it is unset), HTTP_PROXY for http:// ones, none for hosts matched by NO_PROXY. Pure, so the rules are one table-tested
 * function and every message can say which way a request went.
 *
 * The rules are undici's EnvHttpProxyAgent's (and close to curl's), so an administrator's usual
 * settings mean the same here: lowercase names win over uppercase; NO_PROXY entries are separated
 * by commas or spaces; `example.com`, `.example.com` and `*.example.com` each match the host and
 * every subdomain; `host:port` matches that port only; `*` alone sends everything direct. No
 * CIDR ranges (undici has none either): list loopback and internal names explicitly.
 */

export interface ProxySettings {
  /** proxy for https:// targets (HTTPS_PROXY / https_proxy) */
  httpsProxy?: string;
  /** proxy for http:// targets (HTTP_PROXY / http_proxy) */
  httpProxy?: string;
  /** NO_PROXY / no_proxy, as written */
  noProxy?: string;
}

interface NoProxyEntry {
  hostname: string;
  port: number;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

function parseNoProxy(value: string | undefined): NoProxyEntry[] | '*' {
  const raw = (value ?? '').trim();
  if (raw === '*') return '*';
  const entries: NoProxyEntry[] = [];
  for (const item of raw.split(/[,\s]+/)) {
    if (!item) continue;
    // host:port and [v6]:port carry a port; a bare IPv6 address (::1) does not
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(item);
    const host = (withPort ? withPort[1]! : item).replace(/^\*?\./, '').toLowerCase();
    entries.push({ hostname: host.replace(/^\[(.*)\]$/, '$1'), port: withPort ? Number(withPort[2]) : 0 });
  }
  return entries;
}

/** The proxy URL this request goes through, or undefined for a direct connection. */
export function proxyFor(target: URL, settings: ProxySettings): string | undefined {
  // as undici: an https:// target falls back to HTTP_PROXY when HTTPS_PROXY is unset
  const proxy = target.protocol === 'https:' ? (settings.httpsProxy ?? settings.httpProxy) : target.protocol === 'http:' ? settings.httpProxy : undefined;
  if (!proxy) return undefined;
  return bypassesProxy(target, settings.noProxy) ? undefined : proxy;
}

function bypassesProxy(target: URL, noProxy: string | undefined): boolean {
  const entries = parseNoProxy(noProxy);
  if (entries === '*') return true;
  const hostname = target.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.port) || DEFAULT_PORTS[target.protocol] || 0;
  return entries.some((e) => (e.port === 0 || e.port === port) && (hostname === e.hostname || hostname.endsWith(`.${e.hostname}`)));
}

/** A proxy URL as it may be shown: scheme, host and port, never the user or password in it. */
export function shownProxy(proxy: string): string {
  try {
    const u = new URL(proxy);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'the configured proxy';
  }
}

