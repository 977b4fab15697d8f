/**
 * Faspex 5: from a package link to a TransferSpec with a token (faspex-protocol.md §7).
 *
 *   faspex5-public  (…/public/package?context=…, no account)
 *     GET the link (same-origin redirects only, at most 3, each hop through the allowlist)
 *     GET config.js → client_id, redirect_uri
 *     GET auth/authorize_public_link → 302, Location has `code` (or `action_message`)
 *     POST auth/token (authorization_code) → access token
 *     … and when config.js or authorize_public_link is 404 (Faspex before 5.0.13), the older
 *     flow instead: the API calls below carry `Passcode: <context.passcode>`.
 *   faspex5-inbox   (a registered user's package; needs FASPEX5_CLIENTS for the server)
 *     POST auth/token (JWT bearer, RS256) → access token for the configured user
 *   then, for both:
 *     GET  api/v5/packages/<id>                     → title, sender, recipients
 *     POST api/v5/packages/<id>/transfer_spec/download?type=received&transfer_type=connect
 *          [&recipient_user_id=…|&recipient_workgroup_id=…]  with {}  → transfer spec
 *
 * Nothing is cached: each resolve (and so each retry) gets a fresh code, access token and
 * transfer token, so an expired token is cured by resolving again.
 */
import type { Cluster, Redis } from 'ioredis';
import type { FaspexConfig } from '../config/config.js';
import { IngestError, permanent } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { registerSecret } from '../log/secrets.js';
import {
  authorizeUrl, checkedRedirectUri, codeTokenForm, FORM_TYPE, publicBaseUrl, readAccessToken, readAuthorizeLocation,
} from './faspex5-auth.js';
import { parseFaspex5Clients, type Faspex5ApiClient } from './faspex5-clients.js';
import { readWebClientConfig } from './faspex5-configjs.js';
import { readListingPage, readPackageInfo, recipientQuery, toResolvedPackage, toTransferSpec, type Faspex5PackageInfo } from './faspex5-package.js';
import { Faspex5Session } from './faspex5-session.js';
import { XML_MAX_BYTES, type FaspexHttp, type HttpRequest } from './http.js';
import { classifyRedirect, hostOf } from '../http/errors.js';
import { decodeFaspex5Context, type PackageLink } from './link.js';
import type { ResolvedPackage } from './resolved-package.js';

export interface Faspex5ClientDeps {
  http: FaspexHttp;
  config: FaspexConfig;
  logger: Logger;
  /** shares the API clients' access tokens between processes (faspex5-session.ts) */
  redis?: Redis | Cluster | undefined;
  prefix?: string;
  /** reads a private key file (tests) */
  readFile?: (path: string) => string;
}

export interface Faspex5Client {
  resolve(link: PackageLink, signal?: AbortSignal): Promise<ResolvedPackage>;
}

const MAX_LINK_HOPS = 3;
const LISTING_PAGE = 500;
const MAX_LISTED_FILES = 200_000;
const MAX_LISTING_REQUESTS = 2_000;
const PAGE_MAX_BYTES = 1024 * 1024;
const JSON_TYPE = 'application/json';

/** How the API calls are authorised, and so how their refusals read. */
type ApiAuth =
  | { kind: 'public-token' | 'passcode'; headers: Record<string, string> }
  | { kind: 'inbox'; headers: Record<string, string>; client: Faspex5ApiClient; session: Faspex5Session; box: PackageLink['box'] };

