/**
 * A stand-in for the token endpoints of Microsoft Entra ID, Google and any OAuth2 provider, plus
 * the token introspection endpoint an OAuth-only Dovecot asks (src/standins/dovecot.ts `oauth`).
 *
 * Token endpoint (HTTPS with the test CA, any path): the grants the service uses —
 *  - client_credentials with client_secret, or with a client_assertion JWT whose RS256 signature
 *    is checked against the registered certificate (named by its x5t#S256 / x5t header), aud =
 *    the token URL, iss = sub = client id, unexpired;
 *  - urn:ietf:params:oauth:grant-type:jwt-bearer (a service account: iss = its client_email,
 *    sub = the mailbox, aud = the token URL, scope; signature checked with its public key);
 *  - refresh_token, rotating: each use returns a new refresh token and voids the old one.
 * It fails as the real ones do: HTTP 400/401 with JSON {error, error_description}
 * (invalid_client, invalid_grant, unauthorized_client, invalid_scope, unsupported_grant_type).
 *
 * Introspection (plain HTTP on loopback, as Dovecot's oauth2 passdb POSTs token=…): an issued,
 * unexpired token of a client that is not revoked is {active: true, username: <mailbox>};
 * anything else {active: false}. Dovecot does not check expiry itself: this service decides.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createHash, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getTestCa } from '../../src/standins/test-ca.js';

export interface GrantRecord {
  path: string;
  grantType: string;
  /** client id, service account email */
  client: string | undefined;
  ok: boolean;
  error?: string;
  /** the names of the form's fields (not their values), for assertions on what was sent */
  fields: string[];
}

interface Client {
  id: string;
  mailbox: string;
  secret?: string;
  /** certificate credential */
  cert?: { publicKey: KeyObject; x5tS256: string; x5t: string };
  /** service account */
  serviceAccount?: { publicKey: KeyObject; scopes: string[] };
  revoked: boolean;
  /** application permissions admin-consented for the app: the access token's `roles` */
  roles?: string[];
}

/** The resource a client-credentials scope names (`https://graph.microsoft.com/.default` → its audience). */
const resourceOf = (scope: string) => scope.replace(/\/\.default$/, '');

interface IssuedToken {
  client: string;
  mailbox: string;
  expiresAt: number;
  expired: boolean;
}

export interface ServiceAccountFile {
  /** the JSON key file's content, as Google's console downloads it */
  json: string;
  clientEmail: string;
}

export interface TokenService {
  /** https://127.0.0.1:PORT */
  readonly origin: string;
  /** Entra-shaped URL for a tenant: https://127.0.0.1:PORT/<tenant>/oauth2/v2.0/token */
  entraTokenUrl(tenant: string): string;
  /** Google-shaped URL: https://127.0.0.1:PORT/token */
  readonly googleTokenUrl: string;
  /** http://127.0.0.1:PORT/introspect, for Dovecot */
  readonly introspectionUrl: string;
  readonly caFile: string;
  /** expires_in of tokens issued from now on (seconds) */
  lifetimeS: number;
  /**
   * Access tokens are RS256 JWTs as Entra issues them for app-only flows: aud = the scope's
   * resource, tid = the tenant of the token URL's path, appid, roles. This verifies them (a
   * resource server such as the Graph stand-in is given the public key).
   */
  readonly signingKeyPem: string;
  /** the app's consented application permissions (default: Mail.ReadWrite); [] = consent revoked */
  setRoles(id: string, roles: string[]): void;
  addSecretClient(id: string, secret: string, mailbox: string): void;
  addCertificateClient(id: string, certPem: string, mailbox: string): void;
  /** a service account allowed (domain-wide delegation) to act for mailboxes with these scopes */
  addServiceAccount(clientEmail: string, scopes: string[], tokenUri?: string): ServiceAccountFile;
  /** a client with a refresh token for `mailbox`; returns that refresh token */
  addRefreshClient(id: string, mailbox: string, secret?: string): string;
  /** the app's credentials stop working: grants fail, its tokens are no longer active */
  revokeClient(id: string): void;
  /** every access token issued so far stops being active (as if its lifetime had passed) */
  expireAccessTokens(): void;
  /** refresh tokens currently valid for a client */
  liveRefreshTokens(id: string): string[];
  readonly grants: GrantRecord[];
  /** access tokens issued, in order */
  readonly issued: string[];
  /** introspection calls: token → active */
  readonly introspections: { token: string; active: boolean }[];
  close(): Promise<void>;
}

