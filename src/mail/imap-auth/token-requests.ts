/**
 * The token requests of the three OAuth2 logins and the reading of their answers, pure: what to
 * POST (a form) and what came back (a token or the provider's reason). The shell
 * (token-source.ts) sends them through the project's HTTP client.
 *
 *   client_credentials + client_secret            Entra, app secret
 *   client_credentials + client_assertion (JWT)   Entra, certificate (private_key_jwt, RFC 7523 §2.2)
 *   urn:ietf:params:oauth:grant-type:jwt-bearer   Google service account (RFC 7523 §2.1)
 *   refresh_token                                 any provider (RFC 6749 §6)
 */
import { randomUUID } from 'node:crypto';
import { signRs256Jwt } from '../../crypto/jwt-rs256.js';
import type { CertificateCredential, ServiceAccountKey } from './key-material.js';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Assertions are single-use and short-lived; back-dated a little for clock skew. */
const ASSERTION_LIFETIME_S = 600;
const CLOCK_SKEW_S = 60;
const GOOGLE_ASSERTION_LIFETIME_S = 3600;

export interface TokenRequest {
  url: string;
  form: Record<string, string>;
  /** values in the form to register as secrets before anything could log them */
  secrets: string[];
}

export function clientSecretRequest(o: { tokenUrl: string; clientId: string; clientSecret: string; scope: string }): TokenRequest {
  return {
    url: o.tokenUrl,
    form: { grant_type: 'client_credentials', client_id: o.clientId, client_secret: o.clientSecret, scope: o.scope },
    secrets: [o.clientSecret],
  };
}

/** Entra's certificate credential: a JWT signed with the certificate's key, `aud` = the token URL. */
export function clientAssertionRequest(o: { tokenUrl: string; clientId: string; scope: string; cert: CertificateCredential; now: number; jti?: string }): TokenRequest {
  const assertion = signRs256Jwt(
    { aud: o.tokenUrl, iss: o.clientId, sub: o.clientId, jti: o.jti ?? randomUUID(), nbf: o.now - CLOCK_SKEW_S, iat: o.now - CLOCK_SKEW_S, exp: o.now + ASSERTION_LIFETIME_S },
    o.cert.key,
    { 'x5t#S256': o.cert.x5tS256, x5t: o.cert.x5t },
  );
  return {
    url: o.tokenUrl,
    form: { grant_type: 'client_credentials', client_id: o.clientId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion, scope: o.scope },
    secrets: [assertion],
  };
}

/** Google domain-wide delegation: the service account asserts that it acts as `user`. */
export function serviceAccountRequest(o: { tokenUrl: string; account: ServiceAccountKey; user: string; scope: string; now: number }): TokenRequest {
  const assertion = signRs256Jwt(
    { iss: o.account.clientEmail, sub: o.user, scope: o.scope, aud: o.tokenUrl, iat: o.now - CLOCK_SKEW_S, exp: o.now - CLOCK_SKEW_S + GOOGLE_ASSERTION_LIFETIME_S },
    o.account.key,
  );
  return { url: o.tokenUrl, form: { grant_type: JWT_BEARER_GRANT, assertion }, secrets: [assertion] };
}

export function refreshTokenRequest(o: { tokenUrl: string; clientId: string; clientSecret: string | undefined; refreshToken: string; scope: string | undefined }): TokenRequest {
  const form: Record<string, string> = { grant_type: 'refresh_token', client_id: o.clientId, refresh_token: o.refreshToken };
  if (o.clientSecret !== undefined) form.client_secret = o.clientSecret;
  if (o.scope !== undefined) form.scope = o.scope;
  return { url: o.tokenUrl, form, secrets: [o.refreshToken, ...(o.clientSecret ? [o.clientSecret] : [])] };
}

export interface AccessToken {
  accessToken: string;
  /** ms since the epoch */
  expiresAt: number;
  /** present when the provider rotated the refresh token */
  refreshToken?: string | undefined;
}

export type TokenAnswer =
  | { ok: true; token: AccessToken }
  /** the provider refused (an OAuth error answer): `reason` is its error and description */
  | { ok: false; refused: true; reason: string; error: string }
  /** not an OAuth answer at all (a proxy's page, a 5xx): worth trying again later */
  | { ok: false; refused: false; reason: string };

/** Providers that omit expires_in get this; Entra and Google always send it. */
const DEFAULT_LIFETIME_S = 3600;
const MAX_REASON = 300;

/** A token endpoint's answer (status + body) → the token, or the provider's reason in its own words. */
export function readTokenAnswer(status: number, body: string, now: number, host: string): TokenAnswer {
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  if (status >= 200 && status < 300) {
    const token = json?.access_token;
    if (typeof token !== 'string' || token === '' || /\s/.test(token)) {
      return { ok: false, refused: false, reason: `the token endpoint ${host} answered HTTP ${status} without an access_token` };
    }
    const type = json?.token_type;
    if (typeof type === 'string' && type.toLowerCase() !== 'bearer') {
      return { ok: false, refused: false, reason: `the token endpoint ${host} issued a ${type} token; IMAP needs a Bearer token` };
    }
    const expiresIn = Number(json?.expires_in);
    const lifetime = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_LIFETIME_S;
    const refresh = json?.refresh_token;
    return { ok: true, token: { accessToken: token, expiresAt: now + lifetime * 1000, refreshToken: typeof refresh === 'string' && refresh !== '' ? refresh : undefined } };
  }
  const error = typeof json?.error === 'string' ? json.error : undefined;
  if (error !== undefined && status >= 400 && status < 500) {
    const description = typeof json?.error_description === 'string' ? json.error_description : undefined;
    return { ok: false, refused: true, error, reason: oneLine(description ? `${error}: ${description}` : error) };
  }
  return { ok: false, refused: false, reason: `the token endpoint ${host} answered HTTP ${status}${error ? ` (${oneLine(error)})` : ''}` };
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_REASON ? `${flat.slice(0, MAX_REASON)}…` : flat;
}

/** Whether a cached token is still good for a new connection (src/http/shared-token.ts). */
export { isFresh } from '../../http/shared-token.js';
