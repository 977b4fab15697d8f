/**
 * Faspex 5 boxes through the real pieces: `faspex-ingest run` as a process, a real Dovecot, the
 * simulator over HTTPS, the fake ascp. The API is the source of truth, the mail the trigger.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FaspexSim } from '../../src/standins/faspex-sim/index.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { serviceStack, type ServiceStack, type ServiceStackOptions } from '../support/service-stack.js';
import { waitFor } from '../support/temp.js';

function manifests(dir: string): Array<{ title: string; kind: string; packageId: string }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => existsSync(join(dir, f, 'faspex-package.json'))).map((f) => JSON.parse(readFileSync(join(dir, f, 'faspex-package.json'), 'utf8')));
}

/** the transfer specs asked for a package: one per download attempt */
function transfersOf(sim: FaspexSim, id: string) {
  return sim.requests.filter((r) => r.path.endsWith(`/packages/${id}/transfer_spec/download`) && r.method === 'POST');
}

function clientsWithBoxes(sim: FaspexSim, dir: string, boxes: string[], extra: Record<string, unknown> = {}): string {
  const api = sim.faspex5.addApiClient({ user: sim.credentials.username });
  const json = JSON.parse(sim.faspex5.clientsJson(dir, [api])) as Record<string, Record<string, unknown>>;
  for (const v of Object.values(json)) Object.assign(v, { boxes }, extra);
  return JSON.stringify(json);
}

/**
 * A `run` of its own for a describe block (or several, `processes`, each with its own data folder
 * and dashboard) on a stack of its own, the Faspex 5 client sweeping `boxes`; ready once every
 * process runs and the first sweep saw every box. `prepare` sets the simulator up before that.
 */
function ownRun(label: string, o: Pick<ServiceStackOptions, 'sim' | 'prepare'> & { boxes: string[]; extra: Record<string, string>; processes?: string[] }) {
  const run = serviceStack(label, {
    sim: o.sim, prepare: o.prepare,
    env: (base, s) => ({ ...base, DASHBOARD_PORT: String(s.port), FASPEX5_CLIENTS: clientsWithBoxes(s.sim, join(s.dir.path, 'keys'), o.boxes), ...o.extra }),
  }) as ServiceStack & { redis: Redis };
  beforeAll(async () => {
    run.redis = new Redis(inject('redisUrl'));
    for (const name of o.processes ?? [undefined]) {
      if (name === undefined) await run.run();
      else await run.run({ ...run.env, DASHBOARD_PORT: '0', DATA_DIR: join(run.dir.path, `data-${name}`) }, `service ${name}`);
    }
    await waitFor(async () => (await run.redis.hlen(`${run.env.QUEUE_PREFIX}:faspex5:box-status`)) === o.boxes.length || undefined, { what: `the first sweep of ${o.boxes.join(', ')}`, timeoutMs: 30_000 });
  }, 150_000);
  afterAll(async () => {
    await run.redis?.quit();
  });
  return run;
}

