/**
 * Pure classification of everything that can go wrong with an outbound HTTP request (Faspex by
 * default; a token endpoint or the webhook name themselves through `peer`): which code, which
 * retry decision, and a message in plain words that tells the operator what to do. No I/O here,
 * so the whole table is tested without a server.
 *
 * Messages name the host and the URL only through maskText: a Faspex 4 external link carries its
 * passcode in the query string.
 */
import { IngestError, permanent, transient, type ErrorCode } from '../errors.js';
import { maskText } from '../log/secrets.js';

/** Who is on the far side, for messages: what to call it and which settings to point at. */
export interface Peer {
  /** "Faspex server", "token endpoint", "webhook" */
  name: string;
  /** the setting that sets the deadline */
  timeoutSetting: string;
  /** what to do about a certificate that cannot be verified */
  tlsAdvice: string;
  /** what to do about a 401 */
  authAdvice: string;
  /** what an answer this big means, after "the answer was abandoned" */
  sizeNote?: string;
}

export const FASPEX_PEER: Peer = {
  name: 'Faspex server',
  timeoutSetting: 'FASPEX_TIMEOUT_SECONDS',
  tlsAdvice: 'if the server uses a private or company CA, put its certificate (PEM) in a file and set FASPEX_CA_FILE to it ' +
    '(FASPEX_INSECURE_TLS=true skips the check, like curl -k, and is not recommended)',
  authAdvice: 'the user name and password were refused; check FASPEX_USERNAME and FASPEX_PASSWORD',
  sizeNote: 'a package description is far smaller',
};

/** What the request was for, e.g. "the package description": makes messages readable. */
export interface RequestContext {
  url: URL;
  what: string;
  /** default FASPEX_PEER */
  peer?: Peer;
  /** the proxy the request went through, as shownProxy() gives it (no credentials) */
  proxy?: string;
}

