/**
 * The HTTP edge: the allowlist holds before any connection (redirects included), TLS trust comes
 * from the system plus FASPEX_CA_FILE, and FASPEX_INSECURE_TLS works and says so.
 */
import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../src/faspex/allowlist.js';
import { clientHarness, tripwire } from '../support/faspex-client-harness.js';
import { createTestCa } from '../../src/standins/test-ca.js';

describe('the allowlist: nothing outside it is ever contacted', () => {
  it('a link to a host outside the allowlist: HOST_NOT_ALLOWED, not one connection', async () => {
    const h = await clientHarness();
    const outside = await tripwire();
    const pkg = h.sim.addPackage({ title: 'x', files: { 'a.txt': 'a' } });
    for (const link of [
      pkg.links.external.replace(`:${h.sim.port}`, `:${outside.port}`),
      pkg.links.received!.replace(`:${h.sim.port}`, `:${outside.port}`),
    ]) {
      const e = await h.failure(link);
      expect(e).toMatchObject({ code: 'HOST_NOT_ALLOWED', retry: 'never' });
      expect(e.message).toContain(`127.0.0.1:${outside.port} is not in FASPEX_ALLOWED_HOSTS`);
      expect(e.message).not.toContain(pkg.externalPasscode);
    }
    expect(outside.connections()).toBe(0);
    expect(h.dispatched).toEqual([]);
    expect(h.connected).toEqual([]);
  });

  it.each([
    ['not in the allowlist', false],
    ['even when it is in the allowlist', true],
  ])('a redirect to another host (%s) is named and never followed', async (_name, allowed) => {
    const outside = await tripwire();
    const h = await clientHarness();
    if (allowed) h.config.allowedHosts.push(...parseAllowlist(`127.0.0.1:${outside.port}`));
    const pkg = h.sim.addPackage({ title: 'x', files: { 'a.txt': 'a' } });
    h.sim.fault(pkg, { kind: 'redirect', to: `https://127.0.0.1:${outside.port}/aspera/faspex/external_deliveries/1?passcode=${pkg.externalPasscode}` });
    const e = await h.failure(pkg.links.external);
    expect(e).toMatchObject({ code: 'REDIRECTED', retry: 'never' });
    expect(e.message).toMatch(new RegExp(`another host, 127\\.0\\.0\\.1:${outside.port} .*never followed, and that host was not contacted`));
    expect(e.message).not.toContain(pkg.externalPasscode);
    expect(outside.connections()).toBe(0);
    expect(h.dispatched).toEqual([h.sim.origin]);
    expect(h.connected).toEqual([`${h.sim.origin}/`]);
  });

  it('plain http is refused unless the entry says http://', async () => {
    // https-only entry for the right host and port: plain http still refused.
    const h = await clientHarness({ sim: { protocol: 'http' }, allow: (sim) => `127.0.0.1:${sim.port}` });
    const pkg = h.sim.addPackage({ title: 'plain', files: { 'a.txt': 'a' } });
    const e = await h.failure(pkg.links.external);
    expect(e).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
    expect(e.message).toMatch(/plain http .*http:\/\/127\.0\.0\.1/);
    expect(h.sim.connections).toBe(0);

    h.config.allowedHosts.splice(0, 1, ...parseAllowlist(`http://127.0.0.1:${h.sim.port}`));
    await expect(h.resolve(pkg.links.external)).resolves.toMatchObject({ title: 'plain' });
  });
});

describe('TLS', () => {
  it('trusts the server through FASPEX_CA_FILE', async () => {
    const h = await clientHarness();
    const pkg = h.sim.addPackage({ title: 'trusted', files: { 'a.txt': 'a' } });
    await expect(h.resolve(pkg.links.external)).resolves.toMatchObject({ title: 'trusted' });
  });

  it('without FASPEX_CA_FILE a private CA is not trusted: TLS, permanent, pointing at FASPEX_CA_FILE', async () => {
    const h = await clientHarness({ config: { caFile: undefined } });
    const pkg = h.sim.addPackage({ title: 'untrusted', files: { 'a.txt': 'a' } });
    const e = await h.failure(pkg.links.external);
    expect(e).toMatchObject({ code: 'TLS', retry: 'never' });
    expect(e.message).toMatch(/certificate of 127\.0\.0\.1:\d+ could not be verified .*FASPEX_CA_FILE/);
    expect(e.message).not.toContain(pkg.externalPasscode);
    expect(h.sim.requests).toEqual([]);
  });

  it('a certificate from another CA fails even with FASPEX_CA_FILE set', async () => {
    const other = await createTestCa('other');
    const h = await clientHarness({ sim: { tls: { key: other.serverKeyPem, cert: other.serverCertPem } } });
    const pkg = h.sim.addPackage({ title: 'wrong CA', files: { 'a.txt': 'a' } });
    expect(await h.failure(pkg.links.external)).toMatchObject({ code: 'TLS', retry: 'never' });
    expect(h.sim.requests).toEqual([]);
  });

  it('FASPEX_INSECURE_TLS=true connects anyway and logs a warning', async () => {
    const h = await clientHarness({ config: { caFile: undefined, insecureTls: true } });
    const pkg = h.sim.addPackage({ title: 'insecure', files: { 'a.txt': 'a' } });
    await expect(h.resolve(pkg.links.external)).resolves.toMatchObject({ title: 'insecure' });
    const warnings = h.logs.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/FASPEX_INSECURE_TLS=true: Faspex HTTPS certificates are NOT verified/);
  });

  it('an unreadable FASPEX_CA_FILE is a configuration error', async () => {
    await expect(clientHarness({ config: { caFile: '/nonexistent/ca.pem' } })).rejects.toMatchObject({ code: 'CONFIG' });
  });
});

describe('secrets in logs', () => {
  it('a successful resolve logs no passcode, token, cookie or password', async () => {
    const h = await clientHarness();
    const a = h.sim.addPackage({ title: 'ext', files: { 'a.txt': 'a' } });
    const b = h.sim.addPackage({ title: 'recv', files: { 'a.txt': 'a' } });
    const ra = await h.resolve(a.links.external);
    const rb = await h.resolve(b.links.received!);
    const logs = h.logs.join('');
    expect(logs).toContain('package resolved');
    for (const secret of [a.externalPasscode, a.cookie, b.cookie, ra.transferSpec.token!, rb.transferSpec.token!, h.sim.credentials.password]) {
      expect(logs).not.toContain(secret);
    }
  });
});