export async function startTokenService(): Promise<TokenService> {
  const ca = await getTestCa();
  const clients = new Map<string, Client>();
  const tokens = new Map<string, IssuedToken>();
  const refreshTokens = new Map<string, string>(); // refresh token → client id
  const grants: GrantRecord[] = [];
  const issued: string[] = [];
  const introspections: { token: string; active: boolean }[] = [];
  const usedJti = new Set<string>();
  let origin = '';

  const service = {
    lifetimeS: 3600,
  };

  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const issue = (client: Client, grant?: { scope: string; path: string }): Record<string, unknown> => {
    const now = Math.floor(Date.now() / 1000);
    const tenant = /^\/([^/]+)\/oauth2\//.exec(grant?.path ?? '')?.[1];
    const claims = {
      aud: resourceOf(grant?.scope ?? ''), iss: `https://sts.windows.net/${tenant ?? 'common'}/`, iat: now, nbf: now, exp: now + service.lifetimeS,
      appid: client.id, tid: tenant, roles: client.roles ?? ['Mail.ReadWrite'], jti: randomBytes(12).toString('base64url'),
    };
    const head = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const accessToken = `${head}.${body}.${sign('sha256', Buffer.from(`${head}.${body}`), signing.privateKey).toString('base64url')}`;
    tokens.set(accessToken, { client: client.id, mailbox: client.mailbox, expiresAt: Date.now() + service.lifetimeS * 1000, expired: false });
    issued.push(accessToken);
    return { token_type: 'Bearer', expires_in: service.lifetimeS, ext_expires_in: service.lifetimeS, access_token: accessToken };
  };
  const newRefreshToken = (clientId: string) => {
    const rt = `rt-${randomBytes(24).toString('base64url')}`;
    refreshTokens.set(rt, clientId);
    return rt;
  };

  class OAuthError extends Error {
    constructor(readonly status: number, readonly error: string, readonly description: string) {
      super(description);
    }
  }
  const fail = (status: number, error: string, description: string): never => {
    throw new OAuthError(status, error, description);
  };

  const tokenUrlOf = (path: string) => `${origin}${path}`;

  function clientCredentials(form: URLSearchParams, path: string): Record<string, unknown> {
    const id = form.get('client_id') ?? '';
    const client = clients.get(id);
    if (!client || (!client.secret && !client.cert)) {
      fail(400, 'unauthorized_client', `AADSTS700016: Application with identifier '${id}' was not found in the directory 'test'.`);
    }
    const c = client!;
    if (c.revoked) fail(401, 'invalid_client', `AADSTS7000222: The provided client secret keys for app '${id}' are expired. Visit the Azure portal to create new keys for your app.`);
    const scope = form.get('scope') ?? '';
    if (!scope.endsWith('/.default')) fail(400, 'invalid_scope', `AADSTS1002012: The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`);
    const assertion = form.get('client_assertion');
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') fail(400, 'invalid_request', 'AADSTS50027: client_assertion_type is missing or wrong.');
      if (!c.cert) fail(401, 'invalid_client', `AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application '${id}'.`);
      const jwt = readJwt(assertion, c.cert!.publicKey);
      if (!jwt) fail(401, 'invalid_client', 'AADSTS700027: Client assertion contains an invalid signature.');
      const { header, payload } = jwt!;
      if (header['x5t#S256'] !== c.cert!.x5tS256 && header.x5t !== c.cert!.x5t) {
        fail(401, 'invalid_client', `AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application '${id}'.`);
      }
      if (payload.aud !== tokenUrlOf(path)) fail(401, 'invalid_client', `AADSTS700212: No matching federated identity record found for presented assertion audience '${String(payload.aud)}'.`);
      if (payload.iss !== id || payload.sub !== id) fail(401, 'invalid_client', 'AADSTS700023: Client assertion audience claim does not match Realm issuer.');
      checkTimes(payload);
      if (typeof payload.jti !== 'string' || usedJti.has(payload.jti)) fail(401, 'invalid_client', 'AADSTS700024: Client assertion is not within its valid time range (jti reused).');
      usedJti.add(payload.jti as string);
      return issue(c, { scope, path });
    }
    const secret = form.get('client_secret');
    if (!c.secret || secret !== c.secret) {
      fail(401, 'invalid_client', `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${id}'.`);
    }
    return issue(c, { scope, path });
  }

  function checkTimes(payload: Record<string, unknown>): void {
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== 'number' || payload.exp < now) fail(401, 'invalid_client', 'AADSTS700024: Client assertion is not within its valid time range.');
    if (typeof payload.nbf === 'number' && payload.nbf > now + 60) fail(401, 'invalid_client', 'AADSTS700024: Client assertion is not within its valid time range.');
  }

  function jwtBearer(form: URLSearchParams, path: string): Record<string, unknown> {
    const assertion = form.get('assertion') ?? '';
    const unverified = readJwt(assertion);
    const email = typeof unverified?.payload.iss === 'string' ? unverified.payload.iss : '';
    const account = clients.get(email);
    if (!account?.serviceAccount) fail(400, 'invalid_grant', 'Invalid JWT Signature.');
    if (account!.revoked) fail(400, 'invalid_grant', `Invalid grant: account not found`);
    const jwt = readJwt(assertion, account!.serviceAccount!.publicKey);
    if (!jwt) fail(400, 'invalid_grant', 'Invalid JWT Signature.');
    const { payload } = jwt!;
    if (payload.aud !== tokenUrlOf(path)) fail(400, 'invalid_grant', 'Invalid JWT: Failed audience check.');
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number' || payload.exp < now || payload.exp - payload.iat > 3600) {
      fail(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') fail(400, 'invalid_grant', 'Invalid email or User ID');
    const scopes = String(payload.scope ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0 || scopes.some((s) => !account!.serviceAccount!.scopes.includes(s))) {
      fail(401, 'unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.');
    }
    return issue({ ...account!, mailbox: payload.sub as string });
  }

  function refresh(form: URLSearchParams): Record<string, unknown> {
    const id = form.get('client_id') ?? '';
    const client = clients.get(id);
    if (!client) fail(401, 'invalid_client', 'The OAuth client was not found.');
    if (client!.revoked) fail(401, 'invalid_client', 'Unauthorized');
    if (client!.secret !== undefined && form.get('client_secret') !== client!.secret) fail(401, 'invalid_client', 'Unauthorized');
    const rt = form.get('refresh_token') ?? '';
    if (refreshTokens.get(rt) !== id) fail(400, 'invalid_grant', 'Token has been expired or revoked.');
    refreshTokens.delete(rt);
    return { ...issue(client!), refresh_token: newRefreshToken(id), scope: form.get('scope') ?? '' };
  }

  async function onToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', origin).pathname;
    const form = new URLSearchParams(await readBody(req));
    const grantType = form.get('grant_type') ?? '';
    const record: GrantRecord = {
      path,
      grantType,
      client: form.get('client_id') ?? readJwt(form.get('assertion') ?? '')?.payload.iss as string | undefined,
      ok: false,
      fields: [...form.keys()],
    };
    grants.push(record);
    try {
      if (req.method !== 'POST') fail(405, 'invalid_request', 'POST only');
      if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) fail(400, 'invalid_request', 'AADSTS900144: The request body must contain the following parameter: grant_type.');
      const body = grantType === 'client_credentials' ? clientCredentials(form, path)
        : grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer' ? jwtBearer(form, path)
          : grantType === 'refresh_token' ? refresh(form)
            : fail(400, 'unsupported_grant_type', `AADSTS70003: The app requested an unsupported grant type '${grantType}'.`);
      record.ok = true;
      json(res, 200, body);
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
      record.error = e.error;
      json(res, e.status, { error: e.error, error_description: e.description, error_codes: [], timestamp: new Date().toISOString() });
    }
  }

  async function onIntrospect(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = new URLSearchParams(await readBody(req)).get('token') ?? '';
    const t = tokens.get(token);
    const active = !!t && !t.expired && t.expiresAt > Date.now() && !clients.get(t.client)?.revoked;
    introspections.push({ token, active });
    json(res, 200, active ? { active: true, username: t!.mailbox, client_id: t!.client } : { active: false });
  }

  const https = createHttpsServer({ key: ca.serverKeyPem, cert: ca.serverCertPem }, (req, res) => {
    onToken(req, res).catch((e: unknown) => json(res, 500, { error: 'server_error', error_description: String(e) }));
  });
  const http: Server = createHttpServer((req, res) => {
    onIntrospect(req, res).catch((e: unknown) => json(res, 500, { error: String(e) }));
  });
  await Promise.all([listen(https), listen(http)]);
  origin = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
  const introspectionUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/introspect`;

  return Object.assign(service, {
    origin,
    entraTokenUrl: (tenant: string) => `${origin}/${tenant}/oauth2/v2.0/token`,
    googleTokenUrl: `${origin}/token`,
    introspectionUrl,
    caFile: ca.caFile,
    signingKeyPem: signing.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    setRoles(id: string, roles: string[]) {
      const c = clients.get(id);
      if (!c) throw new Error(`no client ${id}`);
      c.roles = roles;
    },
    grants,
    issued,
    introspections,
    addSecretClient(id: string, secret: string, mailbox: string) {
      clients.set(id, { id, secret, mailbox, revoked: false });
    },
    addCertificateClient(id: string, certPem: string, mailbox: string) {
      const cert = new X509Certificate(certPem);
      clients.set(id, {
        id, mailbox, revoked: false,
        cert: { publicKey: cert.publicKey, x5tS256: createHash('sha256').update(cert.raw).digest('base64url'), x5t: createHash('sha1').update(cert.raw).digest('base64url') },
      });
    },
    addServiceAccount(clientEmail: string, scopes: string[], tokenUri?: string): ServiceAccountFile {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      clients.set(clientEmail, { id: clientEmail, mailbox: '', revoked: false, serviceAccount: { publicKey, scopes } });
      const json = JSON.stringify({
        type: 'service_account',
        project_id: 'faspex-ingest-test',
        private_key_id: randomBytes(20).toString('hex'),
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
        client_email: clientEmail,
        client_id: String(Date.now()),
        auth_uri: 'https://accounts.google.com/o/oauth2/auth',
        token_uri: tokenUri ?? `${origin}/token`,
      }, null, 2);
      return { json, clientEmail };
    },
    addRefreshClient(id: string, mailbox: string, secret?: string): string {
      clients.set(id, { id, mailbox, revoked: false, ...(secret !== undefined ? { secret } : {}) });
      return newRefreshToken(id);
    },
    revokeClient(id: string) {
      const c = clients.get(id);
      if (!c) throw new Error(`no client ${id}`);
      c.revoked = true;
    },
    expireAccessTokens() {
      for (const t of tokens.values()) t.expired = true;
    },
    liveRefreshTokens: (id: string) => [...refreshTokens].filter(([, c]) => c === id).map(([rt]) => rt),
    async close() {
      https.closeAllConnections();
      http.closeAllConnections();
      await Promise.all([new Promise((r) => https.close(r)), new Promise((r) => http.close(r))]);
    },
  });
}

/** Header and payload of a compact JWS; with a key, only when its RS256 signature verifies. */
function readJwt(jwt: string, key?: KeyObject): { header: Record<string, unknown>; payload: Record<string, unknown> } | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (key) {
      if (header.alg !== 'RS256') return undefined;
      if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2]!, 'base64url'))) return undefined;
    }
    return { header, payload };
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > 64 * 1024) req.destroy(new Error('body too large'));
    });
    req.once('end', () => resolve(body));
    req.once('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function listen(server: Server | ReturnType<typeof createHttpsServer>): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

/**
 * A self-signed certificate and its key in `dir`, as an administrator makes one for an Entra
 * app registration (openssl, like test-ca.ts). Returns the file paths and the certificate PEM.
 */
export async function makeAppCertificate(dir: string, name = 'app'): Promise<{ certFile: string; keyFile: string; certPem: string }> {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=faspex-ingest ${name}`]);
  return { certFile, keyFile, certPem: readFileSync(certFile, 'utf8') };
}
