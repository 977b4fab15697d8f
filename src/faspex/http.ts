/**
 * The only way the service talks HTTP to Faspex. Every request goes through the same guards, so
 * no caller can forget one:
 *  - the allowlist is checked before any connection (the SSRF guard: mail is untrusted input);
 *  - redirects are never followed (a 3xx is classified instead: an expired link lands on a login
 *    page, and following a redirect to another host would bypass the allowlist);
 *  - one deadline covers connect, headers and body, so a server that drips bytes cannot hold a
 *    worker forever;
 *  - the body is capped while it streams, so a hostile or broken server cannot exhaust memory.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import type { FaspexConfig } from '../config/config.js';
import { IngestError, permanent } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { findAllowedEntry, type AllowedHost } from './allowlist.js';
import {
  classifyRedirect,
  classifyStatus,
  classifyTransportError,
  hostOf,
  shown,
  timeoutError,
  tooLarge,
  type RequestContext,
} from './http-errors.js';

/** A Faspex 4 package description is a few KB; 2 MB leaves room for huge file lists. */
export const XML_MAX_BYTES = 2 * 1024 * 1024;
/** issue-token answers with one token. */
export const TEXT_MAX_BYTES = 64 * 1024;

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string | URL;
  /** what is being fetched, for messages: "the package description" */
  what: string;
  headers?: Record<string, string>;
  body?: string;
  /** default XML_MAX_BYTES */
  maxBytes?: number;
  signal?: AbortSignal;
  /**
   * 'classify' (default): a 3xx throws (classifyRedirect). 'return': a 3xx resolves with an empty
   * body so the caller can read its Location (Faspex 5 hands out OAuth codes that way); the
   * caller still fetches nothing it did not pass through this client, so the allowlist holds.
   */
  redirects?: 'classify' | 'return';
}

export interface HttpResponse {
  url: URL;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface FaspexHttp {
  /** resolves only for a 2xx answer (or a 3xx with redirects: 'return'); throws IngestError otherwise */
  request(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface FaspexHttpOptions {
  /** used as-is instead of the agent built from config (tests wrap createFaspexAgent's) */
  dispatcher?: Dispatcher;
}

const USER_AGENT = 'faspex-ingest/0.1';

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

/** The per-client connection pool: system CAs plus FASPEX_CA_FILE, or no verification at all. */
export function createFaspexAgent(config: FaspexConfig, logger: Logger): Agent {
  const connect: { ca?: string[]; rejectUnauthorized?: boolean; timeout: number } = { timeout: config.timeoutMs };
  if (config.caFile) {
    let pem: string;
    try {
      pem = readFileSync(config.caFile, 'utf8');
    } catch (e) {
      throw permanent('CONFIG', `FASPEX_CA_FILE ${config.caFile} cannot be read: ${(e as Error).message}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw permanent('CONFIG', `FASPEX_CA_FILE ${config.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    }
    // Setting `ca` replaces Node's trust store; keep the public roots so ordinary servers still work.
    connect.ca = [...rootCertificates, pem];
  }
  if (config.insecureTls) {
    connect.rejectUnauthorized = false;
    logger.warn('FASPEX_INSECURE_TLS=true: Faspex HTTPS certificates are NOT verified; anyone on the network path can read the passcodes and tokens');
  }
  return new Agent({ connect, headersTimeout: config.timeoutMs, bodyTimeout: config.timeoutMs, keepAliveTimeout: 4_000 });
}

export function createFaspexHttp(config: FaspexConfig, logger: Logger, options: FaspexHttpOptions = {}): FaspexHttp {
  const owned = options.dispatcher ? undefined : createFaspexAgent(config, logger);
  const dispatcher: Dispatcher = options.dispatcher ?? owned!;
  const timeoutMs = config.timeoutMs;

  async function send(req: HttpRequest): Promise<HttpResponse> {
    const url = typeof req.url === 'string' ? parseUrl(req.url) : req.url;
    assertAllowed(url, config.allowedHosts);
    const ctx: RequestContext = { url, what: req.what };
    const limit = req.maxBytes ?? XML_MAX_BYTES;
    const started = Date.now();

    // One deadline for the whole exchange; the caller's signal cancels it too.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(timeoutError(ctx, timeoutMs)), timeoutMs);
    const onCallerAbort = () => controller.abort(new IngestError('CANCELLED', `fetching ${req.what} from ${hostOf(url)} was cancelled`, { retry: 'never' }));
    if (req.signal?.aborted) onCallerAbort();
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      const res = await request(url, {
        dispatcher,
        method: req.method,
        headers: { 'user-agent': USER_AGENT, ...req.headers },
        body: req.body,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const status = res.statusCode;
      logger.debug({ method: req.method, url: shown(url), status, ms: Date.now() - started }, 'faspex http');
      if (status >= 300 || status < 200) {
        // The body is not needed to classify; dropping the socket is cheaper than draining it.
        discard(res.body);
        if (status >= 300 && status < 400 && req.redirects === 'return') return { url, status, headers: res.headers, body: '' };
        if (status >= 300 && status < 400) throw classifyRedirect(status, header(res.headers, 'location'), ctx);
        throw classifyStatus(status, ctx);
      }
      const declared = Number(header(res.headers, 'content-length'));
      if (Number.isFinite(declared) && declared > limit) {
        discard(res.body);
        throw tooLarge(ctx, limit);
      }
      const body = await readCapped(res.body, limit, ctx);
      return { url, status, headers: res.headers, body };
    } catch (err) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
      if (reason instanceof IngestError) throw reason;
      throw classifyTransportError(err, ctx, timeoutMs);
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  return {
    request: send,
    async close() {
      await owned?.close();
    },
  };
}

function parseUrl(raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw permanent('LINK_INVALID', `not a URL: ${shown(raw)}`);
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

type Body = AsyncIterable<Buffer> & { destroy(err?: Error): unknown; on(event: 'error', listener: () => void): unknown };

/** Drops a body we will not read; undici reports that as an 'error' nobody needs to hear. */
function discard(body: Body): void {
  body.on('error', () => {});
  body.destroy();
}

async function readCapped(body: Body, limit: number, ctx: RequestContext): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > limit) {
      discard(body);
      throw tooLarge(ctx, limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
