/**
 * The Faspex 5 client against the simulator: the public-link flows (OAuth code, 5.0.13+, and the
 * older Passcode header), inbox packages through a JWT API client, every failure class, and the
 * allowlist holding across redirects.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parsePackageLink } from '../../src/faspex/link.js';
import { createResolver } from '../../src/faspex/resolver.js';
import type { FaspexSimOptions } from '../../src/standins/faspex-sim/index.js';
import { clientHarness, tripwire } from '../support/faspex-client-harness.js';
import { checkToken } from '../../src/standins/sim-token.js';
import { ingestFailure } from '../support/ingest-failure.js';

const FILES = { 'report.pdf': Buffer.from('%PDF-1.4 fake'), 'data/table.csv': 'a,b\n1,2\n' };

async function harness(sim: FaspexSimOptions = {}, timeoutMs = 10_000) {
  const h = await clientHarness({ sim, config: { username: undefined, password: undefined, timeoutMs } });
  return h;
}

/** A resolver whose FASPEX5_CLIENTS names the given API clients of the sim. */
async function inboxHarness(options: { user?: string; users?: Record<string, string> } = {}) {
  const h = await clientHarness({ sim: options.users ? { users: options.users } : {}, config: { username: undefined, password: undefined } });
  const dir = mkdtempSync(join(tmpdir(), 'fi-f5-keys-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const api = h.sim.faspex5.addApiClient(options.user ? { user: options.user } : {});
  const withClients = (json: string | undefined) => {
    const resolver = createResolver({ ...h.config, faspex5Clients: json }, h.logger);
    onTestFinished(() => resolver.close());
    return (link: string) => resolver.resolve(parsePackageLink(link));
  };
  return { h, api, dir, withClients, resolve: withClients(h.sim.faspex5.clientsJson(dir, [api])) };
}

const calls = (h: { sim: { requests: Array<{ method: string; path: string }> } }) => h.sim.requests.map((r) => `${r.method} ${r.path}`);

describe('Faspex 5 public link, OAuth code flow (5.0.13+)', () => {
  it('follows the exact flow and returns a spec whose token the fake ascp accepts; no secret reaches a log', async () => {
    const h = await harness();
    const pkg = h.sim.faspex5.addPackage({ title: 'Trailer final', files: FILES, sender: 'jane@example.com', note: 'cut 3' });

    const resolved = await h.resolve(pkg.links.public);

    const p = '/aspera/faspex';
    expect(calls(h)).toEqual([
      `GET ${p}/public/package`, `GET ${p}/config.js`, `GET ${p}/auth/authorize_public_link`, `POST ${p}/auth/token`,
      `GET ${p}/api/v5/packages/${pkg.id}`, `POST ${p}/api/v5/packages/${pkg.id}/transfer_spec/download`,
      // the package's file list, folder by folder: what the download is verified against
      `POST ${p}/api/v5/packages/${pkg.id}/files/received`, `POST ${p}/api/v5/packages/${pkg.id}/files/received`,
    ]);
    const [, , authorize, token, info, spec] = h.sim.requests;
    expect(authorize!.query).toEqual({ response_type: 'code', state: pkg.context, client_id: h.sim.faspex5.state.webClientId, redirect_uri: `${p}/token` });
    expect(token!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(token!.body))).toMatchObject({ grant_type: 'authorization_code', client_id: h.sim.faspex5.state.webClientId, redirect_uri: `${p}/token` });
    expect(info!.headers.authorization).toMatch(/^Bearer f5sim-/);
    expect(spec!.query).toEqual({ type: 'received', transfer_type: 'connect', recipient_user_id: pkg.recipients[0]!.id });
    expect(spec!.body).toBe('{}');

    const [, , , , , , root, sub] = h.sim.requests;
    expect(JSON.parse(root!.body)).toEqual({ path: '/' });
    expect(JSON.parse(sub!.body).path).toMatch(/^\/[^/]+$/);
    expect(resolved.files?.map((f) => f.path).sort()).toEqual(Object.keys(FILES).map((k) => `/${k}`).sort());
    expect(resolved.encrypted).toBe(false);
    expect(resolved).toMatchObject({
      packageId: pkg.id, title: 'Trailer final', sender: 'jane@example.com', note: 'cut 3', totalBytes: pkg.stored.totalBytes,
      transferSpec: { direction: 'receive', remote_host: '127.0.0.1', remote_user: 'faspex', ssh_port: 33001, cookie: pkg.stored.cookie, paths: [{ source: pkg.stored.sourcePath }] },
    });
    expect(resolved.transferSpec).not.toHaveProperty('authentication');
    expect(checkToken(resolved.transferSpec.token!, h.sim.tokenSecret, pkg.stored.sourcePath).ok).toBe(true);

    const code = new URLSearchParams(token!.body).get('code')!;
    const access = info!.headers.authorization!.toString().slice('Bearer '.length);
    const logs = h.logs.join('\n');
    for (const secret of [pkg.passcode, pkg.context, encodeURIComponent(pkg.context), code, access, resolved.transferSpec.token!]) expect(logs).not.toContain(secret);
  });

  it('accepts the …/aspera/faspex?context= form, and same-host redirects (each hop allowlisted)', async () => {
    const h = await harness();
    const pkg = h.sim.faspex5.addPackage({ title: 'short', files: { 'a.txt': 'a' } });
    h.sim.faspex5.fault(pkg, { kind: 'redirect', to: 'self', on: 'link', hops: 2 });
    expect((await h.resolve(pkg.links.publicShort)).title).toBe('short');
    expect(calls(h).slice(0, 3)).toEqual(['GET /aspera/faspex', 'GET /aspera/faspex', 'GET /aspera/faspex']);
  });

  it('each resolve gets a fresh code and access token (a retry never reuses one)', async () => {
    const h = await harness();
    const pkg = h.sim.faspex5.addPackage({ title: 'twice', files: { 'a.txt': 'a' } });
    const a = await h.resolve(pkg.links.public);
    const b = await h.resolve(pkg.links.public);
    expect(h.sim.faspex5.issued).toEqual({ tokens: 2, codes: 2 });
    expect(a.transferSpec.token).not.toBe(b.transferSpec.token);
  });

  it('source_root and relative paths are kept for the ascp builder', async () => {
    const h = await harness({ faspex5: { sourceRoot: true } });
    const pkg = h.sim.faspex5.addPackage({ title: 'rooted', files: { 'a.txt': 'a' } });
    const { transferSpec } = await h.resolve(pkg.links.public);
    expect(transferSpec.source_root).toBe(`/${pkg.stored.uuid}.aspera-package`);
    expect(transferSpec.paths).toEqual([{ source: 'PKG - rooted' }]);
  });
});

describe('Faspex 5 public link, Passcode header flow (before 5.0.13)', () => {
  it('falls back when authorize_public_link is 404 and sends Passcode on the API calls', async () => {
    const h = await harness({ faspex5: { auth: 'passcode-header' } });
    const pkg = h.sim.faspex5.addPackage({ title: 'old server', files: FILES });
    const resolved = await h.resolve(pkg.links.public);
    expect(calls(h)).toEqual([
      'GET /aspera/faspex/public/package', 'GET /aspera/faspex/config.js', 'GET /aspera/faspex/auth/authorize_public_link',
      `GET /aspera/faspex/api/v5/packages/${pkg.id}`, `POST /aspera/faspex/api/v5/packages/${pkg.id}/transfer_spec/download`,
      `POST /aspera/faspex/api/v5/packages/${pkg.id}/files/received`, `POST /aspera/faspex/api/v5/packages/${pkg.id}/files/received`,
    ]);
    expect(h.sim.requests[3]!.headers.passcode).toBe(pkg.passcode);
    expect(h.sim.requests[3]!.headers.authorization).toBeUndefined();
    expect(checkToken(resolved.transferSpec.token!, h.sim.tokenSecret, pkg.stored.sourcePath).ok).toBe(true);
    expect(h.logs.join('\n')).not.toContain(pkg.passcode);
  });

  it.each([['a wrong passcode', 'wrong'], ['an expired link', 'expired']])('%s: LINK_EXPIRED, permanent', async (_n, what) => {
    const h = await harness({ faspex5: { auth: 'passcode-header' } });
    const pkg = h.sim.faspex5.addPackage({ title: 'old', files: { 'a.txt': 'a' } });
    if (what === 'expired') h.sim.faspex5.fault(pkg, { kind: 'expired' });
    const link = what === 'wrong' ? h.sim.faspex5.linkWith(pkg, { passcode: 'f'.repeat(40) }) : pkg.links.public;
    const e = await ingestFailure(h.resolve(link));
    expect(e).toMatchObject({ code: 'LINK_EXPIRED', retry: 'never' });
    expect(e.message).not.toContain(pkg.passcode);
  });
});

describe('Faspex 5 public link failures', () => {
  it('an expired link: the server\'s action_message, and no API call', async () => {
    const h = await harness();
    const pkg = h.sim.faspex5.addPackage({ title: 'gone', files: { 'a.txt': 'a' } });
    h.sim.faspex5.fault(pkg, { kind: 'expired' });
    const e = await ingestFailure(h.resolve(pkg.links.public));
    expect(e).toMatchObject({ code: 'LINK_EXPIRED', retry: 'never' });
    expect(e.message).toContain('This link has expired.');
    expect(calls(h).some((c) => c.includes('/api/v5/'))).toBe(false);
  });

  it('a wrong passcode: LINK_EXPIRED with the server\'s words', async () => {
    const h = await harness();
    const pkg = h.sim.faspex5.addPackage({ title: 'pw', files: { 'a.txt': 'a' } });
    const e = await ingestFailure(h.resolve(h.sim.faspex5.linkWith(pkg, { passcode: 'f'.repeat(40) })));
    expect(e).toMatchObject({ code: 'LINK_EXPIRED' });
    expect(e.message).toContain('The link is invalid.');
  });

  it.each([
    [401, 'package', 'LINK_EXPIRED', 'never'],
    [403, 'transfer-spec', 'LINK_EXPIRED', 'never'],
    [503, 'transfer-spec', 'SERVER_ERROR', 'later'],
    [500, 'token', 'SERVER_ERROR', 'later'],
    [502, 'config', 'SERVER_ERROR', 'later'],
  ] as const)('%i on %s → %s (%s)', async (status, on, code, retry) => {
    const h = await harness();
    const pkg = h.sim.faspex5.addPackage({ title: 's', files: { 'a.txt': 'a' } });
    h.sim.faspex5.fault(pkg, { kind: 'status', status, on });
    if (on === 'token' || on === 'config') h.sim.faspex5.fault('*', { kind: 'status', status, on });
    expect(await ingestFailure(h.resolve(pkg.links.public))).toMatchObject({ code, retry });
  });

  it('a deleted package: PACKAGE_DELETED, permanent', async () => {
    const h = await harness({ faspex5: { auth: 'passcode-header' } });
    const pkg = h.sim.faspex5.addPackage({ title: 'deleted', files: { 'a.txt': 'a' } });
    h.sim.faspex5.fault(pkg, { kind: 'deleted' });
    expect(await ingestFailure(h.resolve(pkg.links.public))).toMatchObject({ code: 'PACKAGE_DELETED', retry: 'never' });
  });

  it('a slow server: TIMEOUT, retried later', async () => {
    const h = await harness({}, 400);
    const pkg = h.sim.faspex5.addPackage({ title: 'slow', files: { 'a.txt': 'a' } });
    h.sim.faspex5.fault(pkg, { kind: 'slow', delayMs: 5_000, on: 'package' });
    expect(await ingestFailure(h.resolve(pkg.links.public))).toMatchObject({ code: 'TIMEOUT', retry: 'later' });
  });

  it('a redirect to another host is never followed: REDIRECTED, and that host sees no connection', async () => {
    const h = await harness();
    const trap = await tripwire();
    const pkg = h.sim.faspex5.addPackage({ title: 'away', files: { 'a.txt': 'a' } });
    h.sim.faspex5.fault(pkg, { kind: 'redirect', to: `https://127.0.0.1:${trap.port}/aspera/faspex/public/package?context=${encodeURIComponent(pkg.context)}`, on: 'link' });
    expect(await ingestFailure(h.resolve(pkg.links.public))).toMatchObject({ code: 'REDIRECTED', retry: 'never' });
    expect(trap.connections()).toBe(0);
  });

  it('more than 3 same-host redirects: REDIRECTED', async () => {
    const h = await harness();
    const pkg = h.sim.faspex5.addPackage({ title: 'loop', files: { 'a.txt': 'a' } });
    h.sim.faspex5.fault(pkg, { kind: 'redirect', to: 'self', on: 'link', hops: 10 });
    expect(await ingestFailure(h.resolve(pkg.links.public))).toMatchObject({ code: 'REDIRECTED' });
    expect(h.sim.requests).toHaveLength(3);
  });

  it('a redirect_uri on a host outside FASPEX_ALLOWED_HOSTS: HOST_NOT_ALLOWED before any code is asked for', async () => {
    const trap = await tripwire();
    const h = await harness({ faspex5: { redirectUri: `https://127.0.0.1:${trap.port}/steal` } });
    const pkg = h.sim.faspex5.addPackage({ title: 'evil', files: { 'a.txt': 'a' } });
    expect(await ingestFailure(h.resolve(pkg.links.public))).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
    expect(calls(h).some((c) => c.includes('authorize'))).toBe(false);
    expect(trap.connections()).toBe(0);
  });

  it('a link to a host outside the allowlist is never fetched', async () => {
    const h = await harness();
    const pkg = h.sim.faspex5.addPackage({ title: 'x', files: { 'a.txt': 'a' } });
    expect(await ingestFailure(h.resolve(pkg.links.public.replace('127.0.0.1', 'localhost')))).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
    expect(h.sim.connections).toBe(0);
  });
});

describe('Faspex 5 inbox link (API client, JWT)', () => {
  it('gets a token with a signed JWT and downloads as the configured user', async () => {
    const { h, api, resolve } = await inboxHarness();
    const pkg = h.sim.faspex5.addPackage({ title: 'inbox', files: FILES, recipients: ['alice'] });
    const resolved = await resolve(pkg.links.inbox);
    expect(calls(h)).toEqual([
      'POST /aspera/faspex/auth/token', `GET /aspera/faspex/api/v5/packages/${pkg.id}`, `POST /aspera/faspex/api/v5/packages/${pkg.id}/transfer_spec/download`,
      `POST /aspera/faspex/api/v5/packages/${pkg.id}/files/received`, `POST /aspera/faspex/api/v5/packages/${pkg.id}/files/received`,
    ]);
    const form = new URLSearchParams(h.sim.requests[0]!.body);
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(form.get('client_id')).toBe(api.clientId);
    expect(h.sim.requests[2]!.query.recipient_user_id).toBe(pkg.recipients[0]!.id);
    expect(checkToken(resolved.transferSpec.token!, h.sim.tokenSecret, pkg.stored.sourcePath).ok).toBe(true);
    expect(h.logs.join('\n')).not.toContain(form.get('assertion')!);
  });

  it('no API client for the server: CREDENTIALS_MISSING naming FASPEX5_CLIENTS, nothing fetched', async () => {
    const { h, withClients } = await inboxHarness();
    const pkg = h.sim.faspex5.addPackage({ title: 'inbox', files: { 'a.txt': 'a' } });
    const e = await ingestFailure(withClients(undefined)(pkg.links.inbox));
    expect(e).toMatchObject({ code: 'CREDENTIALS_MISSING', retry: 'never' });
    expect(e.message).toContain('FASPEX5_CLIENTS');
    expect(h.sim.connections).toBe(0);
  });

  it('a key the server does not know: AUTH_FAILED naming the client', async () => {
    const { h, dir, api, withClients } = await inboxHarness();
    const other = h.sim.faspex5.addApiClient();
    h.sim.faspex5.state.apiClients.delete(other.clientId);
    const json = JSON.parse(h.sim.faspex5.clientsJson(dir, [other])) as Record<string, { client_id: string }>;
    for (const v of Object.values(json)) v.client_id = api.clientId;
    const pkg = h.sim.faspex5.addPackage({ title: 'inbox', files: { 'a.txt': 'a' } });
    const e = await ingestFailure(withClients(JSON.stringify(json))(pkg.links.inbox));
    expect(e).toMatchObject({ code: 'AUTH_FAILED', retry: 'never' });
    expect(e.message).toContain(api.clientId);
  });

  it('a package the user did not receive: FORBIDDEN; a deleted one: PACKAGE_DELETED', async () => {
    const { h, resolve } = await inboxHarness({ users: { alice: 'a-pw-1', bob: 'b-pw-2' } });
    const theirs = h.sim.faspex5.addPackage({ title: 'bob only', files: { 'a.txt': 'a' }, recipients: ['bob'] });
    expect(await ingestFailure(resolve(theirs.links.inbox))).toMatchObject({ code: 'FORBIDDEN', retry: 'never' });
    const gone = h.sim.faspex5.addPackage({ title: 'gone', files: { 'a.txt': 'a' } });
    h.sim.faspex5.fault(gone, { kind: 'deleted' });
    expect(await ingestFailure(resolve(gone.links.inbox))).toMatchObject({ code: 'PACKAGE_DELETED' });
  });
});

describe('the Faspex 5 simulator refuses what a real server refuses', () => {
  it('missing Bearer, wrong client_id, reused code, missing recipient id', async () => {
    const h = await harness();
    const pkg = h.sim.faspex5.addPackage({ title: 'strict', files: { 'a.txt': 'a' } });
    const agent = new Agent({ connect: { ca: readFileSync(h.sim.caFile, 'utf8') } });
    onTestFinished(() => agent.close());
    const base = h.sim.baseUrl;
    const call = async (path: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {}) => {
      const res = await request(`${base}${path}`, { dispatcher: agent, method: init.method ?? 'GET', headers: init.headers, body: init.body });
      return { status: res.statusCode, location: res.headers.location as string | undefined, body: await res.body.text() };
    };
    const web = h.sim.faspex5.state.webClientId;
    const redirect = h.sim.faspex5.state.redirectUri;
    expect((await call(`/api/v5/packages/${pkg.id}`)).status).toBe(401);
    const auth = (clientId: string) => call(`/auth/authorize_public_link?${new URLSearchParams({ response_type: 'code', state: pkg.context, client_id: clientId, redirect_uri: redirect })}`);
    expect((await auth('not-the-client')).status).toBe(400);
    const ok = await auth(web);
    const code = new URL(ok.location!, base).searchParams.get('code')!;
    const form = { method: 'POST' as const, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', client_id: web, code, redirect_uri: redirect }).toString() };
    const first = await call('/auth/token', form);
    expect(first.status).toBe(201);
    expect((await call('/auth/token', form)).status).toBe(400);
    const bearer = { authorization: `Bearer ${(JSON.parse(first.body) as { access_token: string }).access_token}`, 'content-type': 'application/json' };
    const spec = await call(`/api/v5/packages/${pkg.id}/transfer_spec/download?type=received&transfer_type=connect`, { method: 'POST', headers: bearer, body: '{}' });
    expect(spec).toMatchObject({ status: 403 });
    expect(spec.body).toContain('Not authorized');
  });
});