const peerOf = (ctx: RequestContext): Peer => ctx.peer ?? FASPEX_PEER;

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN',
  'ENETDOWN', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** OpenSSL verification codes as Node reports them (err.code). */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE', 'CERT_CHAIN_TOO_LONG', 'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH',
]);
/** Connect-time codes: through a proxy they are about the proxy, not the target. */
const PROXY_SIDE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);
/** The handshake itself failed: usually plain HTTP (or something else) on the port. */
const HANDSHAKE_CODES = new Set(['EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

export function hostOf(url: URL): string {
  return url.port ? `${url.hostname}:${url.port}` : url.hostname;
}

export function shown(url: URL | string): string {
  return maskText(String(url));
}

function errorCodes(err: unknown): string[] {
  // undici wraps socket errors; Node's own codes sit on `cause` (sometimes two levels down).
  const codes: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

/** A thrown transport error (undici / Node socket / TLS) as an IngestError. */
export function classifyTransportError(err: unknown, ctx: RequestContext, timeoutMs: number): IngestError {
  if (err instanceof IngestError) return err;
  const host = hostOf(ctx.url);
  const codes = errorCodes(err);
  const details = { host, codes };
  const tls = codes.find((c) => TLS_CODES.has(c));
  if (tls) {
    return permanent('TLS',
      `the HTTPS certificate of ${host} could not be verified (${tls}) while fetching ${ctx.what}: ${peerOf(ctx).tlsAdvice}`, details, err);
  }
  const handshake = codes.find((c) => HANDSHAKE_CODES.has(c));
  if (handshake) {
    return permanent('TLS', `the TLS handshake with ${host} failed (${handshake}) while fetching ${ctx.what}: is it an HTTPS server on that port?`, details, err);
  }
  const refusal = proxyRefusal(err);
  if (refusal !== undefined) return classifyProxyRefusal(refusal, ctx, err);
  if (codes.some((c) => TIMEOUT_CODES.has(c))) return timeoutError(ctx, timeoutMs, err);
  const network = codes.find((c) => NETWORK_CODES.has(c));
  if (network) {
    const why = network === 'ECONNREFUSED' ? 'refused the connection'
      : network === 'ENOTFOUND' || network === 'EAI_AGAIN' ? 'could not be found in DNS'
        : network === 'ECONNRESET' || network === 'UND_ERR_SOCKET' || network === 'EPIPE' ? 'closed the connection unexpectedly'
          : 'could not be reached';
    if (ctx.proxy && PROXY_SIDE_CODES.has(network)) {
      // Through a proxy the socket is the proxy's: the target is reached (or not) by the proxy.
      return transient('PROXY', `the proxy ${ctx.proxy} ${why} (${network}) while fetching ${ctx.what} from ${host}: check HTTPS_PROXY / HTTP_PROXY`, { ...details, proxy: ctx.proxy }, err);
    }
    return transient('NETWORK', `${peerOf(ctx).name} ${host} ${why} (${network}) while fetching ${ctx.what}${ctx.proxy ? ` through the proxy ${ctx.proxy}` : ''}`, details, err);
  }
  const message = err instanceof Error ? err.message : String(err);
  return transient('NETWORK', `request to ${host} for ${ctx.what} failed: ${maskText(message)}`, details, err);
}

/** The status a proxy answered a CONNECT with, as undici reports it ("Proxy response (403) !== 200 ..."). */
function proxyRefusal(err: unknown): number | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const message = String((e as { message?: unknown }).message ?? '');
    const m = /^Proxy response \((\d+)\) !== 200/.exec(message);
    if (m) return Number(m[1]);
    if (message.startsWith('Proxy Authentication Required (407)')) return 407;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A proxy that answered the CONNECT for the target with something other than 200. */
export function classifyProxyRefusal(status: number, ctx: RequestContext, cause?: unknown): IngestError {
  const host = hostOf(ctx.url);
  const proxy = ctx.proxy ?? 'the proxy';
  const details = { host, proxy, proxyStatus: status };
  const at = `the proxy ${proxy} answered ${status} when asked to connect to ${host} for ${ctx.what}`;
  if (status === 407) {
    return permanent('PROXY', `${at}: it needs a login; put user:password@ in front of the proxy's host in HTTPS_PROXY / HTTP_PROXY`, details, cause);
  }
  if (status === 403 || status === 405) {
    return permanent('PROXY',
      `${at}: its rules do not allow this host or port; ask its administrators to allow ${host}, or add ${ctx.url.hostname} to NO_PROXY if it can be reached directly`,
      details, cause);
  }
  if (status >= 500 || status === 408 || status === 429) {
    return transient('PROXY', `${at}: it could not reach ${host} or is overloaded`, details, cause);
  }
  return permanent('PROXY', `${at}, which is not how a proxy allows a connection`, details, cause);
}

export function timeoutError(ctx: RequestContext, timeoutMs: number, cause?: unknown): IngestError {
  const host = hostOf(ctx.url);
  return transient('TIMEOUT',
    `${peerOf(ctx).name} ${host} did not answer ${ctx.what} within ${Math.round(timeoutMs / 100) / 10} s (${peerOf(ctx).timeoutSetting})` +
    (ctx.proxy ? `, through the proxy ${ctx.proxy}` : ''),
    { host, timeoutMs }, cause);
}

/** Login pages Faspex (and single-sign-on front ends) redirect to when a link is no longer valid. */
const LOGIN_PATH = /(^|\/)(login|logon|signin|sign_in|sign-in|session|sessions|sso|saml|auth|account\/login)(\/|$|\?)/i;

/**
 * A 3xx answer. Redirects are never followed: they are how an expired link lands on a login
 * page, and following one to another host would bypass the allowlist.
 */
export function classifyRedirect(status: number, location: string | undefined, ctx: RequestContext): IngestError {
  const host = hostOf(ctx.url);
  if (!location) {
    return permanent('BAD_RESPONSE', `${peerOf(ctx).name} ${host} answered ${status} (a redirect) without saying where to, for ${ctx.what}`, { host, status });
  }
  let target: URL;
  try {
    target = new URL(location, ctx.url);
  } catch {
    return permanent('BAD_RESPONSE', `${peerOf(ctx).name} ${host} answered ${status} with an unreadable redirect for ${ctx.what}`, { host, status });
  }
  const targetHost = hostOf(target);
  const details = { host, status, location: shown(target) };
  if (target.origin !== ctx.url.origin) {
    return permanent('REDIRECTED',
      `${peerOf(ctx).name} ${host} redirected ${ctx.what} to another host, ${targetHost} (${shown(target)}); ` +
      'redirects are never followed, and that host was not contacted', details);
  }
  if (LOGIN_PATH.test(target.pathname)) {
    return permanent('LINK_EXPIRED',
      `${peerOf(ctx).name} ${host} redirected ${ctx.what} to its login page: the link has expired, was already used, ` +
      'or needs a login (FASPEX_USERNAME and FASPEX_PASSWORD)', details);
  }
  return permanent('REDIRECTED', `${peerOf(ctx).name} ${host} redirected ${ctx.what} to ${shown(target)}; redirects are not followed`, details);
}

/** A non-2xx, non-3xx status. */
export function classifyStatus(status: number, ctx: RequestContext): IngestError {
  const host = hostOf(ctx.url);
  const details = { host, status };
  const peer = peerOf(ctx);
  const at = `${peer.name} ${host} answered ${status}`;
  const pick = (code: ErrorCode, retry: 'never' | 'later', message: string) =>
    retry === 'never' ? permanent(code, message, details) : transient(code, message, details);
  if (status === 401) {
    return pick('AUTH_FAILED', 'never', `${at} (unauthorized) for ${ctx.what}: ${peer.authAdvice}`);
  }
  if (status === 403) {
    return pick('FORBIDDEN', 'never', `${at} (forbidden) for ${ctx.what}: this account may not download this package, or the link is no longer valid`);
  }
  if (status === 404 || status === 410) {
    return pick('NOT_FOUND', 'never', `${at} (not found) for ${ctx.what}: the package does not exist (any more) on this server, or the link was mistyped`);
  }
  if (status === 408) return pick('TIMEOUT', 'later', `${at} (request timeout) for ${ctx.what}`);
  if (status === 429) return pick('SERVER_ERROR', 'later', `${at} (too many requests) for ${ctx.what}`);
  if (status >= 500) return pick('SERVER_ERROR', 'later', `${at} (server error) for ${ctx.what}`);
  return pick('BAD_RESPONSE', 'never', `${at} for ${ctx.what}, which this client does not expect${peer === FASPEX_PEER ? ' (a Faspex 4 server answers 200)' : ''}`);
}

export function tooLarge(ctx: RequestContext, limit: number): IngestError {
  const host = hostOf(ctx.url);
  return permanent('RESPONSE_TOO_LARGE',
    `${peerOf(ctx).name} ${host} sent more than ${formatBytes(limit)} for ${ctx.what}; the answer was abandoned` +
    (peerOf(ctx).sizeNote ? ` (${peerOf(ctx).sizeNote})` : ''),
    { host, limit });
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round((n / (1024 * 1024)) * 10) / 10} MB` : `${Math.round(n / 1024)} KB`;
}
