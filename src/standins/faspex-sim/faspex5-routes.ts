/**
 * The simulated Faspex 5 web side (faspex-protocol.md §7), refusing what a real server refuses:
 *   - authorize_public_link: wrong client_id or redirect_uri → 400; a bad or expired link → 302
 *     with action_message; only in 'oauth-code' mode (404 in 'passcode-header' mode);
 *   - auth/token: not form-encoded → 415; wrong client_id/redirect_uri, unknown or reused code,
 *     bad JWT (signature, iss, sub, exp) → 400/401;
 *   - API: no Bearer (or Passcode, in that mode) → 401; a token for another package or a user
 *     who is not a recipient → 403; transfer_spec/download without the recipient id → 403
 *     "Not authorized"; a deleted package → 404.
 */
import { createHash, randomBytes, verify } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tokenFor, type FaspTarget } from './documents.js';
import { canRead, routeBoxes, userSees } from './faspex5-box-routes.js';
import { applyFault, send, type SimFault } from './faults.js';
import type { AccessGrant, Faspex5Endpoint, Faspex5Package, Faspex5State } from './faspex5-sim.js';

export interface Faspex5RouteContext {
  state: Faspex5State;
  prefix: string;
  origin: string;
  tokenSecret: string;
  tokenTtlMs: number;
  target: FaspTarget;
  timers: Set<NodeJS.Timeout>;
}

type Res = ServerResponse;
const json = (res: Res, status: number, body: unknown, headers: Record<string, string> = {}) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);

export function isFaspex5Path(path: string, prefix: string): boolean {
  const p = path.replace(/\/+$/, '');
  return p === prefix || p.startsWith(`${prefix}/public`) || p === `${prefix}/config.js` || p.startsWith(`${prefix}/auth/`) || p.startsWith(`${prefix}/api/v5/`);
}

export async function routeFaspex5(req: IncomingMessage, res: Res, body: string, ctx: Faspex5RouteContext): Promise<void> {
  const url = new URL(req.url ?? '/', ctx.origin);
  const p = ctx.prefix;
  const path = url.pathname.replace(/\/+$/, '');
  const pkgMatch = /^\/api\/v5\/packages\/([^/]+)(\/transfer_spec\/download|\/files\/received)?$/.exec(path.slice(p.length));
  const pkg = pkgMatch ? ctx.state.packages.get(decodeURIComponent(pkgMatch[1]!)) : undefined;
  const apiPath = path.startsWith(`${p}/api/v5/`) ? path.slice(`${p}/api/v5`.length) : undefined;
  const list = apiPath !== undefined && !pkgMatch && apiPath !== '/configuration/ping';
  const endpoint: Faspex5Endpoint = list ? 'list' : path === p || path.startsWith(`${p}/public`) ? 'link' : path === `${p}/config.js` ? 'config'
    : path === `${p}/auth/authorize_public_link` ? 'authorize' : path === `${p}/auth/token` ? 'token'
      : path === `${p}/api/v5/configuration/ping` ? 'ping' : pkgMatch?.[2] === '/files/received' ? 'files' : pkgMatch?.[2] ? 'transfer-spec' : 'package';
  const linkPkg = endpoint === 'link' || endpoint === 'authorize' ? packageOfContext(ctx, url.searchParams.get(endpoint === 'link' ? 'context' : 'state')) : undefined;
  if (await injectFault(req, res, ctx, url, endpoint, pkg ?? linkPkg)) return;

  if (req.method === 'GET' && endpoint === 'link') return send(res, 200, 'text/html; charset=utf-8', '<html><body><app-root>Faspex</app-root></body></html>');
  if (req.method === 'GET' && endpoint === 'config') {
    return send(res, 200, 'application/javascript', `// Faspex web UI settings\nwindow.faspexConfig = {\n  client_id: '${ctx.state.webClientId}',\n  redirect_uri: '${ctx.state.redirectUri}',\n  sso_enabled: false,\n  locales: ['en', "fr"],\n};\n`);
  }
  if (req.method === 'GET' && endpoint === 'ping') {
    return send(res, 200, 'text/plain', '', { 'x-ibm-aspera': ctx.state.auth === 'oauth-code' ? 'F5.0.13' : 'F5.0.6' });
  }
  if (req.method === 'GET' && endpoint === 'authorize' && ctx.state.auth === 'oauth-code') return authorize(res, ctx, url);
  if (req.method === 'POST' && endpoint === 'token') return token(req, res, ctx, body);
  if (list && req.method === 'GET') {
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (routeBoxes(res, ctx.state, apiPath, url, bearer === undefined ? undefined : ctx.state.tokens.get(bearer))) return;
  }
  if (pkgMatch && endpoint === 'files' && req.method === 'POST') return files(req, res, ctx, url, body, pkg);
  if (pkgMatch && req.method === (endpoint === 'transfer-spec' ? 'POST' : 'GET')) return api(req, res, ctx, url, body, pkg, endpoint === 'transfer-spec');
  json(res, 404, { error: 'not_found' });
}