describe('run with Faspex 5 boxes: timed sweeps, mail and sweep, shared inboxes and workgroups', { timeout: 150_000 }, () => {
  const s = ownRun('f5sweep', {
    sim: { users: { alice: 'a-pw-1', bob: 'b-pw-2' } }, boxes: ['inbox', 'shared_inbox:Desk', 'workgroup:Team'], extra: { FASPEX5_SWEEP_SECONDS: '5' },
    prepare: ({ sim }) => {
      const user = sim.credentials.username;
      sim.faspex5.addBox('shared_inbox', 'Desk', { [user]: 'standard' });
      sim.faspex5.addBox('workgroup', 'Team', { [user]: 'standard', bob: 'standard' });
      sim.faspex5.state.pageMax = 3;
      // already there before the first sweep: remembered, not downloaded
      for (let i = 0; i < 4; i++) sim.faspex5.addPackage({ title: `old ${i}`, files: { 'a.txt': 'a' }, recipients: [user] });
    },
  });

  it('the first sweep remembers what is there; a package no mail announced is found by the timed sweep', async () => {
    const pkg = s.sim.faspex5.addPackage({ title: 'no mail', files: { 'clip.mov': 20_000 }, recipients: [s.sim.credentials.username] });
    await waitFor(() => manifests(s.env.DOWNLOAD_DIR!).find((m) => m.title === 'no mail'), { what: 'the swept package on disk', timeoutMs: 60_000 });
    expect(manifests(s.env.DOWNLOAD_DIR!).map((m) => m.title)).not.toContain('old 0');
    expect(transfersOf(s.sim, pkg.id)).toHaveLength(1);
    const metrics = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
    expect(metrics).toMatch(/^faspex_ingest_packages_missed_by_mail_total\{server="127\.0\.0\.1:\d+"\} [1-9]/m);
    // the packages page tells a swept package from a mailed one; /healthz names each box
    expect(await (await fetch(`http://127.0.0.1:${s.port}/`)).text()).toContain('found by sweep (inbox)');
    expect(JSON.stringify(await (await fetch(`http://127.0.0.1:${s.port}/healthz`)).json())).toMatch(/faspex5 127\.0\.0\.1:\d+ workgroup:Team: last sweep \S+ ok/);
  });

  it('a package announced by mail and found by the sweep downloads once', async () => {
    const pkg = s.sim.faspex5.addPackage({ title: 'mail and sweep', files: { 'a.bin': 10_000 }, recipients: [s.sim.credentials.username] });
    await s.dovecot.deliver(faspex4Notification({ link: pkg.links.inbox, title: 'mail and sweep' }));
    await waitFor(() => manifests(s.env.DOWNLOAD_DIR!).find((m) => m.title === 'mail and sweep'), { what: 'the package on disk', timeoutMs: 60_000 });
    // a few more sweeps pass: still one job, one download
    const swept = s.sim.faspex5.state.listCalls.length;
    await waitFor(() => s.sim.faspex5.state.listCalls.length >= swept + 6 || undefined, { what: 'more sweeps', timeoutMs: 60_000 });
    expect(transfersOf(s.sim, pkg.id)).toHaveLength(1);
    expect(manifests(s.env.DOWNLOAD_DIR!).filter((m) => m.title === 'mail and sweep')).toHaveLength(1);
  });

  it('packages in a shared inbox and a workgroup download with that box\'s recipient parameter', async () => {
    const desk = s.sim.faspex5.addPackage({ title: 'to bob and desk', files: { 'a.txt': 'desk' }, recipients: ['bob', { name: 'Desk', type: 'shared_inbox' }] });
    const team = s.sim.faspex5.addPackage({ title: 'to team', files: { 'a.txt': 'team' }, recipients: [{ name: 'Team', type: 'workgroup' }] });
    await waitFor(() => {
      const titles = manifests(s.env.DOWNLOAD_DIR!).map((m) => m.title);
      return titles.includes('to bob and desk') && titles.includes('to team') ? true : undefined;
    }, { what: 'both box packages on disk', timeoutMs: 60_000 });
    const boxes = s.sim.faspex5.state.boxes;
    const id = (name: string) => [...boxes.values()].find((b) => b.name === name)!.id;
    expect(transfersOf(s.sim, desk.id).map((r) => r.query)).toEqual([expect.objectContaining({ recipient_workgroup_id: id('Desk') })]);
    expect(transfersOf(s.sim, team.id).map((r) => r.query)).toEqual([expect.objectContaining({ recipient_workgroup_id: id('Team') })]);
  });

  it('a completed package whose job was cleaned up is still not fetched again', async () => {
    const pkg = s.sim.faspex5.addPackage({ title: 'kept done', files: { 'a.txt': 'k' }, recipients: [s.sim.credentials.username] });
    await waitFor(() => manifests(s.env.DOWNLOAD_DIR!).find((m) => m.title === 'kept done'), { what: 'the package on disk', timeoutMs: 60_000 });
    // as KEEP_COMPLETED_DAYS would: BullMQ removes the completed job (and its id) for good
    const jobs = await s.redis.keys(`${s.env.QUEUE_PREFIX}:downloads:faspex5-inbox-*${pkg.id}`);
    expect(jobs.length).toBeGreaterThan(0);
    await s.redis.del(...jobs);
    await s.redis.zrem(`${s.env.QUEUE_PREFIX}:downloads:completed`, jobs[0]!.split(':').pop()!);
    const swept = s.sim.faspex5.state.listCalls.length;
    await waitFor(() => s.sim.faspex5.state.listCalls.length >= swept + 6 || undefined, { what: 'more sweeps', timeoutMs: 60_000 });
    expect(transfersOf(s.sim, pkg.id)).toHaveLength(1);
  });
});

