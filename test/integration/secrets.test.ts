import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/service/redis-server.js';
import { runCli } from '../support/cli.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim, type SimPackage } from '../../src/standins/faspex-sim/index.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { completePackages, invocations, killLeftoverAscp, waitForRunning } from '../support/proof.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

/**
 * The whole pipeline at LOG_LEVEL=debug with secrets we know (IMAP, Faspex and dashboard
 * passwords, passcodes, transfer cookies, and the tokens the simulator mints), then every place
 * a person or another process can read: the service's stdout/stderr, the dashboard's API (job
 * data, logs) under basic auth, `status` and `status --json`, failure reasons, ascp's argv and
 * the manifests. None of the values may appear.
 */
const tag = Math.random().toString(36).slice(2, 8);
const SECRETS = {
  imapPassword: `imapPw-${tag}-Q9x`,
  faspexPassword: `fxPw-${tag}-Z7k`,
  dashboardPassword: `dashPw-${tag}-M3v`,
  passcodeGood: `pcgood${tag}0123456789abcdef`,
  passcodeBroken: `pcbroken${tag}fedcba9876543210`,
};
const TOKEN_SHAPE = /ATV2_sim\.[A-Za-z0-9_-]{8,}/;

describe('secrets stay secret', () => {
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let service: ServiceProcess;
  let env: Record<string, string>;
  let dashboardPort: number;
  let pkgs: { external: SimPackage; received: SimPackage; broken: SimPackage; expiredToken: SimPackage };
  const dir = tempDir('secrets');

  beforeAll(async () => {
    [dovecot, sim] = await Promise.all([startDovecot({ password: SECRETS.imapPassword }), createFaspexSim({ users: { alice: SECRETS.faspexPassword } })]);
    pkgs = {
      external: sim.addPackage({ title: 'Secret external', files: { 'a.bin': 50_000 }, externalPasscode: SECRETS.passcodeGood }),
      received: sim.addPackage({ title: 'Secret received', files: { 'b.bin': 50_000 } }),
      broken: sim.addPackage({ title: 'Secret broken', files: { 'c.bin': 10 }, externalPasscode: SECRETS.passcodeBroken }),
      expiredToken: sim.addPackage({ title: 'Secret expired token', files: { 'd.bin': 10 } }),
    };
    sim.fault(pkgs.broken, { kind: 'status', status: 500 });
    sim.fault(pkgs.expiredToken, { kind: 'expired-token' });
    dashboardPort = await freePort();
    env = serviceEnv({
      redisUrl: inject('redisUrl'), prefix: uniqueName('secrets'), dovecot, sim, dir: dir.path, dashboardPort,
      extra: { LOG_LEVEL: 'debug', DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: SECRETS.dashboardPassword, DOWNLOAD_ATTEMPTS: '2' },
    });
    service = startServiceProcess(['run'], env, dir.path);
    await waitForRunning(service);
  });

  afterAll(async () => {
    await service?.stop('SIGKILL');
    if (env) killLeftoverAscp(env.FAKE_ASCP_STATE_DIR!);
    await Promise.all([dovecot?.stop(), sim?.close()]);
    dir.remove();
  });

  it('appears in no log, dashboard answer, status output, error message or ascp argv', async () => {
    await dovecot.deliver(faspex4Notification({ link: pkgs.external.links.external, title: 'Secret external' }));
    await dovecot.deliver(faspex4Notification({ link: pkgs.received.links.received!, title: 'Secret received' }));
    await dovecot.deliver(faspex4Notification({ link: pkgs.broken.links.external, title: 'Secret broken' }));
    await dovecot.deliver(faspex4Notification({ link: pkgs.expiredToken.links.external, title: 'Secret expired token' }));

    await waitFor(() => completePackages(env.DOWNLOAD_DIR!).length === 2, { what: 'the two good packages', timeoutMs: 30_000 });
    const statusJson = await waitFor(async () => {
      const s = await runCli(['status', '--json'], { env, cwd: dir.path });
      const r = s.code === 0 ? JSON.parse(s.stdout) : undefined;
      return r && r.queues.downloads.failed === 2 && r.queues.downloads.completed === 2 ? s : undefined;
    }, { what: 'two failures and two completions', timeoutMs: 30_000 });
    const statusText = await runCli(['status'], { env, cwd: dir.path });

    // the dashboard, as a logged-in person sees it: every list and every job's logs
    const auth = { authorization: `Basic ${Buffer.from(`ops:${SECRETS.dashboardPassword}`).toString('base64')}` };
    const base = `http://127.0.0.1:${dashboardPort}`;
    expect((await fetch(`${base}/api/queues`)).status).toBe(401);
    const board: string[] = [];
    for (const status of ['latest', 'completed', 'failed']) {
      const r = await fetch(`${base}/api/queues?activeQueue=downloads&status=${status}&page=1&jobsPerPage=50`, { headers: auth });
      expect(r.status).toBe(200);
      board.push(await r.text());
    }
    const ids: string[] = JSON.parse(statusJson.stdout).jobs.map((j: { id: string }) => j.id);
    expect(ids).toHaveLength(4);
    for (const id of ids) {
      const r = await fetch(`${base}/api/queues/downloads/${encodeURIComponent(id)}/logs`, { headers: auth });
      board.push(`${r.status} ${await r.text()}`);
    }
    // the packages page (the dashboard's home) in every state, and one update of its live feed
    for (const show of ['', 'done', 'failed', 'retrying', 'waiting']) {
      const r = await fetch(`${base}/?show=${show}`, { headers: auth });
      expect(r.status).toBe(200);
      board.push(await r.text());
    }
    const feed = await fetch(`${base}/packages/live`, { headers: auth });
    const reader = feed.body!.getReader();
    let events = '';
    while (!events.includes('event: update')) events += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    board.push(events);
    expect(board.join('\n')).toContain('Secret external'); // the board really served the jobs
    expect(board.join('\n')).toMatch(/attempt 1 of 2/); // and their logs

    await waitFor(() => service.output().includes('"level":"debug"'), { what: 'debug lines' });
    const runs = invocations(env.FAKE_ASCP_STATE_DIR!);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const manifests = completePackages(env.DOWNLOAD_DIR!).map((c) => readFileSync(join(c.folder, 'faspex-package.json'), 'utf8'));
    const tokens = sim.requests.length; // the simulator did mint tokens (external XML and issue-token)
    expect(tokens).toBeGreaterThan(0);
    const places: Record<string, string> = {
      logs: service.output(),
      'status --json': statusJson.stdout + statusJson.stderr,
      status: statusText.stdout + statusText.stderr,
      dashboard: board.join('\n'),
      'ascp argv': JSON.stringify(runs.map((r) => r.argv)),
      manifests: manifests.join('\n'),
    };
    const cookies = Object.values(pkgs).map((p) => p.cookie);
    for (const [place, text] of Object.entries(places)) {
      for (const [name, value] of Object.entries(SECRETS)) expect(text.includes(value), `${name} in ${place}`).toBe(false);
      for (const c of cookies) expect(text.includes(c), `transfer cookie in ${place}`).toBe(false);
      expect(text, `a transfer token in ${place}`).not.toMatch(TOKEN_SHAPE);
    }
    // ...and the places are not empty: the failures' reasons are there, with the link masked
    expect(places['status --json']).toMatch(/answered 500|server error/);
    expect(places['status --json']).toMatch(/token/);
    expect(places.logs).toMatch(/passcode=\*\*\*/);
    // the token reached ascp through its environment only
    for (const r of runs) expect(r.envNames).toContain('ASPERA_SCP_TOKEN');
  }, 60_000);
});