function packageOfContext(ctx: Faspex5RouteContext, context: string | null): Faspex5Package | undefined {
  const decoded = decodeContext(context);
  return decoded ? ctx.state.packages.get(String(decoded.package_id)) : undefined;
}

function decodeContext(context: string | null): Record<string, unknown> | undefined {
  if (!context) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(context, 'base64').toString('utf8'));
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function injectFault(req: IncomingMessage, res: Res, ctx: Faspex5RouteContext, url: URL, endpoint: Faspex5Endpoint, pkg: Faspex5Package | undefined): Promise<boolean> {
  for (const f of ctx.state.faultsFor(pkg)) {
    if (f.kind === 'expired' || f.kind === 'deleted' || f.kind === 'expired-token' || (f.on !== endpoint && f.on !== 'any')) continue;
    if (f.kind === 'redirect' && f.to === 'self') {
      const hop = Number(url.searchParams.get('hop') ?? '0');
      if (hop >= (f.hops ?? 1)) continue;
      url.searchParams.set('hop', String(hop + 1));
      send(res, 302, 'text/html', 'redirected', { location: `${ctx.origin}${url.pathname}${url.search}` });
      return true;
    }
    const fault: SimFault = f.kind === 'status' ? { kind: 'status', status: f.status } : f.kind === 'slow' ? { kind: 'slow', delayMs: f.delayMs }
      : f.kind === 'redirect' ? { kind: 'redirect', to: f.to } : { kind: 'reset' };
    if (await applyFault(fault, req, res, { prefix: ctx.prefix, origin: ctx.origin, timers: ctx.timers })) return true;
    if (res.destroyed) return true;
  }
  return false;
}

const has = (pkg: Faspex5Package | undefined, ctx: Faspex5RouteContext, kind: 'expired' | 'deleted' | 'expired-token') =>
  ctx.state.faultsFor(pkg).some((f) => f.kind === kind);

function authorize(res: Res, ctx: Faspex5RouteContext, url: URL) {
  const q = url.searchParams;
  if (q.get('response_type') !== 'code' || q.get('client_id') !== ctx.state.webClientId) return json(res, 400, { error: 'invalid_client' });
  if (q.get('redirect_uri') !== ctx.state.redirectUri) return json(res, 400, { error: 'invalid_redirect_uri' });
  const target = new URL(ctx.state.redirectUri, ctx.origin);
  const refuse = (message: string) => {
    target.search = new URLSearchParams({ action_message: message }).toString();
    send(res, 302, 'text/html', 'redirected', { location: target.href });
  };
  const context = decodeContext(q.get('state'));
  const pkg = context ? ctx.state.packages.get(String(context.package_id)) : undefined;
  if (!pkg || has(pkg, ctx, 'deleted')) return refuse('The package could not be found.');
  if (context!.passcode !== pkg.passcode) return refuse('The link is invalid.');
  if (has(pkg, ctx, 'expired')) return refuse('This link has expired.');
  const code = randomBytes(16).toString('hex');
  ctx.state.codes.set(code, { packageId: pkg.id, used: false, exp: Date.now() + 60_000 });
  target.search = new URLSearchParams({ code, state: q.get('state')! }).toString();
  send(res, 302, 'text/html', 'redirected', { location: target.href });
}

function token(req: IncomingMessage, res: Res, ctx: Faspex5RouteContext, body: string) {
  if ((req.headers['content-type'] ?? '').split(';')[0]!.trim() !== 'application/x-www-form-urlencoded') return json(res, 415, { error: 'unsupported_media_type' });
  const form = new URLSearchParams(body);
  const issue = (grant: AccessGrant) => {
    const accessToken = `f5sim-${randomBytes(18).toString('hex')}`;
    ctx.state.tokens.set(accessToken, grant);
    json(res, 201, { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, refresh_token: 'not_supported' });
  };
  if (form.get('grant_type') === 'authorization_code') {
    if (form.get('client_id') !== ctx.state.webClientId) return json(res, 401, { error: 'invalid_client' });
    if (form.get('redirect_uri') !== ctx.state.redirectUri) return json(res, 400, { error: 'invalid_grant', error_description: 'redirect_uri mismatch' });
    const code = ctx.state.codes.get(form.get('code') ?? '');
    if (!code || code.used || code.exp < Date.now()) return json(res, 400, { error: 'invalid_grant' });
    code.used = true;
    return issue({ kind: 'public', packageId: code.packageId });
  }
  if (form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    const user = checkJwt(ctx, form.get('client_id') ?? '', form.get('assertion') ?? '');
    return user ? issue({ kind: 'user', user }) : json(res, 401, { error: 'invalid_grant' });
  }
  json(res, 400, { error: 'unsupported_grant_type' });
}

