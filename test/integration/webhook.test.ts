import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim } from '../../src/standins/faspex-sim/index.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/** COMPLETION_WEBHOOK_URL: one JSON POST per finished package, retried until the receiver takes it. */
describe('completion webhook', () => {
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let service: ServiceProcess;
  let receiver: Server;
  const received: { body: Record<string, unknown>; headers: IncomingMessage['headers'] }[] = [];
  let refuseNext = 1;
  const dir = tempDir('hook');

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        // the first delivery is refused, as a receiver that is briefly down would
        if (refuseNext-- > 0) return void res.writeHead(503).end();
        received.push({ body: JSON.parse(body), headers: req.headers });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    [dovecot, sim] = await Promise.all([startDovecot(), createFaspexSim()]);
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/faspex`;
    const env = serviceEnv({ redisUrl: inject('redisUrl'), prefix: uniqueName('hook'), dovecot, sim, dir: dir.path, extra: { COMPLETION_WEBHOOK_URL: hook } });
    service = startServiceProcess(['run'], env, dir.path);
    await waitFor(() => service.output().includes('running;'), { what: 'the service', timeoutMs: 30_000 });
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await Promise.all([dovecot?.stop(), sim?.close(), new Promise((r) => receiver?.close(r))]);
    dir.remove();
  });

  it('posts the manifest of a finished package, and the reason of a failed one, after retrying', async () => {
    const good = sim.addPackage({ title: 'Hooked', files: { 'a.txt': 'hello' } });
    const bad = sim.addPackage({ title: 'Expired', files: { 'b.txt': 'x' } });
    sim.fault(bad, { kind: 'html-login' });
    await dovecot.deliver(faspex4Notification({ link: good.links.external, title: 'Hooked' }));
    await dovecot.deliver(faspex4Notification({ link: bad.links.external, title: 'Expired' }));

    await waitFor(() => received.length >= 2, { what: 'two webhook deliveries', timeoutMs: 40_000 });
    const byEvent = Object.fromEntries(received.map((r) => [r.body.event, r]));
    expect(byEvent['package.completed']!.headers['content-type']).toBe('application/json');
    expect(byEvent['package.completed']!.body).toMatchObject({
      kind: 'faspex4-external',
      manifest: { title: 'Hooked', files: [expect.objectContaining({ size: 5 })] },
    });
    expect(byEvent['package.failed']!.body).toMatchObject({ error: { code: 'LINK_EXPIRED' } });
    const all = JSON.stringify(received);
    for (const secret of [good.externalPasscode, bad.externalPasscode]) expect(all).not.toContain(secret);
  });
});
