import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim } from '../../src/standins/faspex-sim/index.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { startProxy, type TestProxy } from '../support/proxy.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/**
 * `run` as a real process behind a real proxy (tinyproxy): every TCP connection the Faspex
 * simulator and the webhook receiver accepted must be one the proxy opened for a CONNECT, and
 * with the hosts in NO_PROXY the proxy must see nothing at all.
 */
describe('run behind HTTPS_PROXY / HTTP_PROXY', () => {
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let proxy: TestProxy;
  let receiver: Server;
  let hookConnections = 0;
  const hooks: string[] = [];
  const dir = tempDir('svc-proxy');

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        hooks.push(body);
        res.writeHead(204).end();
      });
    });
    receiver.on('connection', () => hookConnections++);
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    [dovecot, sim, proxy] = await Promise.all([startDovecot(), createFaspexSim(), startProxy()]);
  });

  afterAll(async () => {
    receiver?.closeAllConnections();
    await Promise.all([dovecot?.stop(), sim?.close(), proxy?.stop(), receiver ? new Promise((r) => receiver.close(r)) : undefined]);
    dir.remove();
  });

  async function runOnce(label: string, proxyEnv: Record<string, string>): Promise<void> {
    const hookPort = (receiver.address() as AddressInfo).port;
    mkdirSync(join(dir.path, label), { recursive: true });
    const env = serviceEnv({
      redisUrl: inject('redisUrl'), prefix: uniqueName(label), dovecot, sim, dir: join(dir.path, label),
      extra: { COMPLETION_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/done`, ...proxyEnv },
    });
    const service = startServiceProcess(['run'], env, dir.path);
    try {
      await waitFor(() => service.output().includes('running;'), { what: 'the service', timeoutMs: 30_000 });
      const external = sim.addPackage({ title: `${label} external`, files: { 'a.txt': 'hello' } });
      const received = sim.addPackage({ title: `${label} received`, files: { 'b.txt': 'world' } });
      const hooksBefore = hooks.length;
      await dovecot.deliver(faspex4Notification({ link: external.links.external, title: `${label} external` }));
      await dovecot.deliver(faspex4Notification({ link: received.links.received, title: `${label} received` }));
      const downloads = env.DOWNLOAD_DIR!;
      await waitFor(() => existsSync(downloads) && readdirSync(downloads).filter((f) => existsSync(join(downloads, f, 'faspex-package.json'))).length === 2,
        { what: 'two complete packages', timeoutMs: 40_000 });
      await waitFor(() => hooks.length >= hooksBefore + 2, { what: 'two webhook deliveries', timeoutMs: 20_000 });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- service output ---\n${service.output().slice(-4000)}`, { cause: e });
    } finally {
      await service.stop('SIGTERM');
    }
  }

  it('sends every Faspex request and the webhook through the proxy', async () => {
    const hookPort = (receiver.address() as AddressInfo).port;
    await runOnce('proxied', { HTTPS_PROXY: proxy.url, http_proxy: proxy.url });
    expect(sim.requests.length).toBeGreaterThanOrEqual(3);
    expect(sim.connections).toBeGreaterThan(0);
    expect(proxy.connectsTo(sim.port)).toBe(sim.connections);
    // the webhook is plain http: proxied as ordinary requests, each on a connection tinyproxy opens
    expect(proxy.forwardedTo(hookPort)).toBeGreaterThanOrEqual(2);
    expect(hookConnections).toBeLessThanOrEqual(proxy.forwardedTo(hookPort));
    expect(hookConnections).toBeGreaterThan(0);
  });

  it('and nothing through it when the hosts are in NO_PROXY', async () => {
    const hookPort = (receiver.address() as AddressInfo).port;
    const before = { proxy: proxy.connects().length + proxy.forwardedTo(hookPort), sim: sim.connections, simRequests: sim.requests.length, hook: hookConnections };
    await runOnce('direct', { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' });
    expect(sim.requests.length).toBeGreaterThan(before.simRequests);
    expect(sim.connections).toBeGreaterThan(before.sim);
    expect(hookConnections).toBeGreaterThan(before.hook);
    expect(proxy.connects().length + proxy.forwardedTo(hookPort)).toBe(before.proxy);
  });
});
