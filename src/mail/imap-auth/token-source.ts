/**
 * The listener's source of login credentials, asked before every (re)connect and told when the
 * server refused them. For a password it hands out the password. For OAuth2 it hands out an
 * access token that outlives the login by a margin:
 *  - cached in the process and, with Redis, shared: several listener processes (a standby, a
 *    restart) take the token from Redis; the one that must fetch holds a short Redis lock, the
 *    others wait for its result instead of hammering the token endpoint (as EmailEngine does);
 *  - `refused()` drops the cached token, so the next login fetches a new one;
 *  - a refresh token the provider rotates is written to Redis before the new access token is
 *    used, and read from there on the next fetch (also after a restart). Its key carries a hash
 *    of the configured refresh token: configuring a new one starts afresh.
 * Every token, assertion and secret is registered with the secrets registry before use.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import type { ProxySettings } from '../../http/proxy.js';
import { SharedTokenCache } from '../../http/shared-token.js';
import type { Logger } from '../../log/logger.js';
import { registerSecret } from '../../log/secrets.js';
import { GOOGLE_TOKEN_URL, secretsOf, type ImapAuth, type OAuthProvider } from './auth-config.js';
import { KeyMaterialError, parseCertificateCredential, parseServiceAccountKey } from './key-material.js';
import { createTokenEndpoint, type TokenEndpoint } from './token-endpoint.js';
import {
  clientAssertionRequest, clientSecretRequest, refreshTokenRequest, serviceAccountRequest, type AccessToken, type TokenRequest,
} from './token-requests.js';

/** What imapflow's `auth` option takes. */
export interface ImapLogin {
  user: string;
  pass?: string;
  accessToken?: string;
}

export interface ImapAuthSource {
  /** credentials for the next connection; throws LoginRefused when the provider refuses */
  login(): Promise<ImapLogin>;
  /** the IMAP server refused the credentials of the last login() */
  refused(): Promise<void>;
  /** whether login() after refused() can bring other credentials (a new token; not a password) */
  readonly renewable: boolean;
  close(): Promise<void>;
}

/** The provider refused to issue a token (invalid_client, invalid_grant, …): `reason` is its own. */
export class LoginRefused extends Error {
  override name = 'LoginRefused';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The token endpoint could not be asked (network, 5xx): worth trying again after backoff. */
export class TokenUnavailable extends Error {
  override name = 'TokenUnavailable';
}

export interface ImapAuthSourceOptions {
  auth: ImapAuth;
  /** IMAP_CA_FILE: trusted for the token endpoint too */
  caFile?: string | undefined;
  /** shares tokens, the fetch lock and rotated refresh tokens between processes */
  redis?: Redis | Cluster | undefined;
  prefix?: string;
  logger: Logger;
  timeoutMs?: number;
  /** Config.proxy: token requests take the same route as every other request */
  proxy?: ProxySettings | undefined;
  /** tests */
  readFile?: (path: string) => string;
}

const LOCK_MS = 15_000;

export function createImapAuthSource(o: ImapAuthSourceOptions): ImapAuthSource {
  for (const s of secretsOf(o.auth)) registerSecret(s);
  const { auth } = o;
  if (auth.kind === 'password') {
    return passwordSource(auth.user, auth.password);
  }
  return new OAuthTokenSource(auth.user, auth.provider, o);
}

export function passwordSource(user: string, pass: string): ImapAuthSource {
  return { renewable: false, login: async () => ({ user, pass }), refused: async () => {}, close: async () => {} };
}

type Grant = (refreshToken: string | undefined) => TokenRequest;

class OAuthTokenSource implements ImapAuthSource {
  readonly renewable = true;
  private readonly endpoint: TokenEndpoint;
  private readonly grant: Grant;
  private readonly keys: { refresh: string | undefined };
  /** the access token, in the process and in Redis (`<base>:token`, `<base>:token:lock`) */
  private readonly cache: SharedTokenCache;
  private lastToken: string | undefined;
  /** the configured refresh token, or the latest one rotated in (Redis holds it across restarts) */
  private refreshToken: string | undefined;

