/**
 * Every failure class of the Faspex 4 client, produced by the simulator: its code, its retry
 * decision, and a message with no passcode, token or password in it.
 */
import { describe, expect, it } from 'vitest';
import type { IngestError } from '../../src/errors.js';
import { clientHarness, type ClientHarness } from '../support/faspex-client-harness.js';
import type { SimFault, SimPackage } from '../../src/standins/faspex-sim/index.js';
import { waitFor } from '../support/temp.js';

function expectNoSecrets(e: IngestError, h: ClientHarness, pkg: SimPackage): void {
  const text = `${e.message} ${JSON.stringify(e.details)} ${h.logs.join('')}`;
  expect(text).not.toContain(pkg.externalPasscode);
  expect(text).not.toContain(pkg.cookie);
  expect(text).not.toContain(h.sim.credentials.password);
  expect(text).not.toContain('ATV2_sim.');
}

describe('package description failures (external link)', () => {
  const cases: Array<{ name: string; fault: SimFault; code: string; retry: 'never' | 'later'; message: RegExp; timeoutMs?: number }> = [
    { name: 'HTML login page', fault: { kind: 'html-login' }, code: 'LINK_EXPIRED', retry: 'never', message: /web page instead of the package description: the link has expired, was already used, or the passcode is wrong/ },
    { name: 'expired link', fault: { kind: 'expired' }, code: 'LINK_EXPIRED', retry: 'never', message: /expired/ },
    { name: '401 on an external link', fault: { kind: 'status', status: 401 }, code: 'LINK_EXPIRED', retry: 'never', message: /refused the link \(401\)/ },
    { name: '403', fault: { kind: 'status', status: 403 }, code: 'FORBIDDEN', retry: 'never', message: /answered 403 \(forbidden\)/ },
    { name: '404', fault: { kind: 'status', status: 404 }, code: 'NOT_FOUND', retry: 'never', message: /answered 404 \(not found\)/ },
    { name: '500', fault: { kind: 'status', status: 500 }, code: 'SERVER_ERROR', retry: 'later', message: /answered 500 \(server error\) for the package description/ },
    { name: '502', fault: { kind: 'status', status: 502 }, code: 'SERVER_ERROR', retry: 'later', message: /502/ },
    { name: '503', fault: { kind: 'status', status: 503 }, code: 'SERVER_ERROR', retry: 'later', message: /503/ },
    { name: 'slow headers', fault: { kind: 'slow', delayMs: 20_000 }, code: 'TIMEOUT', retry: 'later', message: /did not answer the package description within 0\.3 s/, timeoutMs: 300 },
    { name: 'slow body', fault: { kind: 'slow', delayMs: 20_000, phase: 'body' }, code: 'TIMEOUT', retry: 'later', message: /FASPEX_TIMEOUT_SECONDS/, timeoutMs: 300 },
    { name: 'XML bomb', fault: { kind: 'xml-bomb' }, code: 'BAD_RESPONSE', retry: 'never', message: /DOCTYPE or entities, which is refused/ },
    { name: '10 MB body, streamed', fault: { kind: 'huge' }, code: 'RESPONSE_TOO_LARGE', retry: 'never', message: /more than 2 MB/ },
    { name: '10 MB body, declared', fault: { kind: 'huge', declareLength: true }, code: 'RESPONSE_TOO_LARGE', retry: 'never', message: /more than 2 MB/ },
    { name: 'deleted package (no link)', fault: { kind: 'no-link' }, code: 'PACKAGE_DELETED', retry: 'never', message: /deleted/ },
    { name: 'redirect to the login page', fault: { kind: 'redirect', to: 'login' }, code: 'LINK_EXPIRED', retry: 'never', message: /redirected the package description to its login page/ },
    { name: 'redirect elsewhere on the same host', fault: { kind: 'redirect', to: 'https://127.0.0.1:1/nowhere' }, code: 'REDIRECTED', retry: 'never', message: /another host, 127\.0\.0\.1:1/ },
    { name: 'connection reset', fault: { kind: 'reset' }, code: 'NETWORK', retry: 'later', message: /closed the connection/ },
  ];

  it.each(cases)('$name → $code ($retry)', async ({ fault, code, retry, message, timeoutMs }) => {
    const h = await clientHarness({ config: timeoutMs ? { timeoutMs } : {} });
    const pkg = h.sim.addPackage({ title: 'faulty', files: { 'a.txt': 'a' } });
    h.sim.fault(pkg, fault);
    const started = Date.now();
    const e = await h.failure(pkg.links.external);
    expect(e).toMatchObject({ code, retry });
    expect(e.message).toMatch(message);
    expectNoSecrets(e, h, pkg);
    if (timeoutMs) expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a wrong passcode gets what the real server sends (200 + login page) → LINK_EXPIRED', async () => {
    const h = await clientHarness();
    const pkg = h.sim.addPackage({ title: 'guarded', files: { 'a.txt': 'a' } });
    const wrong = pkg.links.external.replace(pkg.externalPasscode, 'f'.repeat(40));
    const e = await h.failure(wrong);
    expect(e).toMatchObject({ code: 'LINK_EXPIRED', retry: 'never' });
    expect(e.message).not.toContain('f'.repeat(40));
  });

  it('a global fault applies to every package', async () => {
    const h = await clientHarness();
    const a = h.sim.addPackage({ title: 'a', files: { 'a.txt': 'a' } });
    const b = h.sim.addPackage({ title: 'b', files: { 'b.txt': 'b' } });
    h.sim.fault('*', { kind: 'status', status: 503 });
    expect((await h.failure(a.links.external)).code).toBe('SERVER_ERROR');
    expect((await h.failure(b.links.received!)).code).toBe('SERVER_ERROR');
    h.sim.fault('*', null);
    await expect(h.resolve(a.links.external)).resolves.toMatchObject({ title: 'a' });
  });

  it('the 10 MB answer is abandoned at the cap, not read to the end', async () => {
    const h = await clientHarness();
    const pkg = h.sim.addPackage({ title: 'huge', files: { 'a.txt': 'a' } });
    h.sim.fault(pkg, { kind: 'huge', bytes: 200 * 1024 * 1024 });
    const before = process.memoryUsage().heapUsed;
    const started = Date.now();
    expect((await h.failure(pkg.links.external)).code).toBe('RESPONSE_TOO_LARGE');
    // 200 MB could not have been received in this time, nor held in this much memory.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(40 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a connection refused → NETWORK, transient', async () => {
    const h = await clientHarness();
    const pkg = h.sim.addPackage({ title: 'gone', files: { 'a.txt': 'a' } });
    const port = h.sim.port;
    await h.sim.close();
    const e = await h.failure(pkg.links.external);
    expect(e).toMatchObject({ code: 'NETWORK', retry: 'later' });
    expect(e.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} refused the connection`));
    expectNoSecrets(e, h, pkg);
  });

  it('cancelling through the signal stops a slow request at once', async () => {
    const h = await clientHarness();
    const pkg = h.sim.addPackage({ title: 'slow', files: { 'a.txt': 'a' } });
    h.sim.fault(pkg, { kind: 'slow', delayMs: 20_000 });
    const controller = new AbortController();
    const pending = h.failure(pkg.links.external, controller.signal);
    await waitFor(() => h.sim.requests.length === 1, { what: 'the request to arrive' });
    controller.abort();
    expect(await pending).toMatchObject({ code: 'CANCELLED' });
  });
});

describe('issue-token failures (received link)', () => {
  const cases: Array<{ name: string; fault: SimFault; code: string; retry: 'never' | 'later' }> = [
    { name: '401', fault: { kind: 'status', status: 401, on: 'issue-token' }, code: 'AUTH_FAILED', retry: 'never' },
    { name: '403', fault: { kind: 'status', status: 403, on: 'issue-token' }, code: 'FORBIDDEN', retry: 'never' },
    { name: '500', fault: { kind: 'status', status: 500, on: 'issue-token' }, code: 'SERVER_ERROR', retry: 'later' },
    { name: 'a login page instead of a token', fault: { kind: 'html-login', on: 'issue-token' }, code: 'BAD_RESPONSE', retry: 'never' },
    { name: 'a huge answer', fault: { kind: 'huge', on: 'issue-token' }, code: 'RESPONSE_TOO_LARGE', retry: 'never' },
  ];
  it.each(cases)('$name → $code ($retry)', async ({ fault, code, retry }) => {
    const h = await clientHarness();
    const pkg = h.sim.addPackage({ title: 'token trouble', files: { 'a.txt': 'a' } });
    h.sim.fault(pkg, fault);
    const e = await h.failure(pkg.links.received!);
    expect(e).toMatchObject({ code, retry });
    expect(h.sim.requests.map((r) => r.method)).toEqual(['GET', 'POST']);
    expectNoSecrets(e, h, pkg);
  });
});