export function createFaspex5Client({ http, config, logger, readFile, redis, prefix }: Faspex5ClientDeps): Faspex5Client {
  // Parsed once: a malformed FASPEX5_CLIENTS stops the worker at start, not at the first link.
  const clients = parseFaspex5Clients(config.faspex5Clients);
  const sessions = new Map([...clients.values()].map((client) => [client.server, new Faspex5Session({ http, client, logger, redis, prefix, readFile })]));

  const get = (req: Omit<HttpRequest, 'method'>) => http.request({ method: 'GET', ...req });
  const post = (req: Omit<HttpRequest, 'method'>) => http.request({ method: 'POST', ...req });

  /** GET the link; follow only same-origin redirects (each hop is allowlist-checked by http). */
  async function followLink(link: PackageLink, signal?: AbortSignal): Promise<URL> {
    let url = new URL(link.url);
    for (let hop = 0; ; hop++) {
      const res = await get({ url, what: 'the public link', headers: { accept: 'text/html' }, maxBytes: PAGE_MAX_BYTES, signal, redirects: 'return' });
      if (res.status < 300) return url;
      const location = res.headers.location;
      const target = new URL(String((Array.isArray(location) ? location[0] : location) ?? ''), url);
      const ctx = { url, what: 'the public link' };
      // Another host, a login page, or no Location: classified, never followed.
      if (!location || target.origin !== url.origin || classifyRedirect(res.status, target.href, ctx).code === 'LINK_EXPIRED') {
        throw classifyRedirect(res.status, location === undefined ? undefined : target.href, ctx);
      }
      if (hop + 1 >= MAX_LINK_HOPS) throw permanent('REDIRECTED', `Faspex server ${hostOf(url)} redirected the public link more than ${MAX_LINK_HOPS} times`, { host: hostOf(url) });
      url = target;
    }
  }

  /** 5.0.13+: code → access token; undefined when this server predates it (fall back to Passcode). */
  async function publicToken(baseUrl: string, context: string, signal?: AbortSignal): Promise<string | undefined> {
    const host = new URL(baseUrl).host;
    let web;
    try {
      const res = await get({ url: `${baseUrl}/config.js`, what: 'the web client settings (config.js)', headers: { accept: '*/*' }, maxBytes: PAGE_MAX_BYTES, signal });
      web = readWebClientConfig(res.body, host);
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
    const redirectUri = checkedRedirectUri(web.redirectUri, baseUrl, config.allowedHosts);
    const what = 'the public-link authorization';
    let res;
    try {
      res = await get({ url: authorizeUrl(baseUrl, context, web.clientId, redirectUri), what, headers: { accept: 'text/html' }, maxBytes: PAGE_MAX_BYTES, signal, redirects: 'return' });
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw linkRefused(err, host);
    }
    if (res.status < 300) throw permanent('BAD_RESPONSE', `Faspex server ${host} answered ${what} with a page instead of a redirect`, { host, status: res.status });
    const location = res.headers.location;
    const outcome = readAuthorizeLocation(Array.isArray(location) ? location[0] : location, res.url);
    if (!outcome.ok) {
      throw permanent('LINK_EXPIRED', `Faspex server ${host} refused the public link: "${outcome.reason}" (it has expired, was withdrawn, or its passcode is wrong)`, { host });
    }
    try {
      const token = await post({
        url: `${baseUrl}/auth/token`, what: 'an access token for the public link', body: codeTokenForm(web.clientId, outcome.code, redirectUri),
        headers: { 'content-type': FORM_TYPE, accept: JSON_TYPE }, signal,
      });
      return readAccessToken(token.body, host);
    } catch (err) {
      if (isStatus(err, 400)) throw permanent('LINK_EXPIRED', `Faspex server ${host} refused the public link's authorization code (400)`, { host, status: 400 });
      throw linkRefused(err, host);
    }
  }

  async function publicLink(link: PackageLink, signal?: AbortSignal): Promise<ResolvedPackage> {
    const finalUrl = await followLink(link, signal);
    const context = finalUrl.searchParams.get('context') ?? link.context;
    registerSecret(context);
    const decoded = context ? decodeFaspex5Context(context) : undefined;
    if (!context || !decoded) throw permanent('LINK_INVALID', `the Faspex 5 link to ${link.server} led to a page without a readable context`);
    registerSecret(decoded.passcode);
    const baseUrl = publicBaseUrl(finalUrl);
    const token = await publicToken(baseUrl, context, signal);
    const auth: ApiAuth = token === undefined
      ? { kind: 'passcode', headers: { Passcode: decoded.passcode } }
      : { kind: 'public-token', headers: { authorization: `Bearer ${token}` } };
    logger.debug({ server: link.server, flow: auth.kind }, 'faspex 5: public link authorised');
    return download(link, baseUrl, decoded.package_id, auth, signal);
  }

  async function inbox(link: PackageLink, signal?: AbortSignal): Promise<ResolvedPackage> {
    const client = clients.get(link.server);
    if (!client) {
      throw permanent('CREDENTIALS_MISSING',
        `this is a link to a registered user's Faspex 5 inbox on ${link.server}; downloading it needs an API client for that server in FASPEX5_CLIENTS (see docs/faspex5.md)`);
    }
    const session = sessions.get(link.server)!;
    // one new token when the cached one is refused (401), then the refusal stands
    return session.authorised((headers) => download(link, link.baseUrl, link.packageId, { kind: 'inbox', headers, client, session, box: link.box }, signal), signal);
  }

  async function download(link: PackageLink, baseUrl: string, packageId: string, auth: ApiAuth, signal?: AbortSignal): Promise<ResolvedPackage> {
    const api = `${baseUrl}/api/v5/packages/${encodeURIComponent(packageId)}`;
    const host = new URL(baseUrl).host;
    const headers = { accept: JSON_TYPE, ...auth.headers };
    try {
      const info = readPackageInfo(parseJson((await get({ url: api, what: 'the package description', headers, maxBytes: XML_MAX_BYTES, signal })).body, host), host);
      const query = new URLSearchParams({ type: 'received', transfer_type: 'connect', ...(await recipientFor(info, auth, signal)) });
      const res = await post({
        url: `${api}/transfer_spec/download?${query.toString()}`, what: 'the download transfer spec', body: '{}',
        headers: { ...headers, 'content-type': JSON_TYPE }, maxBytes: XML_MAX_BYTES, signal,
      });
      const resolved = toResolvedPackage(link, info, toTransferSpec(parseJson(res.body, host), host));
      const files = await listFiles(api, query, headers, host, signal);
      if (files) {
        resolved.files = files;
        if (resolved.encrypted === undefined && files.some((f) => f.path.endsWith('.aspera-env'))) resolved.encrypted = true;
      }
      return resolved;
    } catch (err) {
      throw apiRefused(err, host, packageId, auth);
    }
  }

  /**
   * Public links: the first recipient, as ascli does. A user's: the entry of the box the package
   * was found in, else the user's own, else the entry of a box the user reads (looked up only then).
   */
  async function recipientFor(info: Faspex5PackageInfo, auth: ApiAuth, signal?: AbortSignal) {
    if (auth.kind !== 'inbox') return recipientQuery(info);
    const user = auth.client.user;
    if (auth.box) return recipientQuery(info, user, { box: auth.box });
    const own = recipientQuery(info, user);
    const mine = (info.recipients ?? []).some((r) => r.recipient_type === 'user' && (r.name === user || r.email === user));
    if (mine || !(info.recipients ?? []).some((r) => r.recipient_type === 'workgroup' || r.recipient_type === 'shared_inbox')) return own;
    return recipientQuery(info, user, { boxes: await auth.session.memberBoxes(signal) });
  }

  /**
   * The package's files as the server lists them (`POST files/received`, folder by folder, 500
   * items a page, as ascli browses): the list the download is verified against. undefined when
   * the server has no such endpoint (404). Bounded: a hostile server cannot make it endless.
   */
  async function listFiles(api: string, recipient: URLSearchParams, headers: Record<string, string>, host: string, signal?: AbortSignal) {
    const files: Array<{ path: string; size?: number }> = [];
    const folders = ['/'];
    let requests = 0;
    while (folders.length > 0) {
      const path = folders.shift()!;
      for (let offset = 0; ;) {
        if (++requests > MAX_LISTING_REQUESTS || files.length > MAX_LISTED_FILES) {
          throw permanent('RESPONSE_TOO_LARGE', `Faspex server ${host} lists more than ${MAX_LISTED_FILES} files (or folders) for one package; it was not downloaded`, { host });
        }
        const query = new URLSearchParams({ offset: String(offset), limit: String(LISTING_PAGE) });
        for (const key of ['recipient_user_id', 'recipient_workgroup_id']) if (recipient.has(key)) query.set(key, recipient.get(key)!);
        let res;
        try {
          res = await post({
            url: `${api}/files/received?${query.toString()}`, what: "the package's file list", body: JSON.stringify({ path }),
            headers: { ...headers, 'content-type': JSON_TYPE }, maxBytes: XML_MAX_BYTES, signal,
          });
        } catch (err) {
          if (requests === 1 && isStatus(err, 404)) return undefined;
          throw err;
        }
        const page = readListingPage(parseJson(res.body, host), host);
        files.push(...page.files);
        folders.push(...page.directories);
        if (page.count === 0 || page.count < LISTING_PAGE) break;
        offset += page.count;
      }
    }
    return files;
  }

  return {
    async resolve(link, signal) {
      if (link.kind === 'faspex5-public') return publicLink(link, signal);
      if (link.kind === 'faspex5-inbox') return inbox(link, signal);
      throw permanent('LINK_INVALID', `the Faspex 5 client cannot resolve a ${link.kind} link`);
    },
  };
}

function statusOf(err: unknown): number | undefined {
  const status = err instanceof IngestError ? err.details.status : undefined;
  return typeof status === 'number' ? status : undefined;
}

function isStatus(err: unknown, status: number): boolean {
  return statusOf(err) === status;
}

function parseJson(body: string, host: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw permanent('BAD_RESPONSE', `Faspex server ${host} answered with something that is not JSON where the v5 API sends JSON`, { host });
  }
}

