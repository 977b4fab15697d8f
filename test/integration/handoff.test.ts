/**
 * ON_COMPLETE_COMMAND and the signed webhook, through the real `run` with a real Redis and
 * Dovecot: a hand-off that fails twice is retried on its own until it succeeds, one that always
 * fails shows as "downloaded, hand-off failed" on the packages page and in `status`, neither
 * downloads anything again, the command sees the package's facts and no secret, its output is
 * logged masked; every webhook delivery (the first refused, so retried) passes the receiver check
 * printed in docs/handoff.md, and a forged or stale one fails it.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/service/redis-server.js';
import { invocations } from '../../src/standins/fake-ascp/records.js';
import { startDovecot, type Dovecot } from '../../src/standins/dovecot.js';
import { createFaspexSim, type FaspexSim } from '../../src/standins/faspex-sim/index.js';
import { faspex4Notification } from '../../src/standins/notification-mail.js';
import { runCli } from '../support/cli.js';
import { serviceEnv } from '../support/service-env.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

type Verify = (header: unknown, rawBody: Buffer | string, secret: string, toleranceSeconds?: number, now?: number) => boolean;

/** The receiver check exactly as docs/handoff.md prints it. */
async function documentedReceiver(dir: string): Promise<Verify> {
  const doc = readFileSync(new URL('../../docs/handoff.md', import.meta.url), 'utf8');
  const block = /<!-- receiver:start -->\n```js\n([\s\S]*?)```\n<!-- receiver:end -->/.exec(doc);
  if (!block) throw new Error('docs/handoff.md has no receiver block');
  expect(block[1]!.trim().split('\n')).toHaveLength(6); // the import and five lines
  const file = join(dir, 'receiver.mjs');
  writeFileSync(file, block[1]!);
  return ((await import(pathToFileURL(file).href)) as { verifySignature: Verify }).verifySignature;
}

