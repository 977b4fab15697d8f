import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestError } from '../../src/errors.js';
import { createHttpClient } from '../../src/http/client.js';
import { createLogger } from '../../src/log/logger.js';
import { createNotifyProcessor } from '../../src/queue/notify-processor.js';
import type { NotifyJobData } from '../../src/queue/queues.js';
import { freePort } from '../../src/service/redis-server.js';
import { clientHarness } from '../support/faspex-client-harness.js';
import { startProxy, type TestProxy } from '../support/proxy.js';

/** Outbound HTTP through a real forward proxy (tinyproxy): what it saw is read from its own log. */
describe('outbound proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy();
  });
  afterAll(() => proxy?.stop());

  it('every Faspex request of a resolve goes through the proxy, TLS verified end to end with FASPEX_CA_FILE', async () => {
    const h = await clientHarness({ config: { proxy: { httpsProxy: proxy.url } } });
    const before = proxy.connectsTo(h.sim.port);
    const pkg = h.sim.addPackage({ title: 'Via proxy', files: { 'a.txt': 'x' } });
    const resolved = await h.resolve(pkg.links.received);
    expect(resolved.title).toBe('Via proxy');
    // two requests (XML, issue-token); each TCP connection the sim accepted came from a CONNECT
    expect(h.sim.requests.length).toBeGreaterThanOrEqual(2);
    expect(proxy.connectsTo(h.sim.port) - before).toBe(h.sim.connections);
    expect(h.sim.connections).toBeGreaterThan(0);
    // the passcode-free received link: the proxy saw host:port only, never a path or credential
    expect(proxy.log()).not.toContain(h.sim.credentials.password);
    expect(proxy.log()).not.toContain('/aspera/faspex');
  });

  it('a Faspex 5 public link too: config.js, the OAuth code, the token and the API calls, all tunnelled', async () => {
    const h = await clientHarness({ sim: { faspex5: { wssPort: 443 } }, config: { proxy: { httpsProxy: proxy.url }, username: undefined, password: undefined } });
    const before = proxy.connectsTo(h.sim.port);
    const pkg = h.sim.faspex5.addPackage({ title: 'F5 via proxy', files: { 'a.txt': 'x' } });
    const resolved = await h.resolve(pkg.links.public);
    expect(resolved.transferSpec).toMatchObject({ wss_enabled: true, wss_port: 443 });
    expect(h.sim.requests.length).toBeGreaterThanOrEqual(5);
    expect(proxy.connectsTo(h.sim.port) - before).toBe(h.sim.connections);
  });

  it.each([
    ['the host', '127.0.0.1'],
    ['the host and its port', (port: number) => `127.0.0.1:${port}`],
    ['everything (*)', '*'],
    ['a list with spaces', (port: number) => `example.com, 127.0.0.1:${port}`],
  ])('NO_PROXY naming %s: direct, no CONNECT', async (_what, noProxy) => {
    const h = await clientHarness({ config: (sim) => ({ proxy: { httpsProxy: proxy.url, noProxy: typeof noProxy === 'function' ? noProxy(sim.port) : noProxy } }) });
    const before = proxy.connectsTo(h.sim.port);
    const pkg = h.sim.addPackage({ title: 'Direct', files: { 'a.txt': 'x' } });
    await h.resolve(pkg.links.external);
    expect(h.sim.connections).toBeGreaterThan(0);
    expect(proxy.connectsTo(h.sim.port) - before).toBe(0);
  });

  it('NO_PROXY for another port of the host still goes through the proxy', async () => {
    const h = await clientHarness({ config: { proxy: { httpsProxy: proxy.url, noProxy: '127.0.0.1:1' } } });
    const before = proxy.connectsTo(h.sim.port);
    await h.resolve(h.sim.addPackage({ title: 'P', files: { 'a.txt': 'x' } }).links.external);
    expect(proxy.connectsTo(h.sim.port) - before).toBe(h.sim.connections);
  });

  it('the allowlist is checked on the real target before any CONNECT', async () => {
    const h = await clientHarness({ config: { proxy: { httpsProxy: proxy.url } }, allow: 'faspex.example.com' });
    const before = proxy.connects().length;
    const e = await h.failure(h.sim.addPackage({ title: 'No', files: { 'a.txt': 'x' } }).links.external);
    expect(e.code).toBe('HOST_NOT_ALLOWED');
    expect(proxy.connects().length).toBe(before);
    expect(h.sim.connections).toBe(0);
  });

  it('the target certificate is still checked through the tunnel: no CA file, a TLS error', async () => {
    const h = await clientHarness({ config: { proxy: { httpsProxy: proxy.url }, caFile: undefined } });
    const e = await h.failure(h.sim.addPackage({ title: 'T', files: { 'a.txt': 'x' } }).links.external);
    expect(e).toMatchObject({ code: 'TLS', retry: 'never' });
    expect(proxy.connectsTo(h.sim.port)).toBeGreaterThan(0);
  });

  it('HTTP_PROXY alone serves https:// targets too (as undici and most tools read it)', async () => {
    const h = await clientHarness({ config: { proxy: { httpProxy: proxy.url } } });
    const before = proxy.connectsTo(h.sim.port);
    await h.resolve(h.sim.addPackage({ title: 'P', files: { 'a.txt': 'x' } }).links.external);
    expect(proxy.connectsTo(h.sim.port) - before).toBe(h.sim.connections);
  });
});

