/**
 * The dashboard over real HTTP against a real Redis: login, what the board shows (and what it
 * must never show), read-only enforcement, /healthz with Redis up and down, /metrics.
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { createDashboardApp, startDashboard, type DashboardOptions, type RunningDashboard } from '../../src/dashboard/index.js';
import { createLogger } from '../../src/log/logger.js';
import { QUEUE } from '../../src/queue/queues.js';
import { createHealthCheck, queuePingProbe, redisPingProbe } from '../../src/service/health.js';
import { createMetrics } from '../../src/service/metrics.js';
import { startRedisServer } from '../../src/service/redis-server.js';
import { tempDir, uniqueName, waitFor } from '../support/temp.js';

const USER = 'ops';
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const AUTH = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
const PASSCODE = randomBytes(20).toString('hex');
const LINK = `https://fx.example.com/aspera/faspex/external_deliveries/1?passcode=${PASSCODE}`;
const logger = createLogger({ level: 'silent' });

function dashboardConfig(overrides: Partial<Config['dashboard']> = {}): Config['dashboard'] {
  return { host: '127.0.0.1', port: 0, user: USER, password: PASSWORD, readOnly: false, ...overrides };
}

function jobData(link = LINK) {
  return {
    link,
    kind: 'faspex4-external',
    server: 'fx.example.com',
    packageId: '1',
    source: { type: 'mail', mailbox: 'INBOX', uid: 7, subject: `Package ready: ${link}` },
    queuedAt: new Date().toISOString(),
  };
}

/** nests `leaf` `depth` levels down: deeper than maskDeep's own limit */
function nested(depth: number, leaf: unknown): unknown {
  return depth === 0 ? leaf : { level: nested(depth - 1, leaf) };
}

let connection: Redis;
const running: RunningDashboard[] = [];
const queues: Queue[] = [];

beforeAll(() => {
  connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.close()));
  await Promise.all(queues.splice(0).map(async (q) => {
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }));
});
afterAll(async () => {
  await connection.quit();
});

function newQueue(label: string, conn: Redis = connection): Queue {
  const queue = new Queue(`${QUEUE.downloads}-${uniqueName(label)}`, { connection: conn });
  queues.push(queue);
  return queue;
}

async function start(options: Partial<DashboardOptions> & { queues: Queue[] }): Promise<RunningDashboard> {
  const dashboard = await startDashboard({
    config: dashboardConfig(),
    metrics: createMetrics({ defaultMetrics: false }),
    health: createHealthCheck({ redis: redisPingProbe(connection) }),
    logger,
    ...options,
  });
  running.push(dashboard);
  return dashboard;
}

describe('login', () => {
  it('asks for credentials on the board, its API and its static assets, and not on /healthz and /metrics', async () => {
    const queue = newQueue('auth');
    const d = await start({ queues: [queue] });
    const page = await fetch(d.url);
    expect(page.status).toBe(401);
    expect(page.headers.get('www-authenticate')).toMatch(/^Basic realm="faspex-ingest"/);
    for (const path of ['packages/live', 'packages/assets/packages.css', `queue/${queue.name}`]) expect((await fetch(new URL(path, d.url))).status, path).toBe(401);

    const html = await (await fetch(new URL(`queue/${queue.name}`, d.url), { headers: AUTH })).text();
    const asset = /(?:src|href)="[^"]*?(static\/js\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset, 'the board page links its scripts').toBeTruthy();
    for (const path of [asset!, 'api/queues', 'api/redis/stats', 'queue/x']) {
      expect((await fetch(new URL(path, d.url))).status, path).toBe(401);
      expect((await fetch(new URL(path, d.url), { headers: AUTH })).status, path).toBe(200);
    }
    const wrong = { authorization: `Basic ${Buffer.from(`${USER}:nope`).toString('base64')}` };
    expect((await fetch(new URL('api/queues', d.url), { headers: wrong })).status).toBe(401);

    expect((await fetch(new URL('healthz', d.url))).status).toBe(200);
    expect((await fetch(new URL('metrics', d.url))).status).toBe(200);
  });

  it('refuses to serve beyond loopback without a login, even when config validation was bypassed', () => {
    const options = { queues: [], metrics: createMetrics({ defaultMetrics: false }), health: async () => ({}) as never, logger };
    expect(() => createDashboardApp({ ...options, config: dashboardConfig({ host: '0.0.0.0', user: undefined, password: undefined }) })).toThrow(/DASHBOARD_USER/);
    expect(() => createDashboardApp({ ...options, config: dashboardConfig({ host: '127.0.0.1', user: undefined, password: undefined }) })).not.toThrow();
    expect(() => createDashboardApp({ ...options, config: dashboardConfig({ host: '0.0.0.0' }) })).not.toThrow();
  });
});