/** Public-link refusals are about the link, whatever the status says. */
function linkRefused(err: unknown, host: string): unknown {
  const status = statusOf(err);
  if (status === 401 || status === 403) {
    return permanent('LINK_EXPIRED', `Faspex server ${host} refused the public link (${status}): it has expired, was withdrawn, or its passcode is wrong`, { host, status });
  }
  return err;
}

/** Refusals of the API calls, in words that fit the way they were authorised. */
function apiRefused(err: unknown, host: string, packageId: string, auth: ApiAuth): unknown {
  const status = statusOf(err);
  const details = { host, status, packageId };
  if (status === 404 || status === 410) {
    return permanent('PACKAGE_DELETED', `package ${packageId} is not on Faspex server ${host} (any more): it was deleted or has expired`, details);
  }
  if (status !== 401 && status !== 403) return err;
  if (auth.kind !== 'inbox') return linkRefused(err, host);
  const who = `user ${auth.client.user} (API client ${auth.client.clientId} in FASPEX5_CLIENTS)`;
  return status === 401
    ? permanent('AUTH_FAILED', `Faspex server ${host} refused the access token of ${who} (401)`, details)
    : permanent('FORBIDDEN', `Faspex server ${host} does not let ${who} download package ${packageId} (403): is the user a recipient?`, details);
}