describe('run with Faspex 5 boxes: a download that died is found again by the next sweep', { timeout: 150_000 }, () => {
  const s = ownRun('f5resweep', {
    boxes: ['inbox'],
    extra: {
      FASPEX5_SWEEP_SECONDS: '5',
      // one attempt: the ascp that dies at 40 % fails the job for good; only a sweep brings it back
      DOWNLOAD_ATTEMPTS: '1', FAKE_ASCP_FAIL: 'die@40%,ok',
    },
  });

  it('a package whose ascp died mid-transfer (its job failed) is completed by a later sweep, resuming', async () => {
    const pkg = s.sim.faspex5.addPackage({ title: 'died once', files: { 'big.bin': 400_000 }, recipients: [s.sim.credentials.username] });
    const failed = `${s.env.QUEUE_PREFIX}:downloads:failed`;
    await waitFor(async () => (await s.redis.zcard(failed)) === 1 || undefined, { what: 'the job to fail after its one attempt', timeoutMs: 60_000 });
    expect(manifests(s.env.DOWNLOAD_DIR!)).toEqual([]);
    await waitFor(() => manifests(s.env.DOWNLOAD_DIR!).find((m) => m.title === 'died once'), { what: 'the package completed by a sweep', timeoutMs: 90_000 });
    expect(await s.redis.zcard(failed)).toBe(0);
    expect(s.processes[0]!.output()).toMatch(/a failed download the server still lists is tried again by the sweep/);
    // two transfer specs asked for: the first attempt, then the sweep's retry; no third
    expect(transfersOf(s.sim, pkg.id)).toHaveLength(2);
  });
});

describe('run with Faspex 5 boxes: the mail is the trigger, one sweeper per box across processes', { timeout: 150_000 }, () => {
  // a long timer: only a mail can make these packages arrive within the test's deadlines
  const s = ownRun('f5trig', { boxes: ['inbox'], extra: { FASPEX5_SWEEP_SECONDS: '3600' }, processes: ['a', 'b'] });
  const leaseKey = () => `${s.env.QUEUE_PREFIX}:sweep:${new URL(s.sim.baseUrl).host} inbox:lease`;
  /** a link form the extractor does not know, on the server's host */
  const unknownForm = (id: string) => `${new URL(s.sim.baseUrl).origin}/aspera/faspex/app/received/view?package=${id}`;

  it('a mail whose link form is unknown still gets its package downloaded, by a sweep it asks for', async () => {
    const pkg = s.sim.faspex5.addPackage({ title: 'unknown form', files: { 'a.txt': 'u' }, recipients: [s.sim.credentials.username] });
    await s.dovecot.deliver(faspex4Notification({ link: unknownForm(pkg.id), title: 'unknown form' }));
    await waitFor(() => manifests(s.env.DOWNLOAD_DIR!).find((m) => m.title === 'unknown form'), { what: 'the package on disk', timeoutMs: 30_000 });
    expect(await s.redis.hlen(`${s.env.QUEUE_PREFIX}:faspex5:sweep-requests`)).toBe(0);
  });

  it('one process sweeps the box; SIGKILL of it hands the box to the other', async () => {
    const holder = await s.redis.get(leaseKey());
    const pid = Number(/:(\d+)$/.exec(holder ?? '')?.[1]);
    const sweeping = s.processes.find((p) => p.child.pid === pid)!;
    const other = s.processes.find((p) => p !== sweeping)!;
    expect(sweeping).toBeDefined();
    await sweeping.stop('SIGKILL');
    await waitFor(async () => ((await s.redis.get(leaseKey()))?.endsWith(`:${other.child.pid}`) ? true : undefined), { what: 'the other process to take the box', timeoutMs: 30_000 });
    const pkg = s.sim.faspex5.addPackage({ title: 'after handover', files: { 'a.txt': 'h' }, recipients: [s.sim.credentials.username] });
    await s.dovecot.deliver(faspex4Notification({ link: unknownForm(pkg.id), title: 'after handover' }));
    await waitFor(() => manifests(s.env.DOWNLOAD_DIR!).find((m) => m.title === 'after handover'), { what: 'the package on disk', timeoutMs: 45_000 });
  });
});