describe('hand-off command and signed webhook', () => {
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let service: ServiceProcess;
  let receiver: Server;
  let env: Record<string, string>;
  let verify: Verify;
  let handoffs: Queue;
  let downloads: Queue;
  let redis: Redis;
  const prefix = uniqueName('handoff');
  const secret = `whsec-${uniqueName('s')}`;
  const deliveries: { raw: Buffer; headers: IncomingHttpHeaders }[] = [];
  let refused = 0;
  const dir = tempDir('handoff');
  const runs = join(dir.path, 'handoff-runs.jsonl');
  let dashboardPort: number;

  beforeAll(async () => {
    verify = await documentedReceiver(dir.path);
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        // the first delivery is refused, as a receiver that is briefly down would
        if (refused++ === 0) return void res.writeHead(503).end();
        const raw = Buffer.concat(chunks);
        deliveries.push({ raw, headers: req.headers });
        res.writeHead(verify(req.headers['x-faspex-ingest-signature'], raw, secret) ? 204 : 401).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    [dovecot, sim] = await Promise.all([startDovecot(), createFaspexSim()]);
    // Flaky fails its first two runs; Doomed always fails, printing a secret it should not know
    const script = join(dir.path, 'on-complete.mjs');
    writeFileSync(script, `#!/usr/bin/env node
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
const runs = ${JSON.stringify(runs)};
const before = existsSync(runs) ? readFileSync(runs, 'utf8').split('\\n').filter((l) => l.includes(JSON.stringify(process.env.FASPEX_INGEST_TITLE))).length : 0;
appendFileSync(runs, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), env: process.env }) + '\\n');
console.log('handing off ' + process.env.FASPEX_INGEST_TITLE);
if (process.env.FASPEX_INGEST_TITLE === 'Doomed') { console.error('archive refused: password=${sim.credentials.password}'); process.exit(3); }
if (process.env.FASPEX_INGEST_TITLE === 'Flaky' && before < 2) process.exit(2);
`);
    chmodSync(script, 0o755);
    dashboardPort = await freePort();
    env = serviceEnv({
      redisUrl: inject('redisUrl'), prefix, dovecot, sim, dir: dir.path, dashboardPort,
      extra: {
        COMPLETION_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/faspex`,
        COMPLETION_WEBHOOK_SECRET: secret,
        ON_COMPLETE_COMMAND: JSON.stringify([script, 'an argument with spaces; $(no shell)']),
        ON_COMPLETE_TIMEOUT_SECONDS: '60',
      },
    });
    service = startServiceProcess(['run'], env, dir.path);
    await waitFor(() => service.output().includes('running;'), { what: 'the service', timeoutMs: 60_000 });
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    handoffs = new Queue('handoffs', { connection: redis, prefix });
    downloads = new Queue('downloads', { connection: redis, prefix });
  }, 120_000);

  afterAll(async () => {
    await service?.stop('SIGKILL');
    await Promise.all([handoffs?.close(), downloads?.close()]);
    redis?.disconnect();
    await Promise.all([dovecot?.stop(), sim?.close(), new Promise((r) => receiver?.close(r))]);
    dir.remove();
  });

  const runsOf = (title: string) =>
    existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { argv: string[]; cwd: string; env: Record<string, string> }).filter((r) => r.env.FASPEX_INGEST_TITLE === title) : [];

  it('retries a failing hand-off on its own, never downloading again, and shows one that keeps failing', async () => {
    const flaky = sim.addPackage({ title: 'Flaky', files: { 'cut.mov': 200_000 } });
    const doomed = sim.addPackage({ title: 'Doomed', files: { 'audio.wav': 100_000 } });
    await dovecot.deliver(faspex4Notification({ link: flaky.links.external, title: 'Flaky' }));
    await dovecot.deliver(faspex4Notification({ link: doomed.links.external, title: 'Doomed' }));

    // Flaky: two failed runs, then done
    const flakyJob = await waitFor(async () => {
      const jobs = await handoffs.getJobs(['completed'], 0, 10);
      return jobs.find((j) => (j.data as { title?: string }).title === 'Flaky');
    }, { what: 'the Flaky hand-off to succeed', timeoutMs: 90_000 });
    expect(flakyJob.attemptsMade).toBe(3);
    expect(runsOf('Flaky')).toHaveLength(3);

    // Doomed: failed for good after its 5 attempts
    const doomedJob = await waitFor(async () => {
      const jobs = await handoffs.getJobs(['failed'], 0, 10);
      return jobs.find((j) => (j.data as { title?: string }).title === 'Doomed');
    }, { what: 'the Doomed hand-off to fail for good', timeoutMs: 120_000 });
    expect(doomedJob.attemptsMade).toBe(5);
    expect(runsOf('Doomed')).toHaveLength(5);

    // each package was transferred once: the hand-off retries never touched the download
    expect(invocations(env.FAKE_ASCP_STATE_DIR!)).toHaveLength(2);
    const done = await downloads.getJobs(['completed'], 0, 10);
    expect(done).toHaveLength(2);
    for (const j of done) expect(j.attemptsMade).toBe(1);

    // the command: argv as given (no shell), the package's facts, nothing secret
    const run = runsOf('Flaky')[0]!;
    expect(run.argv).toEqual(['an argument with spaces; $(no shell)']);
    const folder = run.env.FASPEX_INGEST_PACKAGE_DIR!;
    expect(run.cwd).toBe(folder);
    expect(run.env).toMatchObject({ FASPEX_INGEST_MANIFEST: join(folder, 'faspex-package.json'), FASPEX_INGEST_INBOX: 'default', FASPEX_INGEST_SENDER: expect.any(String) });
    expect(JSON.parse(readFileSync(run.env.FASPEX_INGEST_MANIFEST!, 'utf8'))).toMatchObject({ title: 'Flaky' });
    const seen = JSON.stringify([...runsOf('Flaky'), ...runsOf('Doomed')].map((r) => r.env));
    for (const s of [env.IMAP_PASSWORD!, env.FASPEX_PASSWORD!, secret, env.REDIS_URL!, flaky.externalPasscode, doomed.externalPasscode]) expect(seen).not.toContain(s);
    expect(Object.keys(run.env).filter((k) => /PASSWORD|SECRET|REDIS|WEBHOOK|TOKEN|IMAP|ASPERA/.test(k))).toEqual([]);

    // its output is in the log, masked
    await waitFor(() => service.output().includes('archive refused'), { what: 'the command output in the log' });
    expect(service.output()).not.toContain(`password=${sim.credentials.password}`);
    expect(service.output()).toMatch(/archive refused: password=\*\*\*/);

    // shown as "downloaded, hand-off failed": status …
    const status = await runCli(['status', '--json'], { env: { ...env, DASHBOARD_PORT: '0' }, cwd: dir.path });
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as { queues: Record<string, { failed: number; completed: number }>; jobs: { title: string; state: string; reason: string | null; handoff: { state: string; reason: string | null } | null }[] };
    expect(report.queues.handoffs).toMatchObject({ failed: 1, completed: 1 });
    const byTitle = Object.fromEntries(report.jobs.map((j) => [j.title, j]));
    expect(byTitle.Doomed).toMatchObject({ state: 'completed', handoff: { state: 'failed' } });
    expect(byTitle.Doomed!.reason).toMatch(/^downloaded, hand-off failed: ON_COMPLETE_COMMAND \(.*on-complete\.mjs\) exited with status 3; its last output: archive refused: password=\*\*\* \[HANDOFF_FAILED\]$/);
    expect(byTitle.Flaky).toMatchObject({ state: 'completed', reason: null, handoff: { state: 'done' } });
    const text = await runCli(['status'], { env: { ...env, DASHBOARD_PORT: '0' }, cwd: dir.path });
    expect(text.stdout).toMatch(/downloaded, hand-off failed: ON_COMPLETE_COMMAND/);
    // … and the packages page
    const page = await (await fetch(`http://127.0.0.1:${dashboardPort}/`)).text();
    expect(page).toContain('downloaded, hand-off failed');
    expect(page).toContain('The package is downloaded; ON_COMPLETE_COMMAND failed on it.');
    expect(page).not.toContain(sim.credentials.password);
  }, 240_000);

  it('signs every webhook delivery so the documented receiver takes it, and refuses forged or stale ones', async () => {
    await waitFor(() => deliveries.length >= 2, { what: 'two webhook deliveries', timeoutMs: 60_000 });
    expect(refused).toBeGreaterThan(2); // the refused first try was retried
    for (const d of deliveries) {
      const header = d.headers['x-faspex-ingest-signature'] as string;
      expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verify(header, d.raw, secret)).toBe(true);
      const t = Number(/t=(\d+)/.exec(header)![1]);
      expect(Math.abs(Date.now() / 1000 - t)).toBeLessThan(600);
      // forged: another body, another key, a signature without its timestamp, none at all
      expect(verify(header, Buffer.from(d.raw.toString().replace('Flaky', 'Fl4ky').replace('Doomed', 'D00med')), secret)).toBe(false);
      expect(verify(header, d.raw, 'not-the-secret')).toBe(false);
      expect(verify(header.replace(/^t=\d+,/, ''), d.raw, secret)).toBe(false);
      expect(verify(undefined, d.raw, secret)).toBe(false);
      expect(verify(`t=${t + 1},${header.split(',')[1]}`, d.raw, secret)).toBe(false);
      // stale: a replay an hour later
      expect(verify(header, d.raw, secret, 300, t + 3600)).toBe(false);
    }
    const events = deliveries.map((d) => (JSON.parse(d.raw.toString()) as { event: string; manifest?: { title: string } }));
    expect(events.filter((e) => e.event === 'package.completed').map((e) => e.manifest!.title).sort()).toEqual(['Doomed', 'Flaky']);
  }, 120_000);
});

describe('a crash between the download and the hand-off', () => {
  const dir = tempDir('handoff-crash');
  const runs = join(dir.path, 'runs.txt');
  let dovecot: Dovecot;
  let sim: FaspexSim;
  let current: ServiceProcess | undefined;

  beforeAll(async () => {
    [dovecot, sim] = await Promise.all([startDovecot(), createFaspexSim()]);
  }, 60_000);

  afterAll(async () => {
    await current?.stop('SIGKILL');
    await Promise.all([dovecot?.stop(), sim?.close()]);
    dir.remove();
  });

  it('neither loses the hand-off nor downloads twice', async () => {
    const script = join(dir.path, 'on-complete.sh');
    writeFileSync(script, `#!/bin/sh\necho "$FASPEX_INGEST_TITLE" >> ${JSON.stringify(runs)}\n`);
    chmodSync(script, 0o755);
    const env = serviceEnv({ redisUrl: inject('redisUrl'), prefix: uniqueName('handoff-crash'), dovecot, sim, dir: dir.path, extra: { ON_COMPLETE_COMMAND: JSON.stringify([script]) } });
    // killed (SIGKILL, as a power cut) after the manifest is written, before the hand-off is queued
    current = startServiceProcess(['run'], { ...env, FASPEX_INGEST_FAILPOINTS: 'handoff.before-enqueue' }, dir.path);
    await waitFor(() => current!.output().includes('running;'), { what: 'the service', timeoutMs: 60_000 });
    const pkg = sim.addPackage({ title: 'Crashed', files: { 'take1.mov': 150_000 } });
    await dovecot.deliver(faspex4Notification({ link: pkg.links.external, title: 'Crashed' }));
    await waitFor(() => current!.output().includes('failpoint handoff.before-enqueue'), { what: 'the crash', timeoutMs: 60_000 });
    await current.stop('SIGKILL');
    expect(existsSync(runs)).toBe(false);

    current = startServiceProcess(['run'], env, dir.path);
    await waitFor(() => existsSync(runs) && readFileSync(runs, 'utf8').includes('Crashed'), { what: 'the hand-off after the restart', timeoutMs: 90_000 });
    // the download job ran again, found its manifest and queued the hand-off: one transfer, one run
    expect(invocations(env.FAKE_ASCP_STATE_DIR!)).toHaveLength(1);
    expect(readFileSync(runs, 'utf8')).toBe('Crashed\n');
  }, 240_000);
});
