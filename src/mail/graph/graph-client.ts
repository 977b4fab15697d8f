/**
 * Requests to Microsoft Graph for one mailbox, through the project's one HTTP client (deadline,
 * capped bodies, proxy, TLS rules); its host policy admits only GRAPH_BASE_URL's host, and
 * @odata.nextLink / deltaLink URLs are followed only on that host. The bearer token comes from
 * the IMAP OAuth code's token source (cached in Redis, shared with a standby); a 401 drops it
 * and the request is sent once more with a new one. Graph's errors come back as GraphError with
 * its status, code and Retry-After: what they mean is graph-failure.ts's.
 */
import { permanent } from '../../errors.js';
import { createHttpClient, type HttpClient, type HttpResponse } from '../../http/client.js';
import { hostOf, type Peer } from '../../http/errors.js';
import type { ProxySettings } from '../../http/proxy.js';
import type { Logger } from '../../log/logger.js';
import type { ImapAuthSource } from '../imap-auth/token-source.js';

/** A message with its bodies is rarely past 1 MB; more is refused rather than held in memory. */
export const GRAPH_MAX_BYTES = 4 * 1024 * 1024;

const GRAPH_PEER: Peer = {
  name: 'Microsoft Graph',
  timeoutSetting: 'FASPEX_TIMEOUT_SECONDS',
  tlsAdvice: 'if a private CA or a TLS-inspecting proxy signs its certificate, put that CA (PEM) in a file and set GRAPH_CA_FILE to it',
  authAdvice: 'the access token was refused; check GRAPH_TENANT, GRAPH_CLIENT_ID and the app\'s Mail.ReadWrite permission (docs/mailbox-oauth.md)',
  sizeNote: 'a mail\'s text is far smaller',
};

export class GraphError extends Error {
  override name = 'GraphError';
  constructor(
    readonly status: number,
    /** Graph's error.code (ErrorAccessDenied, SyncStateNotFound, …) */
    readonly code: string,
    readonly graphMessage: string,
    readonly retryAfterMs: number | undefined,
    readonly path: string,
  ) {
    super(`Microsoft Graph answered HTTP ${status}${code ? ` ${code}` : ''}${graphMessage ? `: ${graphMessage}` : ''}`);
  }
}

export interface GraphClient {
  /** `path` under /v1.0 (e.g. /users/x/messages/1), or an absolute nextLink/deltaLink on the Graph host */
  get<T>(path: string, headers?: Record<string, string>): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  /** the token of the last request, for diagnosis of a 403 (its roles claim) */
  lastToken(): string | undefined;
  close(): Promise<void>;
}

export function createGraphClient(o: { baseUrl: string; auth: ImapAuthSource; caFile: string | undefined; timeoutMs: number; proxy?: ProxySettings | undefined; logger: Logger }): GraphClient {
  const base = new URL(o.baseUrl);
  const http: HttpClient = createHttpClient({
    policy: (url) => {
      if (url.protocol !== 'https:' || url.host !== base.host) throw permanent('HOST_NOT_ALLOWED', `only Microsoft Graph at ${base.host} is asked for mail, not ${hostOf(url)}`, { host: hostOf(url) });
    },
    timeoutMs: o.timeoutMs,
    logger: o.logger,
    tls: { caFile: o.caFile, caVariable: 'GRAPH_CA_FILE' },
    ...(o.proxy ? { proxy: o.proxy } : {}),
    peer: GRAPH_PEER,
    logLabel: 'graph http',
  });
  let token: string | undefined;
  const urlOf = (path: string) => (/^https:\/\//.test(path) ? path : `${o.baseUrl}/v1.0${path}`);

  async function send<T>(method: 'GET' | 'PATCH' | 'POST', path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      token = (await o.auth.login()).accessToken;
      const res: HttpResponse = await http.request({
        method,
        url: urlOf(path),
        what: 'the mailbox',
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          // ids that survive a move, so a mail is the same mail before and after it is filed
          prefer: ['IdType="ImmutableId"', ...(headers.prefer ? [headers.prefer] : [])].join(', '),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        maxBytes: GRAPH_MAX_BYTES,
        errors: 'return',
      });
      if (res.status >= 200 && res.status < 300) return (res.body ? JSON.parse(res.body) : {}) as T;
      const err = graphError(res, path);
      if (res.status === 401 && attempt === 0) {
        // expired or revoked since it was issued: one new token at once
        await o.auth.refused();
        continue;
      }
      throw err;
    }
  }

  return {
    get: (path, headers) => send('GET', path, undefined, headers),
    patch: (path, body) => send('PATCH', path, body),
    post: (path, body) => send('POST', path, body),
    lastToken: () => token,
    close: () => http.close(),
  };
}

function graphError(res: HttpResponse, path: string): GraphError {
  let code = '';
  let message = '';
  try {
    const e = (JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof e?.code === 'string') code = e.code;
    if (typeof e?.message === 'string') message = e.message.replace(/\s+/g, ' ').slice(0, 300);
  } catch {
    // a proxy's page: the status says enough
  }
  const header = res.headers['retry-after'];
  const raw = Array.isArray(header) ? header[0] : header;
  let retryAfterMs: number | undefined;
  if (raw !== undefined) {
    const seconds = Number(raw);
    retryAfterMs = Number.isFinite(seconds) ? Math.max(0, seconds) * 1000 : Math.max(0, Date.parse(raw) - Date.now()) || undefined;
  }
  return new GraphError(res.status, code, message, retryAfterMs, path.replace(/\?.*$/, ''));
}