/** The user a JWT bearer assertion stands for, if it is valid for that client. */
function checkJwt(ctx: Faspex5RouteContext, clientId: string, assertion: string): string | undefined {
  const client = ctx.state.apiClients.get(clientId);
  const parts = assertion.split('.');
  if (!client || parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), client.publicKey, Buffer.from(s, 'base64url'));
  if (!ok) return undefined;
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const now = Date.now() / 1000;
  if (header.alg !== 'RS256' || claims.iss !== clientId || claims.aud !== clientId) return undefined;
  if (typeof claims.exp !== 'number' || claims.exp < now || (typeof claims.nbf === 'number' && claims.nbf > now + 5)) return undefined;
  return claims.sub === `user:${client.user}` ? client.user : undefined;
}

function api(req: IncomingMessage, res: Res, ctx: Faspex5RouteContext, url: URL, body: string, pkg: Faspex5Package | undefined, spec: boolean) {
  const grant = authorise(req, ctx, pkg);
  if (grant === 'unauthorized') return json(res, 401, { error: 'unauthorized', message: 'Authentication required' });
  if (grant === 'expired') return json(res, 401, { error: 'unauthorized', message: 'Link expired' });
  if (!pkg || has(pkg, ctx, 'deleted')) return json(res, 404, { error: 'not_found', message: 'Package not found' });
  if (grant === 'forbidden') return json(res, 403, { error: 'forbidden', message: 'PasscodeAccessForbidden' });
  if (grant.kind === 'public' ? grant.packageId !== pkg.id : !userSees(ctx.state, pkg, grant.user)) {
    return json(res, 403, { error: 'forbidden', message: 'Not authorized' });
  }
  if (!spec) return json(res, 200, packageJson(ctx, pkg));
  // faspex5-boxes.md §6: 1051 for a package being deleted, 1054 for one not ready
  if (pkg.status === 'deleted' || pkg.status === 'deleting') return json(res, 403, { error: 'CannotDownloadDeletedPackage', code: 1051, message: 'Unable to download package either the package is in pending deletion state or contents don\'t exists' });
  if (pkg.status !== 'completed' && pkg.status !== 'expiring') return json(res, 400, { error: 'PackageNotDownloadable', code: 1054, message: 'Package unavailable for download. Please retry later.' });

  const q = url.searchParams;
  if (q.get('type') !== 'received' || q.get('transfer_type') !== 'connect') return json(res, 400, { error: 'bad_request', message: 'type and transfer_type are required' });
  if ((req.headers['content-type'] ?? '').split(';')[0]!.trim() !== 'application/json') return json(res, 415, { error: 'unsupported_media_type' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return json(res, 400, { error: 'bad_request', message: 'body must be JSON' });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return json(res, 400, { error: 'bad_request' });
  if (!actsForRecipient(ctx, pkg, grant, q)) return json(res, 403, { error: 'forbidden', message: 'Not authorized' });
  json(res, 201, transferSpecJson(ctx, pkg));
}

/**
 * Receiving a package or listing its content names the recipient entry the caller acts for
 * (`recipient_user_id` or `recipient_workgroup_id`), else "Not authorized" (faspex5-boxes.md §4):
 * as a user, their own entry or a box they may read (a submit-only member may do neither).
 */
function actsForRecipient(ctx: Faspex5RouteContext, pkg: Faspex5Package, grant: AccessGrant, q: URLSearchParams): boolean {
  const userId = q.get('recipient_user_id');
  const groupId = q.get('recipient_workgroup_id');
  const named = pkg.recipients.find((r) => (r.type === 'user' && r.id === userId) || (r.type !== 'user' && r.type !== 'external_user' && r.id === groupId));
  const mustName = pkg.recipients.some((r) => r.type !== 'external_user');
  const box = named && named.type !== 'user' && named.type !== 'external_user' ? ctx.state.boxes.get(named.id) : undefined;
  const mayAct = grant.kind !== 'user' || !named || (named.type === 'user' ? named.name === grant.user : box !== undefined && canRead(box, grant.user));
  return !(mustName && !named) && mayAct;
}

/**
 * `POST packages/<id>/files/received` (GetPackageFiles): one folder of the package, `path` in the
 * body, offset/limit paging; sizes are strings, as the API writes them; folders are items too.
 */
function files(req: IncomingMessage, res: Res, ctx: Faspex5RouteContext, url: URL, body: string, pkg: Faspex5Package | undefined) {
  const grant = authorise(req, ctx, pkg);
  if (grant === 'unauthorized' || grant === 'expired') return json(res, 401, { error: 'unauthorized', message: 'Authentication required' });
  if (!pkg || has(pkg, ctx, 'deleted')) return json(res, 404, { error: 'not_found', message: 'Package not found' });
  if (grant === 'forbidden' || (grant.kind === 'public' ? grant.packageId !== pkg.id : !userSees(ctx.state, pkg, grant.user)) || !actsForRecipient(ctx, pkg, grant, url.searchParams)) {
    return json(res, 403, { error: 'forbidden', message: 'Not authorized' });
  }
  let folder = '/';
  try {
    const parsed = JSON.parse(body || '{}') as { path?: unknown };
    if (typeof parsed.path === 'string') folder = parsed.path;
  } catch {
    return json(res, 400, { status: 'error', code: 'bad_request', message: 'body must be JSON' });
  }
  const prefix = folder.replace(/^\/+|\/+$/g, '');
  const items = new Map<string, { path: string; basename: string; type: 'file' | 'directory'; size: string }>();
  for (const f of pkg.stored.files) {
    if (prefix && !f.path.startsWith(`${prefix}/`)) continue;
    const rest = prefix ? f.path.slice(prefix.length + 1) : f.path;
    const first = rest.split('/')[0]!;
    const full = `/${prefix ? `${prefix}/` : ''}${first}`;
    if (rest.includes('/')) items.set(full, { path: full, basename: first, type: 'directory', size: '0' });
    else items.set(full, { path: full, basename: first, type: 'file', size: String(f.size) });
  }
  const all = [...items.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  const offset = Number(url.searchParams.get('offset') ?? '0');
  const limit = Number(url.searchParams.get('limit') ?? '100');
  const page = all.slice(offset, offset + limit);
  json(res, 200, { self: [], items: page, item_count: page.length, total_count: all.length });
}

function authorise(req: IncomingMessage, ctx: Faspex5RouteContext, pkg: Faspex5Package | undefined): AccessGrant | 'unauthorized' | 'expired' | 'forbidden' {
  const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (bearer) return ctx.state.tokens.get(bearer) ?? 'unauthorized';
  const passcode = req.headers.passcode;
  if (ctx.state.auth !== 'passcode-header' || typeof passcode !== 'string') return 'unauthorized';
  if (!pkg) return 'forbidden';
  if (passcode !== pkg.passcode) return 'forbidden';
  if (has(pkg, ctx, 'expired')) return 'expired';
  return { kind: 'public', packageId: pkg.id };
}

function packageJson(_ctx: Faspex5RouteContext, pkg: Faspex5Package) {
  return {
    id: pkg.id, title: pkg.title, note: pkg.note, state: 'released', status: pkg.status, release_policy: 'now', created_time: pkg.createdAt,
    total_bytes: pkg.stored.totalBytes, total_files: pkg.stored.files.length, package_uuid: pkg.stored.uuid, ear_enabled: pkg.stored.encrypted,
    sender: { id: '1', name: pkg.sender, email: pkg.sender },
    recipients: pkg.recipients.map((r) => ({ id: r.id, name: r.name, recipient_type: r.type })),
  };
}

function transferSpecJson(ctx: Faspex5RouteContext, pkg: Faspex5Package) {
  const ttl = has(pkg, ctx, 'expired-token') ? -60_000 : ctx.tokenTtlMs;
  const source = pkg.stored.sourcePath;
  const root = ctx.state.options.sourceRoot ? source.slice(0, source.lastIndexOf('/')) : undefined;
  return {
    authentication: 'token', cipher: 'aes-128', cookie: pkg.stored.cookie, direction: 'receive', download_name: pkg.title,
    fasp_port: ctx.target.udpPort, ssh_port: ctx.target.sshPort, remote_host: ctx.target.host, remote_user: ctx.target.user,
    http_fallback: false, lock_min_rate: true, lock_rate_policy: true, min_rate_kbps: 0, multi_session: 0,
    rate_policy: 'fair', rate_policy_allowed: 'fair', target_rate_kbps: 100000, zip_required: false,
    tags: { aspera: { faspex: { package_id: pkg.id, digest: createHash('sha1').update(pkg.id).digest('hex') } } },
    token: tokenFor(source, ctx.tokenSecret, ttl),
    ...(ctx.state.options.wssPort === undefined ? { wss_enabled: false } : { wss_enabled: true, wss_port: ctx.state.options.wssPort }),
    ...(root === undefined ? { paths: [{ source }] } : { source_root: root, paths: [{ source: source.slice(root.length + 1) }] }),
  };
}