describe('a proxy that refuses or fails: a clear, classified error', () => {
  it('refused by its ConnectPort rules: PROXY, permanent, naming the proxy and the target', async () => {
    const strict = await startProxy({ allowPorts: [443] });
    try {
      const h = await clientHarness({ config: { proxy: { httpsProxy: strict.url } } });
      const e = await h.failure(h.sim.addPackage({ title: 'R', files: { 'a.txt': 'x' } }).links.external);
      expect(e).toMatchObject({ code: 'PROXY', retry: 'never', details: { proxyStatus: 403, proxy: strict.url } });
      expect(e.message).toContain(`the proxy ${strict.url} answered 403 when asked to connect to 127.0.0.1:${h.sim.port}`);
      expect(e.message).toMatch(/NO_PROXY/);
      expect(strict.refusals().join('\n')).toContain(`Refused CONNECT method on port ${h.sim.port}`);
      expect(h.sim.connections).toBe(0);
    } finally {
      await strict.stop();
    }
  });

  it('refused by its domain filter: PROXY, permanent', async () => {
    const filtered = await startProxy({ denyHosts: ['127.0.0.1'] });
    try {
      const h = await clientHarness({ config: { proxy: { httpsProxy: filtered.url } } });
      const e = await h.failure(h.sim.addPackage({ title: 'F', files: { 'a.txt': 'x' } }).links.external);
      expect(e).toMatchObject({ code: 'PROXY', retry: 'never' });
      expect(filtered.refusals().join('\n')).toContain('filtered domain');
    } finally {
      await filtered.stop();
    }
  });

  it('a proxy that wants a login, given none: PROXY naming the user:password form; given one: through', async () => {
    const login = { user: 'ingest', password: 'pr0xy-pass' };
    const authed = await startProxy({ login });
    try {
      const h = await clientHarness({ config: { proxy: { httpsProxy: authed.url } } });
      const pkg = h.sim.addPackage({ title: 'L', files: { 'a.txt': 'x' } });
      const e = await h.failure(pkg.links.external);
      expect(e).toMatchObject({ code: 'PROXY', retry: 'never', details: { proxyStatus: 407 } });
      expect(e.message).toMatch(/needs a login/);

      const withLogin = `http://${login.user}:${login.password}@127.0.0.1:${authed.port}`;
      const ok = await clientHarness({ config: { proxy: { httpsProxy: withLogin } } });
      const e2 = await ok.failure('https://127.0.0.1:1/aspera/faspex/external_deliveries/1?passcode=x').catch((x: unknown) => x);
      // a refused target port behind an authenticated proxy still never shows the proxy password
      expect(String((e2 as Error).message)).not.toContain(login.password);
      const resolved = await ok.resolve(ok.sim.addPackage({ title: 'L2', files: { 'a.txt': 'x' } }).links.external);
      expect(resolved.title).toBe('L2');
      expect(ok.logs.join('\n')).not.toContain(login.password);
    } finally {
      await authed.stop();
    }
  });

  it('a proxy that is down: PROXY, retried later, naming the proxy, not the Faspex server', async () => {
    const deadPort = await freePort();
    const h = await clientHarness({ config: { proxy: { httpsProxy: `http://127.0.0.1:${deadPort}` } } });
    const e = await h.failure(h.sim.addPackage({ title: 'D', files: { 'a.txt': 'x' } }).links.external);
    expect(e).toMatchObject({ code: 'PROXY', retry: 'later' });
    expect(e.message).toContain(`the proxy http://127.0.0.1:${deadPort} refused the connection (ECONNREFUSED)`);
  });
});

