/**
 * Faspex 5 authentication, the parts without I/O (faspex-protocol.md §7.2):
 *  - public links (5.0.13+): authorize_public_link → 302 whose Location carries `code` (or
 *    `action_message`, the server's reason in words), then the code is exchanged at auth/token;
 *  - inbox links: a JWT bearer assertion exchanged at auth/token;
 *  - the token answer: `access_token`, a secret.
 */
import { permanent } from '../errors.js';
import { registerSecret } from '../log/secrets.js';
import type { AllowedHost } from './allowlist.js';
import { assertAllowed } from './http.js';
import { hostOf } from '../http/errors.js';

export const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * The web root of a public link: the URL with `/public/…` and the query cut off, as ascli does;
 * a link at the server root (`https://HOST/?context=`) means the standard `/aspera/faspex`.
 */
export function publicBaseUrl(url: URL): string {
  const path = url.pathname.replace(/\/public(\/.*)?$/, '').replace(/\/+$/, '');
  return `${url.origin}${path || '/aspera/faspex'}`;
}

/**
 * config.js's redirect_uri as an absolute URL. It is only ever sent, never fetched, and the
 * answer to authorize is never followed; still, a redirect_uri on a host outside
 * FASPEX_ALLOWED_HOSTS is refused, so no code is ever handed towards another host.
 */
export function checkedRedirectUri(redirectUri: string, baseUrl: string, allowlist: readonly AllowedHost[]): string {
  let url: URL;
  try {
    url = new URL(redirectUri, `${baseUrl}/`);
  } catch {
    throw permanent('BAD_RESPONSE', `Faspex server ${new URL(baseUrl).host} names an unreadable redirect_uri in config.js`);
  }
  assertAllowed(url, allowlist);
  return redirectUri;
}

export function authorizeUrl(baseUrl: string, context: string, clientId: string, redirectUri: string): string {
  const query = new URLSearchParams({ response_type: 'code', state: context, client_id: clientId, redirect_uri: redirectUri });
  return `${baseUrl}/auth/authorize_public_link?${query.toString()}`;
}

export type AuthorizeOutcome = { ok: true; code: string } | { ok: false; reason: string };

/** The authorize answer's Location: `code`, or the server's `action_message`. */
export function readAuthorizeLocation(location: string | undefined, requestUrl: URL): AuthorizeOutcome {
  const host = hostOf(requestUrl);
  if (!location) throw permanent('BAD_RESPONSE', `Faspex server ${host} answered the public-link authorization with a redirect to nowhere`, { host });
  let target: URL;
  try {
    target = new URL(location, requestUrl);
  } catch {
    throw permanent('BAD_RESPONSE', `Faspex server ${host} answered the public-link authorization with an unreadable redirect`, { host });
  }
  const message = target.searchParams.get('action_message');
  if (message !== null) return { ok: false, reason: message.replace(/[\r\n\t]+/g, ' ').slice(0, 300) };
  const code = target.searchParams.get('code');
  if (!code) throw permanent('BAD_RESPONSE', `Faspex server ${host} answered the public-link authorization without a code or a reason`, { host });
  registerSecret(code);
  return { ok: true, code };
}

export function codeTokenForm(clientId: string, code: string, redirectUri: string): string {
  return new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: redirectUri }).toString();
}

export function jwtTokenForm(clientId: string, assertion: string, clientSecret?: string): string {
  registerSecret(assertion);
  const form = new URLSearchParams({ grant_type: JWT_GRANT, client_id: clientId, assertion });
  if (clientSecret !== undefined) form.set('client_secret', clientSecret);
  return form.toString();
}

/** auth/token's JSON answer → the access token (registered as a secret). */
export function readAccessToken(body: string, host: string): string {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw permanent('BAD_RESPONSE', `Faspex server ${host} answered auth/token with something that is not JSON`, { host });
  }
  const token = json && typeof json === 'object' ? (json as Record<string, unknown>).access_token : undefined;
  if (typeof token !== 'string' || token === '' || /\s/.test(token)) {
    throw permanent('BAD_RESPONSE', `Faspex server ${host} answered auth/token without an access_token`, { host });
  }
  registerSecret(token);
  const refresh = (json as Record<string, unknown>).refresh_token;
  if (typeof refresh === 'string') registerSecret(refresh);
  return token;
}

/** `X-IBM-Aspera: F5.0.13` → [5, 0, 13]; undefined when absent or another product. */
export function faspexVersion(header: string | string[] | undefined): number[] | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = /^F(\d+(?:\.\d+)*)/.exec(value?.trim() ?? '');
  return m ? m[1]!.split('.').map(Number) : undefined;
}

/**
 * When an access token expires (ms since epoch): the `exp` of the token itself when it is a JWT
 * (Faspex 5's are; faspex5-boxes.md §5), else `expires_in`, else `expiration_date`, else
 * `fallbackMs` from now. Never more than a week: a server's typo must not pin a token forever.
 */
export function accessTokenExpiry(body: string, accessToken: string, now: number, fallbackMs = 10 * 60_000): number {
  const cap = now + 7 * 86_400_000;
  const parts = accessToken.split('.');
  if (parts.length === 3) {
    try {
      const exp = (JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
      if (typeof exp === 'number' && Number.isFinite(exp)) return Math.min(cap, exp * 1000);
    } catch {
      // not a JWT after all: the answer's fields below
    }
  }
  try {
    const json = JSON.parse(body) as { expires_in?: unknown; expiration_date?: unknown };
    if (typeof json.expires_in === 'number' && json.expires_in > 0) return Math.min(cap, now + json.expires_in * 1000);
    if (typeof json.expiration_date === 'string' && !Number.isNaN(Date.parse(json.expiration_date))) return Math.min(cap, Date.parse(json.expiration_date));
  } catch {
    // readAccessToken already refused a body that is not JSON
  }
  return now + fallbackMs;
}

/** The refusal of a token request in the server's words (`error_description`, `error`, `message`). */
export function refusalWords(body: string, status: number): string {
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    const words = [json.error_description, json.message, json.error].find((v) => typeof v === 'string' && v.trim() !== '');
    if (typeof words === 'string') return `${status} ${words.replace(/[\r\n\t]+/g, ' ').slice(0, 300)}`;
  } catch {
    // not JSON: the status alone
  }
  return String(status);
}
