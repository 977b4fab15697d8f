/**
 * The only way the service makes an outbound HTTP request (Faspex, OAuth token endpoints, the
 * completion webhook). Every request goes through the same guards, so no caller can forget one:
 *  - the caller's host policy is checked before any connection, and so before any proxy CONNECT
 *    (for Faspex the allowlist, the SSRF guard: mail is untrusted input);
 *  - redirects are never followed (a 3xx is classified instead: an expired link lands on a login
 *    page, and following a redirect to another host would bypass the policy);
 *  - one deadline covers connect, headers and body, so a server that drips bytes cannot hold a
 *    worker forever;
 *  - the body is capped while it streams, so a hostile or broken server cannot exhaust memory;
 *  - HTTPS_PROXY / HTTP_PROXY / NO_PROXY choose the route (dispatcher.ts), TLS to the target is
 *    verified with the configured CA set whichever route is taken.
 *
 * undici (and the pools, dispatcher.ts) is loaded with the first request, not when the client is
 * built: a `run` waiting for mail, or one whose webhook or token endpoint is never called, does
 * not carry it (~13 MB, docs/benchmarks.md "Memory"). The CA file is still read at construction.
 */
import type { Dispatcher, request as undiciRequest } from 'undici';
import { IngestError, permanent } from '../errors.js';
import type { Logger } from '../log/logger.js';
import {
  classifyRedirect,
  classifyStatus,
  classifyTransportError,
  FASPEX_PEER,
  hostOf,
  shown,
  timeoutError,
  tooLarge,
  type Peer,
  type RequestContext,
} from './errors.js';
import { proxyFor, shownProxy, type ProxySettings } from './proxy.js';
import { tlsOptions, type TlsSettings } from './tls.js';

/** A Faspex 4 package description is a few KB; 2 MB leaves room for huge file lists. */
export const XML_MAX_BYTES = 2 * 1024 * 1024;
/** issue-token answers with one token. */
export const TEXT_MAX_BYTES = 64 * 1024;

/**
 * Throws an IngestError (HOST_NOT_ALLOWED, say) unless this URL may be fetched. Runs before any
 * connection. Faspex: FASPEX_ALLOWED_HOSTS; a token client: the provider's token host.
 */
export type HostPolicy = (url: URL) => void;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH';
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
   * caller still fetches nothing it did not pass through this client, so the policy holds.
   */
  redirects?: 'classify' | 'return';
  /**
   * 'classify' (default): a 4xx/5xx throws (classifyStatus). 'return': it resolves with its
   * capped body, for protocols whose errors are in the body (OAuth's `error`, `error_description`).
   */
  errors?: 'classify' | 'return';
}

export interface HttpResponse {
  url: URL;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface HttpClient {
  /** resolves only for a 2xx answer (unless redirects/errors say 'return'); throws IngestError otherwise */
  request(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface HttpClientOptions {
  /** checked on every request's URL before anything is sent */
  policy: HostPolicy;
  timeoutMs: number;
  logger: Logger;
  /** CA file and checks for the targets */
  tls?: TlsSettings;
  /** Config.proxy; absent: always direct */
  proxy?: ProxySettings;
  /** names the far side in messages (default: Faspex server) */
  peer?: Peer;
  /** used as-is instead of the pools built from tls and proxy (tests wrap one to count connections) */
  dispatcher?: Dispatcher;
  /** the log line of each request, default 'http' */
  logLabel?: string;
}

const USER_AGENT = 'faspex-ingest/0.1';

interface Transport {
  request: typeof undiciRequest;
  dispatcher: Dispatcher;
}

export function createHttpClient(o: HttpClientOptions): HttpClient {
  // read now, so a bad CA file stops the start rather than the first download
  const resolvedTls = o.dispatcher ? undefined : tlsOptions(o.tls ?? {});
  let transport: Promise<Transport> | undefined;
  let owned: Dispatcher | undefined;
  const load = (): Promise<Transport> =>
    (transport ??= (async () => {
      const [{ request }, { OutboundDispatcher }] = await Promise.all([import('undici'), import('./dispatcher.js')]);
      if (o.dispatcher) return { request, dispatcher: o.dispatcher };
      owned = new OutboundDispatcher({ tls: o.tls ?? {}, resolvedTls, timeoutMs: o.timeoutMs, proxy: o.proxy });
      return { request, dispatcher: owned };
    })());
  const { timeoutMs, logger } = o;
  const peer = o.peer ?? FASPEX_PEER;

  async function send(req: HttpRequest): Promise<HttpResponse> {
    const url = typeof req.url === 'string' ? parseUrl(req.url) : req.url;
    o.policy(url);
    const viaProxy = proxyFor(url, o.proxy ?? {});
    const ctx: RequestContext = { url, what: req.what, peer, ...(viaProxy ? { proxy: shownProxy(viaProxy) } : {}) };
    const limit = req.maxBytes ?? XML_MAX_BYTES;
    const { request, dispatcher } = await load();
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
      logger.debug({ method: req.method, url: shown(url), status, ms: Date.now() - started, ...(ctx.proxy ? { proxy: ctx.proxy } : {}) }, o.logLabel ?? 'http');
      const returnError = status >= 400 && req.errors === 'return';
      if ((status >= 300 || status < 200) && !returnError) {
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
      if (!transport) return;
      await transport;
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