describe('other callers share the proxy rules', () => {
  let proxy: TestProxy;
  let receiver: Server;
  let hookUrl: string;
  const received: string[] = [];
  beforeAll(async () => {
    proxy = await startProxy();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(body);
        res.writeHead(req.url === '/broken' ? 500 : 204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await proxy?.stop();
    receiver?.closeAllConnections();
    if (receiver) await new Promise((r) => receiver.close(r));
  });

  const job = (id: string) => ({ id, data: { outcome: 'completed', downloadJobId: id, body: { kind: 'faspex4-external' } } }) as unknown as Job<NotifyJobData>;
  const logger = createLogger({ level: 'silent' });
  const port = () => (receiver.address() as AddressInfo).port;

  it('the completion webhook (plain http) goes through HTTP_PROXY, as a proxied request (no CONNECT to port 80)', async () => {
    const before = { forwarded: proxy.forwardedTo(port()), connects: proxy.connectsTo(port()) };
    const notify = createNotifyProcessor(`${hookUrl}/hook`, logger, { timeoutMs: 5_000, proxy: { httpProxy: proxy.url } });
    expect(await notify(job('j1'))).toEqual({ status: 204 });
    expect(received.at(-1)).toContain('"jobId":"j1"');
    expect(proxy.forwardedTo(port()) - before.forwarded).toBe(1);
    expect(proxy.connectsTo(port()) - before.connects).toBe(0);
  });

  it('…and not when its host is in NO_PROXY; a failing webhook still throws for a retry', async () => {
    const before = proxy.forwardedTo(port()) + proxy.connectsTo(port());
    const notify = createNotifyProcessor(`${hookUrl}/broken`, logger, { timeoutMs: 5_000, proxy: { httpProxy: proxy.url, noProxy: '127.0.0.1' } });
    await expect(notify(job('j2'))).rejects.toThrow(/webhook 127\.0\.0\.1:\d+ answered 500/);
    expect(proxy.forwardedTo(port()) + proxy.connectsTo(port()) - before).toBe(0);
  });

  it('a client with its own host policy (an OAuth token endpoint) shares deadline, cap and proxy', async () => {
    const before = proxy.forwardedTo(port());
    const tokenHost = `127.0.0.1:${port()}`;
    const client = createHttpClient({
      policy: (url) => {
        if (url.host !== tokenHost) throw new IngestError('HOST_NOT_ALLOWED', `not the token endpoint: ${url.host}`, { retry: 'never' });
      },
      timeoutMs: 5_000,
      logger,
      proxy: { httpProxy: proxy.url },
      peer: { name: 'token endpoint', timeoutSetting: 'IMAP_OAUTH_TOKEN_URL', tlsAdvice: '', authAdvice: 'the client was refused' },
    });
    try {
      const res = await client.request({ method: 'POST', url: `${hookUrl}/broken`, what: 'an access token', body: 'grant_type=x', errors: 'return' });
      expect(res.status).toBe(500);
      expect(proxy.forwardedTo(port()) - before).toBe(1);
      await expect(client.request({ method: 'GET', url: 'http://faspex.example.com/', what: 'x' })).rejects.toMatchObject({ code: 'HOST_NOT_ALLOWED' });
      await expect(client.request({ method: 'POST', url: `${hookUrl}/broken`, what: 'an access token' })).rejects.toThrow(
        /token endpoint 127\.0\.0\.1:\d+ answered 500 \(server error\) for an access token/,
      );
    } finally {
      await client.close();
    }
  });
});
