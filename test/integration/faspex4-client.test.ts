/**
 * The Faspex 4 client against the simulator: every link form, the exact requests of
 * faspex-protocol.md §2–3, and tokens the fake ascp would accept.
 */
import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { checkToken } from '../../src/standins/sim-token.js';
import { clientHarness } from '../support/faspex-client-harness.js';

const FILES = { 'report.pdf': Buffer.from('%PDF-1.4 fake'), 'data/table.csv': 'a,b\n1,2\n', 'data/blob.bin': 70_000 };

describe('Faspex 4 external link (no account)', () => {
  it('resolves with the token the server put in the FASP URL; no issue-token, no credentials sent', async () => {
    const h = await clientHarness({ config: { username: undefined, password: undefined } });
    const pkg = h.sim.addPackage({ title: 'Q3 report', files: FILES, metadata: { Project: 'Apollo' }, note: 'quarterly', sender: 'boss@example.com' });

    const resolved = await h.resolve(pkg.links.external);

    expect(resolved).toMatchObject({
      packageId: `urn:uuid:${pkg.uuid}`,
      title: 'Q3 report',
      deliveryId: pkg.deliveryId,
      sender: 'boss@example.com',
      note: 'quarterly',
      metadata: { Project: 'Apollo' },
      recipients: ['alice', 'external.user@example.com'],
      files: [{ path: 'report.pdf', size: 13 }, { path: 'data/table.csv', size: 8 }, { path: 'data/blob.bin', size: 70_000 }],
      totalBytes: pkg.totalBytes,
      transferSpec: {
        direction: 'receive', remote_host: '127.0.0.1', remote_user: 'faspex', ssh_port: 33001, fasp_port: 33001,
        paths: [{ source: pkg.sourcePath }], cookie: pkg.cookie, rate_policy: 'fair', cipher: 'aes-128',
      },
    });
    expect(checkToken(resolved.transferSpec.token!, h.sim.tokenSecret, pkg.sourcePath)).toMatchObject({ ok: true });

    expect(h.sim.requests).toHaveLength(1);
    const [req] = h.sim.requests;
    expect(req).toMatchObject({ method: 'GET', path: `/aspera/faspex/external_deliveries/${pkg.externalDeliveryId}`, query: { passcode: pkg.externalPasscode } });
    expect(Object.keys(req!.headers).sort()).toEqual(['accept', 'connection', 'host', 'user-agent']);
    expect(req!.headers.accept).toBe('application/xml');
  });

  it.each([
    ['a trailing slash', (l: string) => l.replace('?', '/?')],
    ['extra query parameters (only the passcode is re-sent)', (l: string) => `${l.replace('?', '?utm_source=mail&')}&lang=en`],
    ['an upper-case scheme', (l: string) => l.replace('https://', 'HTTPS://')],
    ['localhost instead of the IP (the certificate names both)', (l: string) => l.replace('127.0.0.1', 'localhost')],
  ])('accepts the link with %s', async (_name, variant) => {
    const h = await clientHarness();
    h.config.allowedHosts.push(...parseAllowlist(`localhost:${h.sim.port}`));
    const pkg = h.sim.addPackage({ title: 'variant', files: { 'a.txt': 'a' } });
    const resolved = await h.resolve(variant(pkg.links.external));
    expect(resolved.transferSpec.paths).toEqual([{ source: pkg.sourcePath }]);
    expect(h.sim.requests[0]!.url).toBe(`/aspera/faspex/external_deliveries/${pkg.externalDeliveryId}?passcode=${pkg.externalPasscode}`);
  });

  it.each([['/custom/faspex4'], ['']])('works under the web root %j', async (prefix) => {
    const h = await clientHarness({ sim: { prefix } });
    const pkg = h.sim.addPackage({ title: 'rooted', files: { 'a.txt': 'a' } });
    expect(pkg.links.external.startsWith(`${h.sim.origin}${prefix}/external_deliveries/`)).toBe(true);
    const resolved = await h.resolve(pkg.links.external);
    expect(resolved.title).toBe('rooted');
    expect(h.sim.requests[0]!.path).toBe(`${prefix}/external_deliveries/${pkg.externalDeliveryId}`);
  });

  it('titles with spaces, plus signs and non-ASCII survive the round trip', async () => {
    const h = await clientHarness();
    const pkg = h.sim.addPackage({ title: 'Übersicht + Q3 & Q4 (final)', files: { 'ä b+c.txt': 'x' } });
    const resolved = await h.resolve(pkg.links.external);
    expect(resolved.transferSpec.paths).toEqual([{ source: pkg.sourcePath }]);
    expect(resolved.files).toEqual([{ path: 'ä b+c.txt', size: 1 }]);
    expect(checkToken(resolved.transferSpec.token!, h.sim.tokenSecret, pkg.sourcePath).ok).toBe(true);
  });
});