  constructor(private readonly user: string, provider: OAuthProvider, private readonly o: ImapAuthSourceOptions) {
    const read = o.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
    const { grant, tokenUrl, identity } = grantOf(provider, user, read);
    this.grant = grant;
    const seed = provider.name === 'refresh-token' ? provider.refreshToken : undefined;
    this.refreshToken = seed;
    const id = hash(identity).slice(0, 24);
    const base = `${o.prefix ?? 'faspex-ingest'}:imap-oauth:${id}`;
    this.keys = { refresh: seed ? `${base}:refresh:${hash(seed).slice(0, 16)}` : undefined };
    this.cache = new SharedTokenCache({ redis: o.redis, key: `${base}:token`, lockKey: `${base}:lock`, lockMs: LOCK_MS });
    this.endpoint = createTokenEndpoint({ tokenUrl, caFile: o.caFile, timeoutMs: o.timeoutMs ?? 30_000, proxy: o.proxy, logger: o.logger });
  }

  async login(): Promise<ImapLogin> {
    const token = await this.cache.get(() => this.fetch());
    this.lastToken = token.accessToken;
    return { user: this.user, accessToken: token.accessToken };
  }

  async refused(): Promise<void> {
    // only the refused token: another process may already have put a fresh one there
    await this.cache.drop(this.lastToken);
  }

  async close(): Promise<void> {
    await this.endpoint.close();
  }

  private async fetch(): Promise<AccessToken> {
    const redis = this.o.redis;
    let refreshToken = this.refreshToken;
    if (this.keys.refresh && redis) refreshToken = (await redis.get(this.keys.refresh)) ?? refreshToken;
    registerSecret(refreshToken);
    const started = Date.now();
    const answer = await this.endpoint.post(this.grant(refreshToken));
    if (!answer.ok) throw answer.refused ? new LoginRefused(answer.reason) : new TokenUnavailable(answer.reason);
    const token = answer.token;
    const lifetimeMs = token.expiresAt - started;
    if (this.keys.refresh && token.refreshToken && token.refreshToken !== refreshToken) {
      // the old one may already be void: keep the new one before anything else can fail
      if (redis) await redis.set(this.keys.refresh, token.refreshToken);
      this.refreshToken = token.refreshToken;
      this.o.logger.info('the token endpoint rotated the refresh token; the new one is kept');
    }
    this.o.logger.info({ expiresInS: Math.round(lifetimeMs / 1000) }, 'obtained a mailbox access token');
    return token;
  }
}


function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The provider's request builder, its token URL, and what identifies its tokens (never a secret). */
function grantOf(p: OAuthProvider, user: string, read: (path: string) => string): { grant: Grant; tokenUrl: string; identity: string } {
  const readFile = (path: string, what: string) => {
    try {
      return read(path);
    } catch (e) {
      throw new KeyMaterialError(`${what} ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  };
  const now = () => Math.floor(Date.now() / 1000);
  if (p.name === 'microsoft') {
    const identity = JSON.stringify(['microsoft', p.tokenUrl, p.clientId, p.scope, user]);
    const credential = p.credential;
    if (credential.kind === 'secret') {
      return { tokenUrl: p.tokenUrl, identity, grant: () => clientSecretRequest({ tokenUrl: p.tokenUrl, clientId: p.clientId, clientSecret: credential.clientSecret, scope: p.scope }) };
    }
    const cert = parseCertificateCredential(
      readFile(credential.certificateFile, 'IMAP_OAUTH_CERTIFICATE_FILE'),
      readFile(credential.keyFile, 'IMAP_OAUTH_KEY_FILE'),
      { certificate: credential.certificateFile, key: credential.keyFile },
    );
    return { tokenUrl: p.tokenUrl, identity, grant: () => clientAssertionRequest({ tokenUrl: p.tokenUrl, clientId: p.clientId, scope: p.scope, cert, now: now() }) };
  }
  if (p.name === 'google') {
    const account = parseServiceAccountKey(readFile(p.keyFile, 'IMAP_OAUTH_KEY_FILE'), p.keyFile);
    const tokenUrl = p.tokenUrl ?? account.tokenUri ?? GOOGLE_TOKEN_URL;
    const identity = JSON.stringify(['google', tokenUrl, account.clientEmail, p.scope, user]);
    return { tokenUrl, identity, grant: () => serviceAccountRequest({ tokenUrl, account, user, scope: p.scope, now: now() }) };
  }
  const identity = JSON.stringify(['refresh-token', p.tokenUrl, p.clientId, p.scope ?? '', user]);
  return {
    tokenUrl: p.tokenUrl,
    identity,
    grant: (refreshToken) => refreshTokenRequest({ tokenUrl: p.tokenUrl, clientId: p.clientId, clientSecret: p.clientSecret, refreshToken: refreshToken ?? p.refreshToken, scope: p.scope }),
  };
}