describe('the board', () => {
  it('lists the queues and their jobs with every passcode masked, wherever it hides', async () => {
    const queue = newQueue('mask');
    const other = newQueue('other');
    // First a failure whose message quotes the link, as a careless error would; the worker is
    // closed before the other jobs are added so they stay waiting.
    const failing = await queue.add('download', jobData(), { attempts: 1 });
    const worker = new Worker(queue.name, async () => {
      throw new Error(`could not open ${LINK}`);
    }, { connection });
    try {
      await waitFor(async () => (await failing.getState()) === 'failed', { what: 'the failing job to fail' });
    } finally {
      await worker.close();
    }
    const waiting = await queue.add('download', jobData(), { jobId: 'faspex4-external-fx.example.com-1' });
    await waiting.log(`resolving ${LINK}`);
    const odd = await queue.add(`download ${LINK}`, { ...jobData(), token: 'tok-secret-value', deep: nested(16, LINK) });

    const d = await start({ queues: [queue, other] });
    const get = async (path: string) => {
      const res = await fetch(new URL(path, d.url), { headers: AUTH });
      expect(res.status, path).toBe(200);
      return res.text();
    };
    const q = encodeURIComponent(queue.name);
    const bodies = {
      list: await get(`api/queues?activeQueue=${q}&status=latest&jobsPerPage=50`),
      failed: await get(`api/queues?activeQueue=${q}&status=failed`),
      job: await get(`api/queues/${q}/${waiting.id}`),
      odd: await get(`api/queues/${q}/${odd.id}`),
      failedJob: await get(`api/queues/${q}/${failing.id}`),
      logs: await get(`api/queues/${q}/${waiting.id}/logs`),
      page: await get(`queue/${q}/${waiting.id}`),
    };

    const list = JSON.parse(bodies.list) as { queues: { name: string; jobs: { id: string; data: { link: string } }[] }[] };
    expect(list.queues.map((x) => x.name).sort()).toEqual([queue.name, other.name].sort());
    const shown = list.queues.find((x) => x.name === queue.name)!.jobs.find((j) => j.id === waiting.id)!;
    expect(shown.data.link).toBe('https://fx.example.com/aspera/faspex/external_deliveries/1?passcode=***');
    expect(bodies.failed).toContain('could not open https://fx.example.com');
    expect(bodies.logs).toContain('passcode=***');
    for (const [name, body] of Object.entries(bodies)) {
      expect(body.includes(PASSCODE), `${name} shows the passcode`).toBe(false);
      expect(body.includes('tok-secret-value'), `${name} shows the token`).toBe(false);
      expect(body.includes(PASSWORD), `${name} shows the dashboard password`).toBe(false);
    }
  });

  it('refuses retry and clean with 405 when read-only; refuses editing masked data even when writable', async () => {
    const queue = newQueue('ro');
    const job = await queue.add('download', jobData());
    const q = encodeURIComponent(queue.name);
    const readOnly = await start({ queues: [queue], config: dashboardConfig({ readOnly: true }) });
    for (const path of [`api/queues/${q}/retry/failed`, `api/queues/${q}/clean/completed`, `api/queues/${q}/${job.id}/clean`, `api/queues/${q}/pause`]) {
      const res = await fetch(new URL(path, readOnly.url), { method: 'PUT', headers: AUTH });
      expect(res.status, path).toBe(405);
    }
    expect(await job.getState()).toBe('waiting');

    const writable = await start({ queues: [queue] });
    const edit = await fetch(new URL(`api/queues/${q}/${job.id}/update-data`, writable.url), {
      method: 'PATCH',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { link: 'https://fx.example.com/aspera/faspex/external_deliveries/1?passcode=***' } }),
    });
    expect(edit.status).toBe(405);
    expect((await queue.getJob(job.id!))!.data.link).toBe(LINK);
    const clean = await fetch(new URL(`api/queues/${q}/clean/completed`, writable.url), { method: 'PUT', headers: AUTH });
    expect(clean.status).toBe(200);
  });
});