describe('Faspex 4 received link (registered user)', () => {
  it('fetches the XML with Basic auth, then issue-token with the exact §3.2 request', async () => {
    const h = await clientHarness();
    const pkg = h.sim.addPackage({ title: 'inbox item', files: FILES });

    const resolved = await h.resolve(pkg.links.received!);

    expect(checkToken(resolved.transferSpec.token!, h.sim.tokenSecret, pkg.sourcePath)).toMatchObject({ ok: true });
    expect(resolved).toMatchObject({ title: 'inbox item', deliveryId: pkg.deliveryId, transferSpec: { cookie: pkg.cookie, paths: [{ source: pkg.sourcePath }] } });
    const basic = `Basic ${Buffer.from(`${h.sim.credentials.username}:${h.sim.credentials.password}`).toString('base64')}`;

    expect(h.sim.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET /aspera/faspex/received/${pkg.recipients[0]!.recipientDeliveryId}`,
      'POST /aspera/faspex/issue-token?direction=down',
    ]);
    const [xml, token] = h.sim.requests;
    expect(Object.keys(xml!.headers).sort()).toEqual(['accept', 'authorization', 'connection', 'host', 'user-agent']);
    expect(xml!.headers).toMatchObject({ accept: 'application/xml', authorization: basic });
    expect(Object.keys(token!.headers).sort()).toEqual(['accept', 'authorization', 'connection', 'content-length', 'content-type', 'host', 'user-agent']);
    expect(token!.headers).toMatchObject({ accept: 'text/plain', 'content-type': 'application/vnd.aspera.url-list+xml', authorization: basic });
    expect(token!.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><url-list xmlns="http://schemas.asperasoft.com/xml/url-list">' +
      `<url href="${pkg.links.faspUrl.replace(/&/g, '&amp;')}"/></url-list>`,
    );
  });

  it('without FASPEX_USERNAME/PASSWORD: CREDENTIALS_MISSING before any connection', async () => {
    const h = await clientHarness({ config: { username: undefined, password: undefined } });
    const pkg = h.sim.addPackage({ title: 'needs login', files: { 'a.txt': 'a' } });
    const e = await h.failure(pkg.links.received!);
    expect(e).toMatchObject({ code: 'CREDENTIALS_MISSING', retry: 'never' });
    expect(e.message).toMatch(/FASPEX_USERNAME and FASPEX_PASSWORD/);
    expect(h.sim.connections).toBe(0);
  });

  it('a wrong password: AUTH_FAILED, permanent, and the password is in no message or log', async () => {
    const h = await clientHarness({ config: { password: 'not-the-password-123' } });
    const pkg = h.sim.addPackage({ title: 'wrong pw', files: { 'a.txt': 'a' } });
    const e = await h.failure(pkg.links.received!);
    expect(e).toMatchObject({ code: 'AUTH_FAILED', retry: 'never', details: { status: 401 } });
    expect(e.message + h.logs.join('')).not.toContain('not-the-password-123');
  });

  it("another user's delivery: NOT_FOUND", async () => {
    const h = await clientHarness({ sim: { users: { alice: 'alice-pw-1', bob: 'bob-pw-22' } } });
    const pkg = h.sim.addPackage({ title: 'for bob', files: { 'a.txt': 'a' }, recipients: ['bob'] });
    expect(await h.failure(pkg.links.received!)).toMatchObject({ code: 'NOT_FOUND', retry: 'never' });
  });
});

describe('raw faspe:// links', () => {
  it('with a token: used as-is, no HTTP at all', async () => {
    const h = await clientHarness({ config: { username: undefined, password: undefined } });
    const pkg = h.sim.addPackage({ title: 'raw', files: { 'a.txt': 'a' } });
    const resolved = await h.resolve(h.sim.faspUrlWithToken(pkg));
    expect(resolved).toMatchObject({ packageId: pkg.uuid, title: 'raw', transferSpec: { paths: [{ source: pkg.sourcePath }] } });
    expect(checkToken(resolved.transferSpec.token!, h.sim.tokenSecret, pkg.sourcePath).ok).toBe(true);
    expect(h.sim.connections).toBe(0);
    expect(h.dispatched).toEqual([]);
  });

  it('without a token: issue-token on the same host, its web port taken from the allowlist', async () => {
    const h = await clientHarness();
    const pkg = h.sim.addPackage({ title: 'raw no token', files: { 'a.txt': 'a' } });
    const resolved = await h.resolve(pkg.links.faspUrl);
    expect(checkToken(resolved.transferSpec.token!, h.sim.tokenSecret, pkg.sourcePath).ok).toBe(true);
    expect(h.sim.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /aspera/faspex/issue-token?direction=down']);
  });

  it('without a token and without credentials: CREDENTIALS_MISSING, nothing contacted', async () => {
    const h = await clientHarness({ config: { username: undefined, password: undefined } });
    const pkg = h.sim.addPackage({ title: 'raw', files: { 'a.txt': 'a' } });
    expect(await h.failure(pkg.links.faspUrl)).toMatchObject({ code: 'CREDENTIALS_MISSING', retry: 'never' });
    expect(h.sim.connections).toBe(0);
  });

  it('without a token, its host not allowed: HOST_NOT_ALLOWED naming the assumed web root', async () => {
    // the transfer host (127.0.0.1) is allowed, but not the web root assumed for issue-token:
    // two entries name the host, so https on 443 is assumed, and that is neither of them
    const h = await clientHarness({ allow: '127.0.0.1:1, http://127.0.0.1:2' });
    const pkg = h.sim.addPackage({ title: 'raw', files: { 'a.txt': 'a' } });
    const e = await h.failure(pkg.links.faspUrl);
    expect(e).toMatchObject({ code: 'HOST_NOT_ALLOWED', retry: 'never' });
    expect(e.message).toMatch(/https:\/\/127\.0\.0\.1\/aspera\/faspex.*FASPEX_ALLOWED_HOSTS/);
    expect(h.dispatched).toEqual([]);
  });
});
