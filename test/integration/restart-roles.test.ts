import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/service/redis-server.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim } from '../../src/standins/faspex-sim/index.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { completePackages, invocations, killLeftoverAscp, walk } from '../support/proof.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/**
 * `listen`, `work` and `dashboard` as separate processes on a configured Redis, SIGKILLed
 * together while a transfer runs, and started again at once with the same ports, data folder
 * and settings, as a restart policy would: nothing they left (ports, leases, job locks, cap
 * slots) may keep them from coming back, and the package under way completes once.
 */
describe('restart after SIGKILL: listen, work and dashboard come back by themselves', () => {
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let env: Record<string, string>;
  const ports: Record<string, number> = {};
  const dir = tempDir('roles');
  const running: ServiceProcess[] = [];

  beforeAll(async () => {
    [dovecot, sim] = await Promise.all([startDovecot(), createFaspexSim()]);
    env = serviceEnv({
      redisUrl: inject('redisUrl'), prefix: uniqueName('roles'), dovecot, sim, dir: dir.path,
      extra: { FAKE_ASCP_RATE_BPS: '300000', WORKER_LOCK_SECONDS: '5', WORKER_CONCURRENCY: '1', DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 'a dashboard password' },
    });
    for (const role of ['listen', 'work', 'dashboard']) ports[role] = await freePort();
  });

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop('SIGKILL')));
    killLeftoverAscp(env.FAKE_ASCP_STATE_DIR!);
    await Promise.all([dovecot?.stop(), sim?.close()]);
    dir.remove();
  });

  const start = (role: string) => {
    const portEnv: Record<string, string> = role === 'dashboard' ? { DASHBOARD_PORT: String(ports[role]) } : { METRICS_PORT: String(ports[role]) };
    const p = startServiceProcess([role], { ...env, ...portEnv }, dir.path);
    running.push(p);
    return p;
  };
  const healthy = (role: string, p: ServiceProcess) =>
    waitFor(async () => {
      if (p.child.exitCode !== null) throw new Error(`${role} exited:\n${p.output().slice(-2000)}`);
      const r = await fetch(`http://127.0.0.1:${ports[role]}/healthz`).catch(() => undefined);
      return r?.status === 200;
    }, { what: `${role} /healthz 200`, timeoutMs: 60_000, intervalMs: 100 });

  it('comes back on the same ports and finishes the package under way once', async () => {
    const roles = ['listen', 'work', 'dashboard'];
    const first = roles.map(start);
    await Promise.all(roles.map((r, i) => healthy(r, first[i]!)));

    const pkg = sim.addPackage({ title: 'Roles reel', files: { 'a.bin': 900_000 } });
    await dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: pkg.title, messageId: '<roles-1@faspex.example.com>' }));
    await waitFor(() => walk(env.DOWNLOAD_DIR!).some((p) => p.endsWith('.partial')), { what: 'the transfer under way', timeoutMs: 60_000, intervalMs: 20 });
    expect(await Promise.all(first.map((p) => p.stop('SIGKILL')))).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL']);

    const again = roles.map(start);
    await Promise.all(roles.map((r, i) => healthy(r, again[i]!)));
    const done = await waitFor(() => {
      const c = completePackages(env.DOWNLOAD_DIR!);
      return c.length >= 1 ? c : undefined;
    }, { what: 'the package complete', timeoutMs: 90_000 });
    expect(done).toHaveLength(1);
    expect(readdirSync(env.DOWNLOAD_DIR!)).toHaveLength(1);
    const got = done[0]!;
    expect(readFileSync(walk(got.folder).find((p) => p.endsWith('/a.bin'))!).equals(readFileSync(join(pkg.dir, 'a.bin')))).toBe(true);
    expect(invocations(env.FAKE_ASCP_STATE_DIR!).filter((r) => r.at > got.mtimeMs)).toEqual([]);
    // the restarted listener reads new mail (its predecessor's lease ran out)
    const next = sim.addPackage({ title: 'Roles reel 2', files: { 'b.bin': 100_000 } });
    await dovecot.deliver(faspex4Notification({ link: next.links.external, title: next.title, messageId: '<roles-2@faspex.example.com>' }));
    await waitFor(() => completePackages(env.DOWNLOAD_DIR!).length === 2, { what: 'mail after the restart', timeoutMs: 60_000 });
    expect((await Promise.all(again.map((p) => p.stop('SIGTERM'))))).toEqual([0, 0, 0]);
  }, 240_000);
});