describe('/healthz', () => {
  it('answers 200 while its Redis answers and 503 once that Redis is gone', async () => {
    const dir = tempDir('health-redis');
    const server = await startRedisServer({ dir: dir.path });
    const own = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    own.on('error', () => undefined); // refused connections are the point of this test
    // Not in `queues`: the shared clean-up would wait forever on the Redis this test stops.
    const queue = new Queue(uniqueName('health'), { connection: own });
    queue.on('error', () => undefined);
    try {
      const metrics = createMetrics({ defaultMetrics: false, jobCountsTimeoutMs: 300 });
      metrics.watchQueues([queue]);
      const d = await start({ queues: [queue], metrics, health: createHealthCheck({ redis: queuePingProbe(queue), timeoutMs: 500 }) });
      const up = await fetch(new URL('healthz', d.url));
      expect(up.status, JSON.stringify(await up.clone().json())).toBe(200);
      expect(await (await fetch(new URL('metrics', d.url))).text()).toContain(`faspex_ingest_jobs{queue="${queue.name}",state="waiting"} 0`);
      expect(await up.json()).toMatchObject({ status: 'ok', checks: { redis: { status: 'ok' }, imap: { status: 'skipped' }, workers: { status: 'skipped' } } });

      await server.stop();
      const down = await fetch(new URL('healthz', d.url));
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: 'down', checks: { redis: { status: 'down' } } });
      // /metrics still answers, without the job counts it could not read (rather than stale ones).
      const scrape = await fetch(new URL('metrics', d.url));
      expect(scrape.status).toBe(200);
      const text = await scrape.text();
      expect(text).toContain('faspex_ingest_mails_read_total 0');
      expect(text).not.toContain('faspex_ingest_jobs{');
    } finally {
      own.disconnect();
      await queue.close();
      await server.stop();
      dir.remove();
    }
  });
});

describe('/metrics', () => {
  it('serves Prometheus text with the service counters and live job counts', async () => {
    const queue = newQueue('metrics');
    await queue.add('download', jobData());
    await queue.add('download', jobData(), { delay: 60_000 });
    const metrics = createMetrics();
    metrics.watchQueues([queue]);
    metrics.mailsRead.inc(3);
    metrics.packagesFailed.inc({ code: 'LINK_EXPIRED' });
    metrics.downloadDuration.observe(42);
    const d = await start({ queues: [queue], metrics });

    const res = await fetch(new URL('metrics', d.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const samples = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|[Nn]a[Nn]|\+Inf|-Inf)$/.exec(line);
      expect(m, `not a sample line: ${line}`).toBeTruthy();
      samples.set(m![1]!, Number(m![2]));
    }
    expect(samples.get('faspex_ingest_mails_read_total')).toBe(3);
    expect(samples.get('faspex_ingest_packages_failed_total{code="LINK_EXPIRED"}')).toBe(1);
    expect(samples.get('faspex_ingest_download_duration_seconds_count')).toBe(1);
    expect(samples.get(`faspex_ingest_jobs{queue="${queue.name}",state="waiting"}`)).toBe(1);
    expect(samples.get(`faspex_ingest_jobs{queue="${queue.name}",state="delayed"}`)).toBe(1);
    expect(samples.get(`faspex_ingest_jobs{queue="${queue.name}",state="failed"}`)).toBe(0);
    expect(samples.has('process_cpu_user_seconds_total')).toBe(true);
  });
});
