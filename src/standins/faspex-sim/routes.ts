/**
 * The simulated Faspex 4 web API: the package description (external and received) and
 * issue-token, refusing what a real server refuses (faspex-protocol.md §2–3):
 *   - description without `Accept: application/xml` → 406;
 *   - received/<id> without valid Basic credentials → 401; not that user's package → 404;
 *   - external link with a wrong or missing passcode → 200 with the HTML login page;
 *   - issue-token: Basic → 401, wrong Content-Type → 415, Accept without text/plain → 406,
 *     direction other than down → 400, a URL this server did not issue → 400, a package the user
 *     did not receive → 403.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeEntitiesForSim, faspPathOf } from './util.js';
import { errorPage, faspUrl, loginPage, packageXml, tokenFor, type FaspTarget } from './documents.js';
import { applyFault, send, type FaultContext, type SimFault } from './faults.js';
import type { PackageStore, SimPackage } from './store.js';

export interface SimRequest {
  method: string;
  /** path and query, as sent */
  url: string;
  path: string;
  query: Record<string, string>;
  /** lower-cased names */
  headers: Record<string, string | string[] | undefined>;
  /** [name, value, name, value, …] as sent, original case and order */
  rawHeaders: string[];
  body: string;
  at: number;
}

export interface RouteContext {
  prefix: string;
  origin: string;
  store: PackageStore;
  users: Record<string, string>;
  tokenSecret: string;
  tokenTtlMs: number;
  target: FaspTarget;
  faultFor(pkg: SimPackage | undefined, endpoint: 'description' | 'issue-token'): SimFault | undefined;
  timers: Set<NodeJS.Timeout>;
}

const URL_LIST_TYPE = 'application/vnd.aspera.url-list+xml';

export async function route(req: IncomingMessage, res: ServerResponse, body: string, ctx: RouteContext): Promise<void> {
  const url = new URL(req.url ?? '/', ctx.origin);
  const p = ctx.prefix;
  const path = url.pathname.replace(/\/+$/, '');
  const external = path.startsWith(`${p}/external_deliveries/`) ? /^\/external_deliveries\/(\d+)$/.exec(path.slice(p.length)) : null;
  const received = path.startsWith(`${p}/received/`) ? /^\/received\/(\d+)$/.exec(path.slice(p.length)) : null;

  if (req.method === 'GET' && external) return description(req, res, ctx, external[1]!, url.searchParams.get('passcode'));
  if (req.method === 'GET' && received) return description(req, res, ctx, received[1]!, undefined);
  if (req.method === 'POST' && path === `${p}/issue-token`) return issueToken(req, res, ctx, url, body);
  if (req.method === 'GET' && path === `${p}/login`) return send(res, 200, 'text/html; charset=utf-8', loginPage(p));
  send(res, 404, 'text/html; charset=utf-8', errorPage(404, 'Not Found'));
}

async function description(req: IncomingMessage, res: ServerResponse, ctx: RouteContext, id: string, passcode: string | null | undefined) {
  const found = ctx.store.byRecipientDeliveryId(id);
  const fault = ctx.faultFor(found?.pkg, 'description');
  if (fault && (await applyFault(fault, req, res, faultCtx(ctx)))) return;
  if (res.destroyed) return;

  if (!accepts(req, 'application/xml')) return send(res, 406, 'text/html; charset=utf-8', errorPage(406, 'Not Acceptable'));
  const isExternal = passcode !== undefined;
  if (isExternal) {
    // A bad passcode and an unknown delivery look the same: the login page, with 200.
    if (!found || !found.recipient.external || passcode !== found.pkg.externalPasscode) return send(res, 200, 'text/html; charset=utf-8', loginPage(ctx.prefix));
  } else {
    const user = authenticate(req, ctx);
    if (!user) return unauthorized(res);
    if (!found || found.recipient.external || found.recipient.name !== user) return send(res, 404, 'text/html; charset=utf-8', errorPage(404, 'Not Found'));
  }
  const pkg = found.pkg;
  const expired = fault?.kind === 'expired-token';
  // "only external users get token in link"
  const token = isExternal ? (path: string) => tokenFor(path, ctx.tokenSecret, expired ? -60_000 : ctx.tokenTtlMs) : undefined;
  send(res, 200, 'application/xml; charset=utf-8', packageXml(pkg, ctx.target, { token, noLink: fault?.kind === 'no-link' }));
}

async function issueToken(req: IncomingMessage, res: ServerResponse, ctx: RouteContext, url: URL, body: string) {
  const hrefs = [...body.matchAll(/<url\s+href="([^"]*)"\s*\/>/g)].map((m) => decodeEntitiesForSim(m[1]!));
  const pkg = hrefs[0] ? ctx.store.bySourcePath(faspPathOf(hrefs[0]) ?? '') : undefined;
  const fault = ctx.faultFor(pkg, 'issue-token');
  if (fault && (await applyFault(fault, req, res, faultCtx(ctx)))) return;
  if (res.destroyed) return;

  const user = authenticate(req, ctx);
  if (!user) return unauthorized(res);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== URL_LIST_TYPE) return send(res, 415, 'text/html; charset=utf-8', errorPage(415, 'Unsupported Media Type'));
  if (req.headers.accept !== undefined && !accepts(req, 'text/plain')) return send(res, 406, 'text/html; charset=utf-8', errorPage(406, 'Not Acceptable'));
  if (url.searchParams.get('direction') !== 'down') return send(res, 400, 'text/plain', 'direction must be down\n');
  if (!/^<\?xml[^>]*\?><url-list xmlns="http:\/\/schemas\.asperasoft\.com\/xml\/url-list">/.test(body) || hrefs.length === 0) {
    return send(res, 400, 'text/plain', 'expected an url-list document\n');
  }
  if (!pkg) return send(res, 400, 'text/plain', 'unknown transfer URL\n');
  // The server compares the URL text: it must be exactly the one it issued (§3.2).
  if (hrefs[0] !== faspUrl(pkg, ctx.target)) return send(res, 400, 'text/plain', 'transfer URL was not issued by this server\n');
  if (!pkg.recipients.some((r) => !r.external && r.name === user)) return send(res, 403, 'text/html; charset=utf-8', errorPage(403, 'Forbidden'));
  const ttl = fault?.kind === 'expired-token' ? -60_000 : ctx.tokenTtlMs;
  // A trailing newline, so the client's trimming is exercised.
  send(res, 200, 'text/plain; charset=utf-8', `${tokenFor(pkg.sourcePath, ctx.tokenSecret, ttl)}\n`);
}

function faultCtx(ctx: RouteContext): FaultContext {
  return { prefix: ctx.prefix, origin: ctx.origin, timers: ctx.timers };
}

function accepts(req: IncomingMessage, type: string): boolean {
  const accept = req.headers.accept ?? '';
  return accept.split(',').some((part) => {
    const t = part.split(';')[0]!.trim().toLowerCase();
    return t === type;
  });
}

function authenticate(req: IncomingMessage, ctx: RouteContext): string | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const user = decoded.slice(0, colon);
  return Object.hasOwn(ctx.users, user) && ctx.users[user] === decoded.slice(colon + 1) ? user : undefined;
}

function unauthorized(res: ServerResponse) {
  send(res, 401, 'text/html; charset=utf-8', errorPage(401, 'Unauthorized'), { 'www-authenticate': 'Basic realm="Faspex"' });
}
