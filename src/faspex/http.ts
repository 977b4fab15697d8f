/**
 * Faspex's use of the outbound HTTP client (src/http/client.ts): its host policy is
 * FASPEX_ALLOWED_HOSTS, its CA is FASPEX_CA_FILE, its deadline FASPEX_TIMEOUT_SECONDS, and its
 * messages speak of "Faspex server". The guards themselves (policy before connect, no redirects
 * followed, one deadline, capped body, proxy routing) live in the client, shared with the OAuth
 * token requests and the webhook.
 */
import type { Dispatcher } from 'undici';
import type { FaspexConfig } from '../config/config.js';
import { permanent } from '../errors.js';
import { createHttpClient, type HttpClient } from '../http/client.js';
import { hostOf } from '../http/errors.js';
import type { TlsSettings } from '../http/tls.js';
import type { Logger } from '../log/logger.js';
import { findAllowedEntry, type AllowedHost } from './allowlist.js';

export { TEXT_MAX_BYTES, XML_MAX_BYTES, type HttpRequest, type HttpResponse } from '../http/client.js';

/** The Faspex clients' HTTP: the shared client under the Faspex policy. */
export type FaspexHttp = HttpClient;

export interface FaspexHttpOptions {
  /** used as-is instead of the pools built from config (tests wrap createFaspexAgent's, agent.ts) */
  dispatcher?: Dispatcher;
}

/**
 * Throws HOST_NOT_ALLOWED unless the allowlist admits this URL. Pure: no DNS, no network.
 * https only; plain http only where an entry says http:// explicitly (findAllowedEntry).
 */
export function assertAllowed(url: URL, allowlist: readonly AllowedHost[]): AllowedHost {
  const entry = findAllowedEntry(url, allowlist);
  if (entry) return entry;
  const host = hostOf(url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw permanent('HOST_NOT_ALLOWED', `${url.protocol} links are never fetched; only https:// Faspex links are`, { host });
  }
  if (url.username || url.password) {
    throw permanent('HOST_NOT_ALLOWED', `a link with a user name or password in it is never fetched (${host})`, { host });
  }
  if (url.protocol === 'http:') {
    throw permanent('HOST_NOT_ALLOWED',
      `plain http to ${host} is refused: FASPEX_ALLOWED_HOSTS allows plain http only where an entry is written as http://${host}; nothing was fetched`,
      { host });
  }
  throw permanent('HOST_NOT_ALLOWED',
    `${host} is not in FASPEX_ALLOWED_HOSTS, so nothing was fetched from it; add it there if this Faspex server is trusted`,
    { host });
}

export function createFaspexHttp(config: FaspexConfig, logger: Logger, options: FaspexHttpOptions = {}): FaspexHttp {
  if (!options.dispatcher) warnIfInsecure(config, logger);
  return createHttpClient({
    policy: (url) => void assertAllowed(url, config.allowedHosts),
    timeoutMs: config.timeoutMs,
    logger,
    tls: faspexTls(config),
    proxy: config.proxy,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    logLabel: 'faspex http',
  });
}

/** FASPEX_CA_FILE / FASPEX_INSECURE_TLS as the client's TLS settings. */
export function faspexTls(config: FaspexConfig): TlsSettings {
  return { caFile: config.caFile, caVariable: 'FASPEX_CA_FILE', insecure: config.insecureTls };
}

export function warnIfInsecure(config: FaspexConfig, logger: Logger): void {
  if (config.insecureTls) {
    logger.warn('FASPEX_INSECURE_TLS=true: Faspex HTTPS certificates are NOT verified; anyone on the network path can read the passcodes and tokens');
  }
}
