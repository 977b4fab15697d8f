/**
 * The simulator refuses what a real Faspex 4 refuses; otherwise the client tests would pass
 * against a server more forgiving than the real one. Raw undici requests, no client code.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkToken } from '../../src/standins/sim-token.js';
import { createFaspexSim, type FaspexSim, type SimPackage } from '../../src/standins/faspex-sim/index.js';

let sim: FaspexSim;
let agent: Agent;
let pkg: SimPackage;

beforeEach(async () => {
  sim = await createFaspexSim();
  agent = new Agent({ connect: { ca: readFileSync(sim.caFile, 'utf8') } });
  pkg = sim.addPackage({ title: 'Q3 report', files: { 'a.txt': 'hello', 'sub/b.bin': 3000 } });
});
afterEach(async () => {
  if (!agent.destroyed && !agent.closed) await agent.close();
  await sim.close();
});

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
async function call(url: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(url, { dispatcher: agent, method: init.method ?? 'GET', headers: init.headers, body: init.body });
  return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), body: await res.body.text() };
}
const tokenCall = (headers: Record<string, string>, href = pkg.links.faspUrl, query = 'direction=down') =>
  call(`${sim.baseUrl}/issue-token?${query}`, {
    method: 'POST',
    headers,
    body: `<?xml version="1.0" encoding="UTF-8"?><url-list xmlns="http://schemas.asperasoft.com/xml/url-list"><url href="${href.replace(/&/g, '&amp;')}"/></url-list>`,
  });

describe('faspex-sim', () => {
  it('stores files as <store>/<uuid>.aspera-package/PKG - <title>/<path>', () => {
    expect(pkg.sourcePath).toBe(`/${pkg.uuid}.aspera-package/PKG - Q3 report`);
    expect(pkg.dir).toBe(join(sim.storeDir, pkg.sourcePath));
    expect(readFileSync(join(pkg.dir, 'a.txt'), 'utf8')).toBe('hello');
    expect(statSync(join(pkg.dir, 'sub/b.bin')).size).toBe(3000);
    expect(pkg.externalPasscode).toMatch(/^[0-9a-f]{40}$/);
    expect(pkg.links.faspUrl).toBe(
      `faspe://faspex@127.0.0.1:33001/${pkg.uuid}.aspera-package/PKG%20-%20Q3%20report?cookie=${pkg.cookie}&port=33001&policy=fair&targetrate=100000&minrate=0&enc=aes128&createpath=yes&fallback=no&auth=yes&v=2`,
    );
  });

  it('external link: XML with a token in the FASP URL; wrong passcode: 200 + login page', async () => {
    const ok = await call(pkg.links.external, { headers: { accept: 'application/xml' } });
    expect(ok).toMatchObject({ status: 200, type: expect.stringContaining('application/xml') });
    const href = /rel="package" href="([^"]+)"/.exec(ok.body)![1]!.replace(/&amp;/g, '&');
    const token = decodeURIComponent(/[?&]token=([^&]+)/.exec(href)![1]!);
    expect(checkToken(token, sim.tokenSecret, pkg.sourcePath).ok).toBe(true);

    const wrong = await call(pkg.links.external.replace(pkg.externalPasscode, '0'.repeat(40)), { headers: { accept: 'application/xml' } });
    expect(wrong).toMatchObject({ status: 200, type: expect.stringContaining('text/html') });
    expect(wrong.body).toMatch(/^<!DOCTYPE html>/);
  });

  it('description without Accept: application/xml → 406', async () => {
    expect((await call(pkg.links.external)).status).toBe(406);
    expect((await call(pkg.links.external, { headers: { accept: 'text/html' } })).status).toBe(406);
  });

  it('received link: 401 without or with wrong Basic auth; XML without a token with it', async () => {
    const { username, password } = sim.credentials;
    expect((await call(pkg.links.received!, { headers: { accept: 'application/xml' } })).status).toBe(401);
    expect((await call(pkg.links.received!, { headers: { accept: 'application/xml', authorization: basic(username, 'nope') } })).status).toBe(401);
    const ok = await call(pkg.links.received!, { headers: { accept: 'application/xml', authorization: basic(username, password) } });
    expect(ok.status).toBe(200);
    expect(ok.body).not.toContain('token=');
  });

  it('issue-token refuses bad auth (401), content type (415), Accept (406), direction (400), foreign URLs (400)', async () => {
    const { username, password } = sim.credentials;
    const good = { authorization: basic(username, password), accept: 'text/plain', 'content-type': 'application/vnd.aspera.url-list+xml' };
    expect((await tokenCall({ ...good, authorization: basic(username, 'x') })).status).toBe(401);
    expect((await tokenCall({ ...good, 'content-type': 'text/plain' })).status).toBe(415);
    expect((await tokenCall({ ...good, 'content-type': 'application/xml' })).status).toBe(415);
    expect((await tokenCall({ ...good, accept: 'application/json' })).status).toBe(406);
    expect((await tokenCall(good, pkg.links.faspUrl, 'direction=up')).status).toBe(400);
    expect((await tokenCall(good, pkg.links.faspUrl.replace('policy=fair', 'policy=high'))).status).toBe(400);
    const ok = await tokenCall(good);
    expect(ok.status).toBe(200);
    expect(ok.body.endsWith('\n')).toBe(true);
    expect(checkToken(ok.body.trim(), sim.tokenSecret, pkg.sourcePath).ok).toBe(true);
  });

  it('issue-token for a package the user did not receive → 403', async () => {
    const other = sim.addPackage({ title: 'not yours', files: { 'a.txt': 'a' }, recipients: [] });
    const { username, password } = sim.credentials;
    const res = await tokenCall({ authorization: basic(username, password), accept: 'text/plain', 'content-type': 'application/vnd.aspera.url-list+xml' }, other.links.faspUrl);
    expect(res.status).toBe(403);
  });

  it('expired-token fault mints tokens that checkToken calls expired', async () => {
    sim.fault(pkg, { kind: 'expired-token' });
    const ok = await call(pkg.links.external, { headers: { accept: 'application/xml' } });
    const token = decodeURIComponent(/[?&;]token=([^&"]+)/.exec(ok.body.replace(/&amp;/g, '&'))![1]!);
    expect(checkToken(token, sim.tokenSecret, pkg.sourcePath)).toEqual({ ok: false, reason: 'expired' });
  });

  it('counts connections, logs requests, and close() removes the store it made', async () => {
    await call(pkg.links.external, { headers: { accept: 'application/xml' } });
    expect(sim.connections).toBe(1);
    expect(sim.requests).toHaveLength(1);
    expect(sim.requests[0]).toMatchObject({ method: 'GET', headers: { accept: 'application/xml' } });
    const store = sim.storeDir;
    await agent.close();
    await sim.close();
    expect(existsSync(store)).toBe(false);
  });
});
